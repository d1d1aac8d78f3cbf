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
    "rule_outcomes",
    "tally",
    "verdict_of",
]


CATEGORIES = tuple(str(c) for c in Category)


SUMMARY_VERSION = 3


_RANK = {name: rank for rank, name in enumerate(OUTCOMES)}


# outcome -> its key in the counts
COUNT_KEYS = {
    "passed": "passed",
    "failed": "failed",
    "warning": "warnings",
    "accepted": "accepted",
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


_RULE_RANK = {"passed": 0, "warning": 1, "accepted": 2, "failed": 3}
_JUDGED = {"passed", "warning", "accepted", "failed"}


def rule_outcomes(checks: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Every rule a judged check exercised, with its worst outcome in the run: failed (an
    unaccepted failure), accepted, warning (drift found under it), or passed. Rules of
    checks that were not judged (skipped, inconclusive, not run, errored) are left out."""
    seen: dict[str, str] = {}

    def worse(rule: str, outcome: str) -> None:
        current = seen.get(rule)
        if current is None or _RULE_RANK[outcome] > _RULE_RANK[current]:
            seen[rule] = outcome

    for check in checks:
        findings = check.get("findings", [])
        failures = [f for f in findings if f.get("severity") == "failure"]
        if check.get("outcome") not in _JUDGED or (check.get("outcome") == "failed" and not failures):
            continue
        for rule in check.get("rules", []):
            worse(str(rule), "passed")
        for finding in findings:
            severity = finding.get("severity")
            if severity == "failure":
                worse(str(finding["rule"]), "accepted" if "accepted" in finding else "failed")
            elif severity == "warning":
                worse(str(finding["rule"]), "warning")
    return dict(sorted(seen.items()))


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
        rule_outcomes=rule_outcomes(ordered),
        checks=ordered,
    )
    merged.pop("changes", None)  # a shard's own; the merged report's are worked out anew
    baselines = [s["baseline"] for s in summaries if isinstance(s.get("baseline"), dict)]
    if baselines:
        merged["baseline"] = _merge_baselines(baselines)
    return merged


def _merge_baselines(baselines: list[dict[str, Any]]) -> dict[str, Any]:
    """One baseline report from the shards': an entry matched in any shard is matched
    (its counts added); stale only if stale in every shard."""
    entries: dict[tuple[str, str, str], dict[str, Any]] = {}
    for baseline in baselines:
        for entry in baseline.get("entries", []):
            key = (entry.get("rule", ""), entry.get("path", ""), entry.get("target", ""))
            kept = entries.get(key)
            if kept is None:
                entries[key] = dict(entry)
                continue
            kept["matched"] = int(kept.get("matched", 0)) + int(entry.get("matched", 0))
            if kept["matched"]:
                kept["status"] = "matched"
                kept.pop("note", None)
            elif kept.get("status") == "stale" and "held" in str(entry.get("note", "")):
                kept["note"] = entry["note"]  # exercised in some shard: it held there
    return {"file": baselines[0].get("file", ""), "entries": list(entries.values())}


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
    accepted: dict[str, Any] = field(default_factory=dict)  # the baseline entry that accepts it
    expired: str = ""  # the date a baseline entry for it expired

    def block(self) -> list[str]:
        source = ", ".join(self.sources)
        if self.accepted:
            return [
                f"  ~ {self.id} [{self.grade}; {source}]: accepted until {self.accepted.get('expires')}"
                f" -- {self.accepted.get('reason')}",
                f"      {self.first}",
            ]
        lines = [f"  x {self.id} [{self.grade}; {source}]: {self.says}"]
        if self.expired:
            lines.append(f"      the baseline's entry for it expired on {self.expired}: it counts again")
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
