"""``history.jsonl``: one line per run, appended; the trend chart reads the last lines.

A line that is not a JSON object with a pass rate (a truncated write, a hand
edit) is skipped and counted, never fatal: the history is a convenience, the
run's own reports are what count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["HISTORY_FILE", "History", "append_run", "history_entry", "pass_rate", "read_history"]

HISTORY_FILE = "history.jsonl"


@dataclass
class History:
    entries: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0  # malformed lines


def pass_rate(counts: dict[str, Any]) -> float | None:
    """Checks that did not fail (warnings and accepted deviations count as passed) over the
    checks that ran and were judged (skipped, inconclusive and not-run checks are neither)."""
    unjudged = sum(int(counts.get(k, 0)) for k in ("skipped", "inconclusive", "not_run"))
    ran = int(counts.get("total", 0)) - unjudged
    if ran <= 0:
        return None
    kept = sum(int(counts.get(k, 0)) for k in ("passed", "warnings", "accepted"))
    return round(kept / ran, 4)


def history_entry(summary: dict[str, Any]) -> dict[str, Any]:
    counts = dict(summary.get("counts", {}))
    return {
        "date": summary.get("started", ""),
        "target": summary.get("target", ""),
        "verdict": summary.get("verdict", ""),
        "counts": counts,
        "pass_rate": pass_rate(counts),
        "duration": summary.get("duration"),
        "rules": dict(summary.get("rule_outcomes") or {}),  # per rule: what changed since a run
    }


def _valid(entry: Any) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("date"), str):
        return False
    rate = entry.get("pass_rate")
    return rate is None or (isinstance(rate, int | float) and not isinstance(rate, bool) and 0 <= rate <= 1)


def read_history(path: Path, last: int = 30) -> History:
    """The last ``last`` well-formed entries (oldest first). A missing file is an empty history."""
    history = History()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return history
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            history.skipped += 1
            continue
        if _valid(entry):
            history.entries.append(entry)
        else:
            history.skipped += 1
    history.entries = history.entries[-last:] if last > 0 else []
    return history


def append_run(path: Path, summary: dict[str, Any]) -> dict[str, Any]:
    """Append this run's line, starting a new line if the file does not end with one."""
    entry = history_entry(summary)
    prefix = ""
    if path.is_file() and path.stat().st_size:
        with path.open("rb") as handle:
            handle.seek(-1, 2)
            prefix = "" if handle.read(1) == b"\n" else "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(prefix + json.dumps(entry, sort_keys=True) + "\n")
    return entry
