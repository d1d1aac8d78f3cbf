"""Collect one result per conformance check and write ``summary.json``.

Results are taken from test reports on the controlling process, so that under
pytest-xdist every check is counted exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.baseline import Baseline
from conformance.outcomes import CATEGORY_KEY, INCONCLUSIVE_PREFIX, NOT_RUN_PREFIX, RECORD, TRAFFIC
from conformance.summaries import (
    CATEGORIES,
    COUNT_KEYS,
    SUMMARY_VERSION,
    BrokenRule,
    by_category,
    merge_summaries,
    rule_outcomes,
    tally,
    verdict_of,
)
from conformance.summaries import show as _show

__all__ = [
    "CATEGORIES",
    "CATEGORY_KEY",
    "COUNT_KEYS",
    "SUMMARY_VERSION",
    "BrokenRule",
    "CheckResult",
    "Results",
    "by_category",
    "merge_summaries",
    "tally",
    "verdict_of",
]


@dataclass
class CheckResult:
    id: str
    category: str
    outcome: str = "passed"  # passed | warning | failed | skipped | inconclusive | not run
    message: str = ""
    duration: float = 0.0
    records: list[dict[str, Any]] = field(default_factory=list)

    def findings(self, severity: str) -> list[dict[str, Any]]:
        return [f for r in self.records for f in r.get("findings", []) if f["severity"] == severity]

    @property
    def first_exchange(self) -> dict[str, Any]:
        """The evidence of the first record that found something."""
        return next((dict(r["exchange"]) for r in self.records if r.get("exchange")), {})

    @property
    def context(self) -> list[str]:
        """What the check said of the failing case (a generated request, its seed)."""
        return next((list(r["context"]) for r in self.records if r.get("context")), [])

    @property
    def reproduce(self) -> str:
        """The command line that runs this check again (the last one a record names)."""
        return next((r["reproduce"] for r in reversed(self.records) if r.get("reproduce")), "")

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
            **({"reproduce": self.reproduce} if self.outcome == "failed" and self.reproduce else {}),
        }


class Results:
    def __init__(self) -> None:
        self.checks: dict[str, CheckResult] = {}
        self.started = dt.datetime.now(dt.UTC)
        self.aborted: tuple[str, str] | None = None  # (verdict, the one line) of a run that stopped
        self.fuzz_cases = 0
        self.requests: Counter[str] = Counter()  # sent, by "METHOD /route"
        self.retries: Counter[str] = Counter()  # retried, by cause
        self.baseline: Baseline | None = None  # applied: what became of each entry is reported

    def count_requests(self, sent: Mapping[str, int]) -> None:
        self.requests.update(sent)

    def count_retries(self, retried: Mapping[str, int]) -> None:
        self.retries.update(retried)

    def broken_rules(self) -> list[BrokenRule]:
        """Every rule a failed check broke, most checks first, with the first evidence
        (failures the baseline accepts are not: they are :meth:`accepted_rules`)."""
        return self._rules(accepted=False)

    def _rules(self, *, accepted: bool) -> list[BrokenRule]:
        rules: dict[str, BrokenRule] = {}
        wanted = ("accepted", "failed") if accepted else ("failed",)
        for check in sorted(self.checks.values(), key=lambda c: c.id):
            if check.outcome not in wanted:
                continue
            failures = [f for f in check.findings("failure") if ("accepted" in f) == accepted]
            if not failures and not accepted and not check.findings("failure"):
                # the check errored: its first line stands for the rule
                first = (check.message or "failed").strip().splitlines()[0][:200]
                rule = rules.setdefault("(error)", BrokenRule("(no rule: the check errored)", "", [], first))
                rule.checks.append(check.id)
                continue
            for finding in failures:
                found = rules.get(finding["rule"])
                if found is None:
                    shown = f"{finding['path']}: expected {_show(finding.get('expected'))}, "
                    shown += f"received {_show(finding.get('actual'))}"
                    found = rules[finding["rule"]] = BrokenRule(
                        finding["rule"],
                        str(finding.get("grade", "")),
                        list(finding.get("sources", [])),
                        str(finding.get("says", "")),
                        first=shown,
                        reproduce=check.reproduce,
                        context=check.context,
                        exchange=check.first_exchange,
                        accepted=dict(finding.get("accepted") or {}),
                        expired=str(finding.get("expired", "")),
                    )
                if check.id not in found.checks:
                    found.checks.append(check.id)
                if finding["path"] not in found.paths:
                    found.paths.append(finding["path"])
        return sorted(rules.values(), key=lambda r: (-len(r.checks), r.id))

    def apply_baseline(self, baseline: Baseline, target: str) -> None:
        """Mark the failures ``baseline`` accepts; a failed check whose every failure is
        accepted becomes *accepted*. A failure an expired entry would have accepted says so."""
        self.baseline = baseline
        for check in self.checks.values():
            if check.outcome != "failed":
                continue
            failures = check.findings("failure")
            for finding in failures:
                entry = baseline.accept(finding, target)
                if entry is not None:
                    finding["accepted"] = {
                        "reason": entry.reason,
                        "expires": entry.expires.isoformat(),
                        "entry": entry.label(),
                    }
                    continue
                expired = baseline.expired_for(finding, target)
                if expired is not None:
                    finding["expired"] = expired.expires.isoformat()
            if failures and all("accepted" in f for f in failures):
                check.outcome = "accepted"
                check.message = "\n".join(
                    dict.fromkeys(
                        f"accepted deviation: {f['rule']} at {f['path']} -- {f['accepted']['reason']}"
                        f" (until {f['accepted']['expires']})"
                        for f in failures
                    )
                )

    def accepted_rules(self) -> list[BrokenRule]:
        """Rules broken only where the baseline accepts it, each with its reason."""
        return self._rules(accepted=True)

    def failed_checks(self) -> list[CheckResult]:
        return [c for c in sorted(self.checks.values(), key=lambda c: c.id) if c.outcome == "failed"]

    def unjudged_lines(self) -> list[str]:
        """Not-run and inconclusive checks, grouped by reason: one line a reason."""
        lines = []
        for outcome in ("not run", "inconclusive"):
            reasons: Counter[str] = Counter()
            example: dict[str, str] = {}
            for check in self.checks.values():
                if check.outcome == outcome:
                    reason, _, where = check.message.split(": ", 1)[-1].partition(" -- ")
                    reasons[reason] += 1
                    example.setdefault(reason, where)
            for reason, count in reasons.most_common(5):
                shown = f" (e.g. {example[reason]})" if example[reason] else ""
                lines.append(f"{outcome}: {count} check(s) -- {reason}{shown}"[:400])
        return lines

    def abort(self, verdict: str, message: str) -> None:
        """The run stopped (unreachable, interrupted, out of time...): the first reason is kept."""
        if self.aborted is None:
            self.aborted = (verdict, message)

    def add(self, report: pytest.TestReport) -> None:
        props = list(report.user_properties)
        category = next((v for k, v in props if k == CATEGORY_KEY), None)
        if category is None:
            return
        result = self.checks.setdefault(report.nodeid, CheckResult(report.nodeid, str(category)))
        result.duration += report.duration
        for key, value in props:
            if key == TRAFFIC and isinstance(value, dict):
                self.requests.update(value.get("sent", {}))
                self.retries.update(value.get("retried", {}))
        if report.when == "call":
            result.records = [dict(v) for k, v in props if k == RECORD and isinstance(v, dict)]
            self.fuzz_cases += sum(int(r.get("cases", 0)) for r in result.records)
        if report.skipped:
            if result.outcome == "passed":
                reason = _skip_reason(report)
                result.outcome = (
                    "not run"
                    if reason.startswith(NOT_RUN_PREFIX)
                    else "inconclusive"
                    if reason.startswith(INCONCLUSIVE_PREFIX)
                    else "skipped"
                )
                result.message = reason
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
    def verdict(self) -> str:
        return verdict_of((c.outcome for c in self.checks.values()), self.aborted and self.aborted[0])

    @property
    def conforms(self) -> bool:
        return self.verdict == "conforms"

    def summary(self, target: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        finished = dt.datetime.now(dt.UTC)
        verdict = self.verdict
        checks = [c.as_dict() for c in sorted(self.checks.values(), key=lambda c: c.id)]
        return {
            "schema": "conformance-summary",
            "version": SUMMARY_VERSION,
            "target": target.get("base_url", ""),
            "target_info": target,
            "verdict": verdict,
            **({"stopped": self.aborted[1]} if self.aborted else {}),
            "started": self.started.isoformat(timespec="seconds"),
            "duration": round((finished - self.started).total_seconds(), 3),
            "counts": self.counts(),
            "categories": self.by_category(),
            "fuzz_cases": self.fuzz_cases,
            "requests": dict(self.requests),
            "retries": dict(self.retries),
            "broken_rules": [
                {
                    "rule": r.id,
                    "grade": r.grade,
                    "sources": r.sources,
                    "says": r.says,
                    "checks": len(r.checks),
                    "path": r.paths[0] if r.paths else "",
                    **({"expired": r.expired} if r.expired else {}),
                }
                for r in self.broken_rules()
            ],
            **(
                {
                    "accepted_rules": [
                        {
                            "rule": r.id,
                            "path": r.paths[0] if r.paths else "",
                            "checks": len(r.checks),
                            **r.accepted,
                        }
                        for r in self.accepted_rules()
                    ]
                }
                if self.baseline is not None
                else {}
            ),
            "rule_outcomes": rule_outcomes(checks),
            **(
                {
                    "baseline": {
                        "file": self.baseline.source,
                        "entries": self.baseline.report(rule_outcomes(checks)),
                    }
                }
                if self.baseline is not None
                else {}
            ),
            **(extra or {}),
            "checks": checks,
        }


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)
