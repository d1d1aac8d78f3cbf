"""Run the CI examples (examples/ci/) here, as their CI would as far as the outcome goes:
each job in a workspace of its own, its conformance commands in bash, exactly as written,
and what passes between jobs simulated from what the files declare: a checkout, artifacts
(upload, download, GitLab's `needs`), the history cache, `if:`/`rules:`/`when:`.

Never run: installing conformance and building the SDK under test (GitHub: the `run:`
steps named in PLUMBING; GitLab: `before_script:`). The `conformance` on PATH is a shim
for this checkout's code, which makes the commands quick: `run` gets QUICK_RUN (the files
ask for the nightly fuzzing budget, a test has seconds), `sdk` QUICK_SDK (two of its 33
adapter calls: the gate itself is tested in test_sdk.py, here its wiring).
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import conformance

SRC = Path(conformance.__file__).resolve().parents[1]

# the `run:` steps (GitHub) that are CI plumbing: the tests check each exists, and skip it
PLUMBING = frozenset({"Install conformance", "Build and install the SDK under test"})

# appended to the files' commands (shell words): the quick budget, no pytest cache
QUICK_RUN = "--profile dev --max-examples 3 -p no:cacheprovider"
QUICK_SDK = "-k 'documented_example or unknown_account' -p no:cacheprovider"

FORKSERVER_SCRIPT = Path(__file__).resolve().with_name("forkserver.py")
FORKSERVER: str | None = None  # the socket of a running fork server (set by the tests' fixture)

Select = Callable[[str, dict[str, Any]], bool]  # (job, its matrix values) -> run it?


@dataclass
class Ran:
    """One script run: a GitHub `run:` step, or a GitLab job's `script:`."""

    job: str  # the job, with its matrix values: "shard (answers)"
    name: str
    code: int
    stdout: str
    stderr: str
    summary: str = ""  # what it appended to $GITHUB_STEP_SUMMARY

    def __str__(self) -> str:
        return f"{self.job} / {self.name}: exit {self.code}\n{self.stdout[-3000:]}\n{self.stderr[-3000:]}"


@dataclass
class Outcome:
    ran: list[Ran] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # plumbing not run, and steps or jobs skipped
    artifacts: dict[str, Path] = field(default_factory=dict)  # name -> its files
    reports: dict[str, dict[str, Path]] = field(default_factory=dict)  # GitLab: job -> kind -> file
    failed_jobs: set[str] = field(default_factory=set)

    def step(self, prefix: str) -> list[Ran]:
        return [r for r in self.ran if r.name.startswith(prefix) or r.job.startswith(prefix)]


def shim(directory: Path) -> Path:
    """A bin directory whose `conformance` is this checkout's, `run` and `sdk` made quick;
    forked from the fork server at $CONFORMANCE_TEST_FORKSERVER when one is listening
    (tests/forkserver.py), else started afresh."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "conformance"
    script.write_text(
        "#!/usr/bin/env bash\n"
        'case "$1" in\n'
        '  run) eval "set -- \\"\\$@\\" $CONFORMANCE_TEST_RUN" ;;\n'
        '  sdk) eval "set -- \\"\\$@\\" $CONFORMANCE_TEST_SDK" ;;\n'
        "esac\n"
        'if [ -S "${CONFORMANCE_TEST_FORKSERVER:-}" ]; then\n'
        f'  exec "{sys.executable}" -I "{FORKSERVER_SCRIPT}" "$CONFORMANCE_TEST_FORKSERVER" "$@"\n'
        "fi\n"
        f'exec "{sys.executable}" -m conformance.cli "$@"\n'
    )
    script.chmod(0o755)
    return directory


def base_env(bin_dir: Path) -> dict[str, str]:
    """The machine's environment without any key, target or CI variable of its own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "STRIPE_API_KEY" and not k.startswith(("CONFORMANCE_", "GITHUB_", "CI_", "GITLAB_"))
    }
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    env.update(CONFORMANCE_TEST_RUN=QUICK_RUN, CONFORMANCE_TEST_SDK=QUICK_SDK)
    if FORKSERVER is not None:
        env["CONFORMANCE_TEST_FORKSERVER"] = FORKSERVER
    env["CI"] = "true"
    return env


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`shell: bash` of GitHub (and what a GitLab runner's bash does with a failing line)."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _copy(source: Path, dest: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, dest, dirs_exist_ok=True)
    elif source.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)


def _label(job: str, values: dict[str, Any]) -> str:
    return f"{job} ({', '.join(map(str, values.values()))})" if values else job


# ---------------------------------------------------------------- GitHub Actions

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_CONTEXT_PATH = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+")
_HASH_FILES = re.compile(r"hashFiles\('([^']+)'\)\s*!=\s*''")


def _operand(operand: str, contexts: dict[str, dict[str, Any]]) -> str:
    if len(operand) >= 2 and operand[0] == operand[-1] == "'":
        return operand[1:-1].replace("''", "'")
    if _CONTEXT_PATH.fullmatch(operand):
        head, *rest = operand.split(".")
        value: Any = contexts[head]  # a context the runner does not know: teach it
        for part in rest:
            value = value.get(part, "") if isinstance(value, dict) else ""
        return str(value)
    raise ValueError(f"an expression the test runner does not know: {operand!r}")


def expand(text: Any, contexts: dict[str, dict[str, Any]]) -> str:
    """``${{ a.b || 'literal' }}`` expressions: context values and `||` fallbacks only."""

    def one(match: re.Match[str]) -> str:
        value = ""
        for operand in (o.strip() for o in match.group(1).split("||")):
            value = _operand(operand, contexts)
            if value:
                break
        return value

    return _EXPR.sub(one, str(text))


def runs(condition: Any, failed: bool, workspace: Path) -> bool:
    """Whether a step (or job) with this `if:` runs after a failure (`failed`) or not."""
    if condition is None:
        return not failed
    text = str(condition).strip()
    text = text[3:-2].strip() if text.startswith("${{") and text.endswith("}}") else text
    status: bool | None = None
    holds = True
    for part in (p.strip() for p in text.split("&&")):
        if part == "always()":
            status = True
        elif part == "success()":
            status = not failed
        elif part == "failure()":
            status = failed
        elif match := _HASH_FILES.fullmatch(part):
            holds = holds and any(workspace.glob(match.group(1)))
        else:
            raise ValueError(f"a condition the test runner does not know: {part!r}")
    return (not failed if status is None else status) and holds


class GitHub:
    """One workflow file; the Actions cache outlives a run, as it does on GitHub."""

    def __init__(self, path: Path, tmp: Path, repo: Path, *, variables: dict[str, str]) -> None:
        self.workflow: dict[str, Any] = yaml.safe_load(path.read_text())
        self.tmp, self.repo, self.variables = tmp, repo, variables
        self.cache: dict[str, Path] = {}  # key -> saved files, oldest first
        self.bin = shim(tmp / "bin")

    def run(
        self,
        run_id: str,
        *,
        jobs: set[str] | None = None,
        select: Select | None = None,
        artifacts: dict[str, Path] | None = None,
    ) -> Outcome:
        """The workflow's jobs in order (or only ``jobs``; ``artifacts`` stand for those of
        jobs not run), each matrix entry that ``select`` keeps."""
        outcome = Outcome(artifacts=dict(artifacts or {}))
        failed_jobs: set[str] = set()
        for name, job in self.workflow["jobs"].items():
            if jobs is not None and name not in jobs:
                continue
            needs = job.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            if not runs(job.get("if"), any(n in failed_jobs for n in needs), self.tmp):
                outcome.skipped.append(name)
                continue
            matrix = (job.get("strategy") or {}).get("matrix") or {}
            assert set(matrix) <= {"include"}, "the runner expands `matrix: include:` only"
            for index, values in enumerate(matrix.get("include") or [{}]):
                if select is not None and not select(name, values):
                    continue
                workspace = self.tmp / f"run-{run_id}" / f"{name}-{index}"
                workspace.mkdir(parents=True)
                contexts = {
                    "matrix": values,
                    "secrets": {},  # STRIPE_API_KEY unset: the embedded mock's key is sent
                    "vars": self.variables,
                    "github": {"run_id": run_id, "run_attempt": "1", "workspace": str(workspace)},
                }
                if not self._job(_label(name, values), job, workspace, contexts, outcome):
                    failed_jobs.add(name)
        outcome.failed_jobs = failed_jobs
        return outcome

    def _job(self, label: str, job: dict, workspace: Path, contexts: dict, outcome: Outcome) -> bool:
        env = base_env(self.bin)
        for scope in (self.workflow.get("env") or {}, job.get("env") or {}):
            env.update({k: expand(v, contexts) for k, v in scope.items()})
        env.update(GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(workspace))
        failed = False
        for number, step in enumerate(job["steps"]):
            name = expand(step.get("name") or step.get("uses") or step.get("run"), contexts)
            if not runs(step.get("if"), failed, workspace):
                outcome.skipped.append(f"{label} / {name}")
                continue
            if "uses" in step:
                self._action(
                    step["uses"],
                    {k: expand(v, contexts) for k, v in (step.get("with") or {}).items()},
                    workspace,
                    outcome,
                )
                continue
            if name in PLUMBING:
                outcome.skipped.append(f"{label} / {name}")
                continue
            summary = workspace.parent / f"{workspace.name}-step-{number}-summary.md"
            summary.touch()
            step_env = {**env, **{k: expand(v, contexts) for k, v in (step.get("env") or {}).items()}}
            step_env["GITHUB_STEP_SUMMARY"] = str(summary)
            proc = bash(expand(step["run"], contexts), workspace, step_env)
            outcome.ran.append(
                Ran(label, name, proc.returncode, proc.stdout, proc.stderr, summary.read_text())
            )
            failed = failed or proc.returncode != 0
        return not failed

    def _action(self, uses: str, given: dict[str, str], workspace: Path, outcome: Outcome) -> None:
        action = uses.split("@")[0]
        if action == "actions/checkout":
            shutil.copytree(self.repo, workspace, dirs_exist_ok=True)
        elif action == "actions/setup-python":
            pass
        elif action == "actions/upload-artifact":
            name = given.get("name", "artifact")
            assert name not in outcome.artifacts, f"two artifacts named {name}: the second upload fails"
            stored = self.tmp / "artifacts" / f"{workspace.parent.name}-{name}"
            stored.mkdir(parents=True)
            source = workspace / given["path"]
            _copy(source, stored if source.is_dir() else stored / source.name)
            outcome.artifacts[name] = stored  # empty when the path held nothing (a warning there)
        elif action == "actions/download-artifact":
            dest = workspace / given.get("path", ".")
            if "name" in given:
                _copy(outcome.artifacts[given["name"]], dest)
            else:
                for name in fnmatch.filter(outcome.artifacts, given.get("pattern", "*")):
                    _copy(outcome.artifacts[name], dest / name)
        elif action == "actions/cache/restore":
            keys = [given["key"], *given.get("restore-keys", "").split()]
            hit = next((k for k in keys[:1] if k in self.cache), None) or next(
                (k for prefix in keys[1:] for k in reversed(self.cache) if k.startswith(prefix)), None
            )
            if hit is not None:
                _copy(self.cache[hit], workspace / given["path"])
        elif action == "actions/cache/save":
            if given["key"] not in self.cache:  # a key is written once
                saved = self.tmp / "cache" / given["key"] / Path(given["path"]).name
                _copy(workspace / given["path"], saved)
                self.cache[given["key"]] = saved
        else:
            raise ValueError(f"an action the test runner does not know: {uses}")


# ---------------------------------------------------------------- GitLab CI

_KEYWORDS = {"stages", "variables", "default", "workflow", "include", "image", "services", "cache"}
_KEYWORDS |= {"before_script", "after_script"}
_VARIABLE = re.compile(r"\$\{?(\w+)\}?")


def _comparison(text: str, variables: dict[str, str]) -> bool:
    match = re.fullmatch(r"\$(\w+)\s*(==|!=|=~)\s*(\"[^\"]*\"|/.*/)", text.strip())
    if match is None:
        raise ValueError(f"a rule the test runner does not know: {text!r}")
    name, operator, operand = match.groups()
    value = variables.get(name)
    if operator == "=~":
        return value is not None and re.search(operand[1:-1], value) is not None
    return (value == operand[1:-1]) == (operator == "==")


def rule_when(job: dict[str, Any], variables: dict[str, str]) -> str | None:
    """The `when` of the job's first rule that matches, None when it is not in the pipeline."""
    if "rules" not in job:
        return job.get("when", "on_success")
    for rule in job["rules"]:
        if "if" not in rule or _comparison(rule["if"], variables):
            when = rule.get("when", "on_success")
            return None if when == "never" else when
    return None


class GitLab:
    """One .gitlab-ci.yml; the runner cache outlives a pipeline, as it does on GitLab."""

    def __init__(self, path: Path, tmp: Path, repo: Path, *, variables: dict[str, str]) -> None:
        self.doc: dict[str, Any] = yaml.safe_load(path.read_text())
        self.tmp, self.repo, self.project_variables = tmp, repo, variables
        self.cache: dict[str, Path] = {}
        self.bin = shim(tmp / "bin")

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        jobs = {k: v for k, v in self.doc.items() if k not in _KEYWORDS and not k.startswith(".")}
        assert not any("extends" in j for j in jobs.values()), "the runner does not resolve extends"
        return jobs

    def run(
        self,
        predefined: dict[str, str],
        *,
        jobs: set[str] | None = None,
        select: Select | None = None,
        artifacts: dict[str, Path] | None = None,
    ) -> Outcome:
        """The pipeline's jobs, stage by stage, for these predefined variables
        (CI_PIPELINE_SOURCE, CI_PIPELINE_ID, CI_COMMIT_TAG)."""
        outcome = Outcome(artifacts=dict(artifacts or {}))
        stages = self.doc.get("stages", ["build", "test", "deploy"])
        failed: set[str] = set()
        done: list[str] = []
        for stage in stages:
            for name, job in self.jobs.items():
                if job.get("stage", "test") != stage or (jobs is not None and name not in jobs):
                    continue
                when = rule_when(job, {**predefined, **self.project_variables})
                needs = [n if isinstance(n, str) else n["job"] for n in job.get("needs", done)]
                if when is None or (when != "always" and any(n in failed for n in needs)):
                    outcome.skipped.append(name)
                    continue
                for values in self._matrix(job):
                    if select is not None and not select(name, values):
                        continue
                    if not self._job(name, job, values, needs, predefined, outcome):
                        failed.add(name)
                done.append(name)
        outcome.failed_jobs = failed
        return outcome

    @staticmethod
    def _matrix(job: dict[str, Any]) -> list[dict[str, str]]:
        entries = ((job.get("parallel") or {}).get("matrix")) or [{}]
        out = []
        for entry in entries:
            axes = [[(k, v) for v in (vs if isinstance(vs, list) else [vs])] for k, vs in entry.items()]
            out += [dict(combo) for combo in itertools.product(*axes)]
        return out

    def _job(
        self, name: str, job: dict, values: dict, needs: list[str], predefined: dict, outcome: Outcome
    ) -> bool:
        label = _label(name, values)
        slug = predefined["CI_PIPELINE_ID"] + "-" + re.sub(r"[^\w.]+", "-", label)
        workspace = self.tmp / "pipelines" / slug
        shutil.copytree(self.repo, workspace)  # every job clones the repository
        for need in needs:  # artifacts of the jobs it needs, at their paths
            for artifact, files in outcome.artifacts.items():
                if artifact == need or artifact.startswith(f"{need} ("):
                    _copy(files, workspace)
        env = base_env(self.bin)
        env.update({k: str(v) for k, v in (self.doc.get("variables") or {}).items()})
        env.update({k: str(v) for k, v in (job.get("variables") or {}).items()})
        env.update({k: str(v) for k, v in values.items()})
        env.update(self.project_variables)  # project CI/CD variables win over the file's
        env.update(predefined, GITLAB_CI="true", CI_PROJECT_DIR=str(workspace), CI_JOB_NAME=label)

        def path_of(text: str) -> str:
            return _VARIABLE.sub(lambda m: env.get(m.group(1), ""), text)

        cache = job.get("cache")
        if cache and cache["key"] in self.cache:
            _copy(self.cache[cache["key"]], workspace)
        proc = bash("\n".join(job["script"]), workspace, env)
        outcome.ran.append(Ran(label, "script", proc.returncode, proc.stdout, proc.stderr))
        ok = proc.returncode == 0
        if cache and (ok or cache.get("when") == "always"):
            saved = self.tmp / "cache" / cache["key"]
            shutil.rmtree(saved, ignore_errors=True)
            for path in cache["paths"]:
                _copy(workspace / path_of(path), saved / path_of(path))
            self.cache[cache["key"]] = saved
        artifacts = job.get("artifacts") or {}
        when = artifacts.get("when", "on_success")
        if artifacts and (when == "always" or (when == "on_success") == ok):
            stored = self.tmp / "artifacts" / slug
            for path in artifacts.get("paths", []):
                _copy(workspace / path_of(path), stored / path_of(path))
            outcome.artifacts[label] = stored
            outcome.reports[label] = {}
            for kind, path in (artifacts.get("reports") or {}).items():  # uploaded apart from paths
                source = workspace / path_of(path)
                outcome.reports[label][kind] = self.tmp / "reports" / slug / kind / source.name
                _copy(source, outcome.reports[label][kind])
        return ok
