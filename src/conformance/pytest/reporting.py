"""Results on the controlling process: one per check (xdist workers' too), written
as ``summary.json`` and the reports, and the conformance section of the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.pytest.options import contract_of, settings_of
from conformance.pytest.recording import RECORDING
from conformance.results import Results

__all__ = ["RESULTS", "SDK_INFO", "UNREACHABLE", "Reporter", "report_dir"]

RESULTS = pytest.StashKey[Results]()
SDK_INFO = pytest.StashKey[dict[str, object]]()
UNREACHABLE = "conformance_unreachable"


def report_dir(config: pytest.Config) -> Path:
    return Path(settings_of(config).report_dir)


def target_info(config: pytest.Config) -> dict[str, object]:
    settings = settings_of(config)
    recording = config.stash.get(RECORDING, None)
    if recording is not None and recording.cassettes.replaying:
        return {
            "name": f"replay of {recording.cassettes.directory}",
            "base_url": recording.recorded_url or f"cassettes:{recording.cassettes.name}",
            "mode": "replay",
            "cassettes": str(recording.cassettes.directory),
            "recorded": recording.meta.get("recorded"),
            "api_version": settings.api_version,
        }
    info: dict[str, object] = {
        "name": settings.base_url or "embedded mock",
        "base_url": settings.base_url or "embedded",
        "mode": "dry-run" if settings.dry_run else "url" if settings.base_url else "embedded",
        "api_version": settings.api_version,
    }
    if recording is not None:
        info["cassettes"] = str(recording.cassettes.directory)
        info["record_mode"] = recording.cassettes.mode
    return info


def run_info(config: pytest.Config) -> dict[str, object]:
    """What the report needs beyond the results: the seed and the contract's extent."""
    from conformance.oracle import Oracle

    contract = contract_of(config)
    return {
        "seed": config.getoption("hypothesis_seed", default=None),
        "contract": {
            "directory": str(contract.directory),
            "components": {name: list(comp.features) for name, comp in contract.components.items()},
            "archetypes": list(contract.archetypes),
            "rules": len(Oracle(contract).rules),
            "inconsistencies": list(contract.inconsistencies),
            "unparsed": list(contract.unparsed),
        },
        **({"sdk": config.stash[SDK_INFO]} if SDK_INFO in config.stash else {}),
    }


class Reporter:
    """Collects results from every report (xdist workers' too) and writes them out."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results = config.stash[RESULTS]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.results.add(report)
        for key, value in report.user_properties:
            if key == UNREACHABLE:
                self.results.unreachable = str(value)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.results.checks:
            return
        from conformance.report import cannot_write, write_reports

        directory = report_dir(self.config)
        try:
            summary_json = self.results.write(directory, target_info(self.config), run_info(self.config))
            write_reports(directory, summary_json)
        except OSError as exc:  # one line, not a traceback; exit 2 as for any bad input
            cannot_write(directory, exc, self.config)
            session.exitstatus = 2
        if self.results.unreachable:
            session.exitstatus = 2

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        results = self.results
        if not results.checks:
            return
        counts = results.counts()
        tr = terminalreporter
        tr.section("conformance")
        for name, row in results.by_category().items():
            if any(row.values()):
                tr.write_line(
                    f"{name:<13} passed {row['passed']:>4}  failed {row['failed']:>4}  "
                    f"warnings {row['warnings']:>3}  skipped {row['skipped']:>3}"
                )
        info = target_info(self.config)
        if SDK_INFO in self.config.stash:  # the verdict is about the SDK, seen through a proxy
            sdk = self.config.stash[SDK_INFO]
            who = f"{sdk['name']} {sdk['version']} (adapter {sdk['adapter']})"
            tr.write_line(f"sdk: {who} against {info['name']}")
        if results.unreachable:
            verdict = f"UNREACHABLE: {results.unreachable}"
        elif results.conforms:
            verdict = "CONFORMS"
        else:
            verdict = "DOES NOT CONFORM"
        tr.write_line(
            f"verdict: {info['name']} {verdict} ({counts['passed']} passed, {counts['failed']} failed,"
            f" {counts['warnings']} warnings, {counts['skipped']} skipped); "
            f"report: {report_dir(self.config) / 'index.html'} (summary.json, junit.xml beside it)",
            bold=True,
            red=not results.conforms,
            green=results.conforms,
        )


def dry_run_and_leftovers(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """What a dry run would send, and what a run could not clean up."""
    from conformance.pytest.fixtures import DRY_RUN, LEFTOVERS

    calls = config.stash.get(DRY_RUN, None)
    if calls is not None:
        settings = settings_of(config)
        where = settings.base_url or "the embedded mock"
        out = report_dir(config) / "dry-run.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(f"{m} {where.rstrip('/')}{p} {b}\n" for m, p, b in calls))
        counts: dict[str, int] = {}
        for method, path, _ in calls:
            key = f"{method} {path if '/accounts/' not in path else '/v1/accounts/{id}'}"
            counts[key] = counts.get(key, 0) + 1
        terminalreporter.section("dry run")
        terminalreporter.write_line(f"{len(calls)} calls would be sent to {where} (listed in {out}):")
        for key, count in sorted(counts.items()):
            terminalreporter.write_line(f"  {count:>6}  {key}")
    left = config.stash.get(LEFTOVERS, None)
    if left:
        terminalreporter.write_line(
            f"conformance: {len(left)} accounts could not be deleted: {', '.join(left)}", red=True
        )


