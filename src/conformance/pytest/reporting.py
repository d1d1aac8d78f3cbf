"""Results on the controlling process: one per check (xdist workers' too), written
as ``summary.json`` and the reports, and the conformance section of the terminal:
failures grouped by broken rule, never a traceback; ``-v`` shows every block."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.evidence import key_auth
from conformance.outcomes import ABORTED, FAILING_CASE, VERDICTS
from conformance.pytest.options import contract_of, settings_of
from conformance.pytest.recording import RECORDING
from conformance.pytest.session import RUN, TARGET
from conformance.results import Results

if TYPE_CHECKING:
    from conformance.baseline import Baseline

__all__ = ["RESULTS", "SDK_INFO", "Reporter", "report_dir"]

RESULTS = pytest.StashKey[Results]()
SDK_INFO = pytest.StashKey[dict[str, object]]()
TOP_RULES = 3  # broken rules the verdict line names
SHOWN_RULES = 12  # broken rules shown as blocks (all of them with -v)


def report_dir(config: pytest.Config) -> Path:
    return Path(settings_of(config).report_dir)


def target_info(config: pytest.Config) -> dict[str, object]:
    settings = settings_of(config)
    recording = config.stash.get(RECORDING, None)
    sdk = config.stash.get(SDK_INFO, None)
    if recording is not None and recording.cassettes.replaying:
        info: dict[str, object] = {
            "name": f"replay of {recording.cassettes.directory}",
            "base_url": recording.recorded_url or f"cassettes:{recording.cassettes.name}",
            "mode": "replay",
            "cassettes": str(recording.cassettes.directory),
            "recorded": recording.meta.get("recorded"),
            "api_version": settings.api_version,
        }
    else:
        info = {
            "name": settings.base_url or "embedded mock",
            "base_url": settings.base_url or "embedded",
            "mode": "dry-run" if settings.dry_run else "url" if settings.base_url else "embedded",
            "api_version": settings.api_version,
        }
        if recording is not None:
            info["cassettes"] = str(recording.cassettes.directory)
            info["record_mode"] = recording.cassettes.mode
    if sdk:  # the subject of the verdict is the SDK, seen against the target
        info["subject"] = f"{sdk['name']} {sdk.get('version') or ''}".strip()
    return info


def run_info(config: pytest.Config) -> dict[str, object]:
    """What the report needs beyond the results: the seed, the contract's extent, the
    target profile, what the run sent and the accounts it made."""
    from conformance.catalogue import catalogue

    contract = contract_of(config)
    info: dict[str, object] = {
        "seed": config.getoption("hypothesis_seed", default=None),
        "contract": {
            "directory": str(contract.directory),
            "documents": {
                name: {k: v for k, v in doc.items() if k in ("title", "address", "anchor")}
                for name, doc in (contract.provenance.get("documents") or {}).items()
            },
            "components": {name: list(comp.features) for name, comp in contract.components.items()},
            "archetypes": list(contract.archetypes),
            "rules": sorted(catalogue(contract)),
            "inconsistencies": list(contract.inconsistencies),
            "unparsed": list(contract.unparsed),
        },
    }
    if SDK_INFO in config.stash:
        info["sdk"] = config.stash[SDK_INFO]
    target = config.stash.get(TARGET, None)
    if target is not None and target.profile is not None:
        info["target_profile"] = target.profile.as_dict()
    run = config.stash.get(RUN, None)
    if run is not None and run.cleanup is not None:
        info["accounts"] = run.cleanup.as_dict()
    return info


class Reporter:
    """Collects results from every report (xdist workers' too) and writes them out."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results = config.stash[RESULTS]
        self.written = False
        self.summary: dict[str, Any] = {}
        self.updated: tuple[Path, int, int] | None = None  # --baseline-update: file, kept, added
        self.kept_cases = 0  # failing generated cases written for replay-failures

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.results.add(report)
        for key, value in report.user_properties:
            if key == ABORTED and isinstance(value, list | tuple):
                self.results.abort(str(value[0]), str(value[1]))

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        from conformance import stop

        self.results.abort("interrupted", stop.stopped() or "interrupted (Ctrl-C)")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.results.checks and self.results.aborted is None:
            return
        written = self.write()
        session.exitstatus = VERDICTS[self.results.verdict] if written else 2

    def stopped_before_checks(self, verdict: str, message: str) -> None:
        """The run stopped while the target was being profiled (unreachable, interrupted):
        no check ran, and the reports say why -- a nightly job still gets its report."""
        self.results.abort(verdict, message)
        self.write()

    def write(self) -> bool:
        """Write every report; False (and one line on stderr) when they cannot be written."""
        run = self.config.stash.get(RUN, None)
        if run is not None:
            self.results.count_requests(run.sent)
            self.results.count_retries(run.retried)
        from conformance.report import cannot_write, note_changes, write_reports

        settings = settings_of(self.config)
        info = target_info(self.config)
        baseline = settings.accepted()
        if baseline is not None:
            self.results.apply_baseline(baseline, str(info.get("base_url", "")))
        directory = report_dir(self.config)
        try:
            self.summary = note_changes(directory, self.results.summary(info, run_info(self.config)))
            write_reports(directory, self.summary)
            if settings.baseline_update is not None:
                self._update_baseline(Path(settings.baseline_update), baseline)
            self._keep_failing_cases(directory)
            self.written = True
        except OSError as exc:  # one line, not a traceback; exit 2 as for any bad input
            cannot_write(directory, exc, self.config)
            return False
        return True

    def _update_baseline(self, path: Path, baseline: Baseline | None) -> None:
        """The baseline's entries that matched, then one TODO entry per failure not accepted."""
        from conformance.baseline import proposed

        failures = [
            f
            for check in self.results.failed_checks()
            for f in check.findings("failure")
            if "accepted" not in f
        ]
        kept = [e for e in baseline.entries if e.matched] if baseline is not None else []
        path.write_text(proposed(failures, kept=kept), encoding="utf-8")
        self.updated = (path, len(kept), len({(f["rule"], f["path"]) for f in failures}))

    def _keep_failing_cases(self, directory: Path) -> None:
        """The failed generated checks' cases, for ``conformance replay-failures``
        (an older run's are removed when this one has none)."""
        from conformance.fuzz.failures import target_facts, write_failures

        cases = [
            {"check": check.id, **record[FAILING_CASE]}
            for check in self.results.failed_checks()
            for record in check.records
            if isinstance(record.get(FAILING_CASE), dict)
        ]
        target = self.config.stash.get(TARGET, None)
        self.kept_cases = len(cases) if target is not None else 0
        write_failures(
            directory,
            cases,
            target_facts(target) if target is not None else None,
            seed=self.config.getoption("hypothesis_seed", default=None),
            contracts=contract_of(self.config).directory,
        )

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        results = self.results
        if not results.checks and results.aborted is None:
            return
        tr = terminalreporter
        tr.section("conformance")
        for name, row in results.by_category().items():
            if any(row.values()):
                shown = "  ".join(
                    f"{key.replace('_', ' ')} {value:>3}" for key, value in row.items() if value
                )
                tr.write_line(f"{name:<13} {shown}")
        verbose = self.config.get_verbosity() > 0
        broken = results.broken_rules()
        if broken:
            tr.write_line("")
            tr.write_line(f"broken rules ({len(broken)}):", bold=True)
            for rule in broken if verbose else broken[:SHOWN_RULES]:
                for line in rule.block():
                    tr.write_line(line)
            if not verbose and len(broken) > SHOWN_RULES:
                tr.write_line(
                    f"  ... and {len(broken) - SHOWN_RULES} more (-v shows every rule; the report has all)"
                )
        if verbose:
            for check in results.failed_checks():
                tr.write_line("")
                tr.write_line(f"{check.id}:", bold=True)
                for line in check.message.splitlines():
                    tr.write_line(f"  {line}")
        for line in results.unjudged_lines():
            tr.write_line(line)
        for line in baseline_lines(self.summary, results):
            tr.write_line(line)
        from conformance.report.changes import change_lines

        for line in change_lines(self.summary.get("changes")):
            tr.write_line(line)
        if self.updated is not None:
            path, kept, added = self.updated
            tr.write_line(f"baseline written to {path}: {kept} entry(ies) kept, {added} added (reason TODO)")
        for line in self._run_lines():
            tr.write_line(line)
        self._verdict(tr)

    def _run_lines(self) -> list[str]:
        lines = []
        requests = self.results.requests
        if requests:
            by = ", ".join(f"{route} {n:,}" for route, n in sorted(requests.items(), key=lambda kv: -kv[1]))
            lines.append(f"requests: {sum(requests.values()):,} ({by})")
        if self.results.retries:
            lines.append(
                "retried: " + ", ".join(f"{cause} x{n}" for cause, n in self.results.retries.items())
            )
        run = self.config.stash.get(RUN, None)
        cleanup = run.cleanup if run is not None else None
        if cleanup is not None and cleanup.made:
            if cleanup.kept:
                lines.append(
                    f"accounts: {cleanup.made} made, kept (--keep-accounts): {', '.join(cleanup.left)}"
                )
            else:
                lines.append(f"accounts: {cleanup.made} made, {len(cleanup.deleted)} deleted at the end")
        if run is not None and run.calls is not None:
            lines += self._dry_run(run.calls)
        if self.kept_cases:
            directory = report_dir(self.config)
            lines.append(
                f"failing cases: {self.kept_cases} kept in {directory / 'failures.json'}"
                f" (conformance replay-failures {directory} sends them again)"
            )
        return lines

    def _dry_run(self, calls: list[tuple[str, str, str]]) -> list[str]:
        settings = settings_of(self.config)
        where = settings.base_url or "the embedded mock"
        out = report_dir(self.config) / "dry-run.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(f"{m} {where.rstrip('/')}{p} {b}\n" for m, p, b in calls))
        counts: dict[str, int] = {}
        for method, path, _ in calls:
            key = f"{method} {path if '/accounts/' not in path else '/v1/accounts/{id}'}"
            counts[key] = counts.get(key, 0) + 1
        return [f"dry run: {len(calls)} calls would be sent to {where} (listed in {out}):"] + [
            f"  {count:>6}  {key}" for key, count in sorted(counts.items())
        ]

    def _verdict(self, tr: pytest.TerminalReporter) -> None:
        results = self.results
        counts = results.counts()
        info = target_info(self.config)
        subject = f"{info['subject']} (against {info['name']})" if info.get("subject") else info["name"]
        verdict = results.verdict.upper()
        if results.aborted:
            verdict += f": {results.aborted[1]}"
        target = self.config.stash.get(TARGET, None)
        profile = target.profile if target is not None else None
        lacking = profile and (profile.no_accounts or profile.missing)
        if lacking:
            verdict += f" -- {lacking}"
        top = [r.id for r in results.broken_rules()[:TOP_RULES]]
        if top:
            more = len(results.broken_rules()) - len(top)
            verdict += " -- breaks " + ", ".join(top) + (f" and {more} more" if more > 0 else "")
        shown = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items() if v and k != "total")
        where = f"report: {report_dir(self.config) / 'index.html'}" if self.written else "no report written"
        tr.write_line(
            f"verdict: {subject} {verdict} ({shown}); {where}",
            bold=True,
            red=results.verdict != "conforms",
            green=results.verdict == "conforms",
        )


def baseline_lines(summary: dict[str, Any], results: Results) -> list[str]:
    """Accepted deviations (one block each), then the baseline's expired and stale entries."""
    accepted = results.accepted_rules()
    lines = []
    if accepted:
        lines += ["", f"accepted deviations ({len(accepted)}), not counted against the verdict:"]
        for rule in accepted:
            lines += rule.block()
    for entry in (summary.get("baseline") or {}).get("entries", []):
        if entry["status"] == "expired":
            lines.append(f"baseline: {entry['rule']} {entry['note']}")
        elif entry["status"] == "stale":
            lines.append(f"baseline: stale entry {entry['rule']} -- {entry['note']}")
    return lines


def left_behind(config: pytest.Config) -> list[str]:
    """Lines for stderr: accounts that could not be deleted, each with the curl that deletes it."""
    run = config.stash.get(RUN, None)
    if run is None or run.cleanup is None or not run.cleanup.left or run.cleanup.kept:
        return []
    base = run.target.base_url if run.target else ""
    return [f"conformance: {len(run.cleanup.left)} account(s) could not be deleted:"] + [
        " ".join(["  curl -sS -X DELETE", f"{base}/v1/accounts/{account}", *key_auth(run.cleanup.scheme)])
        for account in run.cleanup.left
    ]
