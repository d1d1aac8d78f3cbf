"""Collect one result per conformance check and write ``summary.json``.

Results are taken from test reports on the controlling process, so that under
pytest-xdist every check is counted exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "CATEGORIES",
    "CATEGORY_KEY",
    "RECORD",
    "SUMMARY_VERSION",
    "CheckResult",
    "Results",
    "merge_summaries",
]

RECORD = "conformance"  # user_properties key of what a check recorded
FUZZ_CASES = "conformance_fuzz_cases"  # user_properties key: generated cases a check ran

CATEGORIES = (
    "shape",
    "defaults",
    "validation",
    "auth",
    "idempotency",
    "fuzz",
    "schemathesis",
    "sdk",
    "drift",
)
CATEGORY_KEY = "conformance_category"
SUMMARY_VERSION = 1
_RANK = {"passed": 0, "skipped": 0, "warning": 1, "failed": 2}


@dataclass
class CheckResult:
    id: str
    category: str
    outcome: str = "passed"  # passed | warning | failed | skipped
    message: str = ""
    duration: float = 0.0
    records: list[dict[str, Any]] = field(default_factory=list)

    def findings(self, severity: str) -> list[dict[str, Any]]:
        return [f for r in self.records for f in r.get("findings", []) if f["severity"] == severity]

    def as_dict(self) -> dict[str, Any]:
        rules = sorted({rule for r in self.records for rule in r.get("rules", [])})
        evidence = [
            {k: r[k] for k in ("exchange", "explanation") if k in r}
            for r in self.records
            if r.get("findings")
        ]
        return {
            "id": self.id,
            "category": self.category,
            "outcome": self.outcome,
            "message": self.message,
            "duration": round(self.duration, 4),
            "rules": rules,
            "findings": [f for r in self.records for f in r.get("findings", [])],
            "cells": [c for r in self.records for c in r.get("cells", [])],
            "evidence": [e for e in evidence if e],
        }


def tally(outcomes: Iterable[str]) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "warnings": 0, "skipped": 0}
    for outcome in outcomes:
        counts["warnings" if outcome == "warning" else outcome] += 1
    counts["total"] = sum(counts.values())
    return counts


def by_category(pairs: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
    grouped: dict[str, list[str]] = {c: [] for c in CATEGORIES}
    for category, outcome in pairs:
        grouped.setdefault(category, []).append(outcome)
    return {c: {k: v for k, v in tally(o).items() if k != "total"} for c, o in grouped.items()}


def merge_summaries(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary from the summaries of shards of one run (a CI matrix): every
    check once (a check in two shards keeps its worst outcome), counts recomputed."""
    if not summaries:
        raise ValueError("nothing to merge")
    worst = {"passed": 0, "skipped": 0, "warning": 1, "failed": 2}
    checks: dict[str, dict[str, Any]] = {}
    for summary in summaries:
        for check in summary.get("checks", []):
            kept = checks.get(check["id"])
            if kept is None or worst.get(check["outcome"], 0) > worst.get(kept["outcome"], 0):
                checks[check["id"]] = check
    merged = dict(summaries[0])
    ordered = [checks[k] for k in sorted(checks)]
    unreachable = any(s.get("verdict") == "unreachable" for s in summaries)
    failed = any(c["outcome"] == "failed" for c in ordered)
    merged.update(
        verdict="unreachable" if unreachable else "does not conform" if failed else "conforms",
        started=min(str(s.get("started", "")) for s in summaries),
        duration=round(sum(float(s.get("duration", 0)) for s in summaries), 3),
        counts=tally(c["outcome"] for c in ordered),
        categories=by_category((c["category"], c["outcome"]) for c in ordered),
        fuzz_cases=sum(int(s.get("fuzz_cases", 0)) for s in summaries),
        shards=len(summaries),
        checks=ordered,
    )
    return merged


class Results:
    def __init__(self) -> None:
        self.checks: dict[str, CheckResult] = {}
        self.started = dt.datetime.now(dt.UTC)
        self.unreachable: str | None = None
        self.fuzz_cases = 0

    def add(self, report: pytest.TestReport) -> None:
        props = list(report.user_properties)
        category = next((v for k, v in props if k == CATEGORY_KEY), None)
        if category is None:
            return
        result = self.checks.setdefault(report.nodeid, CheckResult(report.nodeid, str(category)))
        result.duration += report.duration
        if report.when == "call":
            self.fuzz_cases += sum(v for k, v in props if k == FUZZ_CASES and isinstance(v, int))
            result.records = [dict(v) for k, v in props if k == RECORD and isinstance(v, dict)]
        if report.skipped:
            if result.outcome == "passed":
                result.outcome = "skipped"
                result.message = _skip_reason(report)
            return
        if report.failed:
            result.outcome = "failed"
            text = report.longreprtext.strip()
            if report.when != "call":
                text = f"error in {report.when}: {text.splitlines()[-1] if text else ''}"
            result.message = "\n".join(
                filter(None, (result.message if report.when == "teardown" else "", text))
            )[:6000]
            return
        if report.when == "call" and result.findings("warning") and result.outcome == "passed":
            result.outcome = "warning"
            result.message = "\n".join(f"additive drift: {f['path']}" for f in result.findings("warning"))

    def counts(self) -> dict[str, int]:
        return tally(c.outcome for c in self.checks.values())

    def by_category(self) -> dict[str, dict[str, int]]:
        return by_category((c.category, c.outcome) for c in self.checks.values())

    @property
    def conforms(self) -> bool:
        return not self.unreachable and all(c.outcome != "failed" for c in self.checks.values())

    def summary(self, target: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        finished = dt.datetime.now(dt.UTC)
        verdict = "unreachable" if self.unreachable else "conforms" if self.conforms else "does not conform"
        return {
            "schema": "conformance-summary",
            "version": SUMMARY_VERSION,
            "target": target.get("base_url", ""),
            "target_info": target,
            "verdict": verdict,
            "started": self.started.isoformat(timespec="seconds"),
            "duration": round((finished - self.started).total_seconds(), 3),
            "counts": self.counts(),
            "categories": self.by_category(),
            "fuzz_cases": self.fuzz_cases,
            **(extra or {}),
            "checks": [c.as_dict() for c in sorted(self.checks.values(), key=lambda c: c.id)],
        }

    def write(self, directory: Path, target: dict[str, Any], extra: dict[str, Any] | None = None) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "summary.json"
        path.write_text(json.dumps(self.summary(target, extra), indent=2) + "\n", encoding="utf-8")
        return path


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)
