"""A run's summary in numbers and words: counts, the verdict they add up to, broken
rules grouped, and the summaries of CI shards merged into one."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from conformance.catalogue import Category
from conformance.outcomes import OUTCOMES, VERDICTS

__all__ = [
    "CATEGORIES",
    "COUNT_KEYS",
    "SUMMARY_VERSION",
    "BrokenRule",
    "by_category",
    "merge_summaries",
    "tally",
    "verdict_of",
]


CATEGORIES = tuple(str(c) for c in Category)


SUMMARY_VERSION = 2


_RANK = {name: rank for rank, name in enumerate(OUTCOMES)}


# outcome -> its key in the counts
COUNT_KEYS = {
    "passed": "passed",
    "failed": "failed",
    "warning": "warnings",
    "skipped": "skipped",
    "inconclusive": "inconclusive",
    "not run": "not_run",
}


def tally(outcomes: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(COUNT_KEYS.values(), 0)
    for outcome in outcomes:
        counts[COUNT_KEYS[outcome]] += 1
    counts["total"] = sum(counts.values())
    return counts


def verdict_of(outcomes: Iterable[str], aborted: str | None = None) -> str:
    """The run's verdict: why it stopped if it did; else a failed or not-run check
    means it does not conform; else one the suite could not judge makes it inconclusive."""
    if aborted:
        return aborted
    seen = set(outcomes)
    if seen & {"failed", "not run"}:
        return "does not conform"
    if "inconclusive" in seen:
        return "inconclusive"
    return "conforms"


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
    checks: dict[str, dict[str, Any]] = {}
    for summary in summaries:
        for check in summary.get("checks", []):
            kept = checks.get(check["id"])
            if kept is None or _RANK.get(check["outcome"], 0) > _RANK.get(kept["outcome"], 0):
                checks[check["id"]] = check
    merged = dict(summaries[0])
    ordered = [checks[k] for k in sorted(checks)]
    stopped = next((s["verdict"] for s in summaries if VERDICTS.get(s.get("verdict", ""), 0) == 2), None)
    merged.update(
        verdict=verdict_of((c["outcome"] for c in ordered), stopped),
        started=min(str(s.get("started", "")) for s in summaries),
        duration=round(sum(float(s.get("duration", 0)) for s in summaries), 3),
        counts=tally(c["outcome"] for c in ordered),
        categories=by_category((c["category"], c["outcome"]) for c in ordered),
        fuzz_cases=sum(int(s.get("fuzz_cases", 0)) for s in summaries),
        shards=len(summaries),
        checks=ordered,
    )
    return merged


@dataclass
class BrokenRule:
    """A rule some checks found broken, and the first evidence of it."""

    id: str
    grade: str
    sources: list[str]
    says: str
    checks: list[str] = field(default_factory=list)
    first: str = ""  # the first finding, as one line
    reproduce: str = ""
    paths: list[str] = field(default_factory=list)  # where it was found broken
    context: list[str] = field(default_factory=list)  # what the check said of the case (a fuzz seed...)
    exchange: dict[str, Any] = field(default_factory=dict)  # the first evidence: request, curl

    def block(self) -> list[str]:
        source = ", ".join(self.sources)
        lines = [f"  x {self.id} [{self.grade}; {source}]: {self.says}"]
        more = f" and {len(self.checks) - 1} more" if len(self.checks) > 1 else ""
        lines.append(f"      broken in {self.checks[0]}{more}")
        if self.first:
            lines.append(f"      {self.first}")
        lines += [f"      {line}" for line in self.context if not line.startswith("seed:")]
        request = self.exchange.get("request") or {}
        if request:
            lines.append(
                f"      request: {request.get('method')} {request.get('path')} {request.get('body', '')}"[
                    :600
                ]
            )
        if self.exchange.get("curl"):
            lines.append(f"      replay:  {self.exchange['curl']}")
        if len(self.paths) > 1:
            more = f" and {len(self.paths) - 4} more" if len(self.paths) > 4 else ""
            lines.append(f"      also at: {', '.join(self.paths[1:4])}{more}")
        if self.reproduce:
            lines.append(f"      reproduce: {self.reproduce}")
        return lines


def show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "..."
