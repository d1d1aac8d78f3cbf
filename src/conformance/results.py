"""Collect one result per conformance check and write ``summary.json``.

Results are taken from test reports on the controlling process, so that under
pytest-xdist every check is counted exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ["CATEGORIES", "CATEGORY_KEY", "RECORD", "SUMMARY_VERSION", "CheckResult", "Results"]

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
        counts = {"passed": 0, "failed": 0, "warnings": 0, "skipped": 0}
        for check in self.checks.values():
            counts["warnings" if check.outcome == "warning" else check.outcome] += 1
        counts["total"] = len(self.checks)
        return counts

    def by_category(self) -> dict[str, dict[str, int]]:
        table = {c: {"passed": 0, "failed": 0, "warnings": 0, "skipped": 0} for c in CATEGORIES}
        for check in self.checks.values():
            key = "warnings" if check.outcome == "warning" else check.outcome
            table.setdefault(check.category, {"passed": 0, "failed": 0, "warnings": 0, "skipped": 0})
            table[check.category][key] += 1
        return table

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
