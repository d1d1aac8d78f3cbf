"""What changed since the last run: rules newly broken, fixed, still broken (since when),
new drift warnings; and the per-rule strip of the rules that changed in the history.

The run compared against is the last one in ``history.jsonl`` against the same target
that was judged to the end (a run that stopped -- unreachable, interrupted -- judged only
part of the rules and would make every other rule look fixed or new).
"""

from __future__ import annotations

from typing import Any

__all__ = ["change_lines", "changes", "rule_strip"]

_JUDGED_VERDICTS = {"conforms", "does not conform", "inconclusive"}


def _comparable(entry: dict[str, Any], target: str) -> bool:
    return (
        entry.get("target") == target
        and entry.get("verdict") in _JUDGED_VERDICTS
        and isinstance(entry.get("rules"), dict)
    )


def changes(summary: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """``summary``'s changes against the history ``entries`` (oldest first, this run not among them)."""
    now: dict[str, str] = dict(summary.get("rule_outcomes") or {})
    target = str(summary.get("target", ""))
    earlier = [e for e in entries if _comparable(e, target)]
    broken_now = sorted(r for r, o in now.items() if o == "failed")
    if not earlier:
        return {"previous": None, "new": [], "fixed": [], "still_broken": [], "new_warnings": []}
    before: dict[str, str] = earlier[-1]["rules"]
    still = []
    for rule in broken_now:
        if before.get(rule) != "failed":
            continue
        since = earlier[-1].get("date", "")
        for entry in reversed(earlier):  # back through the unbroken streak of failures
            if entry["rules"].get(rule) != "failed":
                break
            since = entry.get("date", "")
        still.append({"rule": rule, "since": since})
    return {
        "previous": earlier[-1].get("date"),
        "new": [r for r in broken_now if before.get(r) != "failed"],
        "fixed": sorted(
            r for r, o in before.items() if o == "failed" and now.get(r) in ("passed", "warning")
        ),
        "still_broken": still,
        "new_warnings": sorted(r for r, o in now.items() if o == "warning" and before.get(r) != "warning"),
    }


def rule_strip(entries: list[dict[str, Any]], limit: int = 40) -> dict[str, Any]:
    """Rows for the rules whose outcome changed over ``entries`` (the trend's runs): one
    cell per run, its outcome or "none" (not exercised, or a run with no per-rule record)."""
    changed: set[str] = set()
    last: dict[str, str] = {}
    for entry in entries:
        for rule, outcome in (entry.get("rules") or {}).items():
            if rule in last and last[rule] != outcome:
                changed.add(rule)
            last[rule] = outcome
    rows = [
        {"rule": rule, "cells": [str((e.get("rules") or {}).get(rule, "none")) for e in entries]}
        for rule in sorted(changed)[:limit]
    ]
    return {
        "rows": rows,
        "more": max(0, len(changed) - limit),
        "dates": [str(e.get("date", ""))[:16].replace("T", " ") for e in entries],
    }


def _few(items: list[str], shown: int = 5) -> str:
    return ", ".join(items[:shown]) + (", ..." if len(items) > shown else "")


def change_lines(changes: dict[str, Any] | None) -> list[str]:
    """What changed since the last judged run on the same target, in a few lines."""
    if not changes:
        return []
    if changes.get("previous") is None:
        return ["since the last run: none on record for this target (history.jsonl)"]
    parts = [
        f"{label} {len(changes[key])} ({_few(changes[key])})"
        for key, label in (
            ("new", "newly broken"),
            ("fixed", "fixed"),
            ("new_warnings", "new drift warnings"),
        )
        if changes.get(key)
    ]
    still = changes.get("still_broken") or []
    if still:
        oldest = min(s["since"] for s in still)
        parts.append(f"still broken {len(still)} (the oldest since {oldest[:16].replace('T', ' ')})")
    when = str(changes["previous"])[:16].replace("T", " ")
    return [f"since the last run ({when}): " + ("; ".join(parts) if parts else "no rule changed")]
