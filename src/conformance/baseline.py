"""Accepted deviations: a team's "we know, we accept it until this date".

A baseline is a YAML file the team commits (``--baseline FILE``)::

    version: 1
    accepted:
      - rule: "default:payouts.instant_payouts"   # a rule id, or a pattern (* and ?)
        path: "components.payouts.*"               # optional: only findings at these paths
        target: "https://api.stripe.com*"          # optional: only runs against these targets
        reason: "the API moved past the docs (SDK 2026-10-28)"
        expires: 2027-01-31                        # the last day the entry holds

A failure matched by a live entry is *accepted*: reported with its reason, not
counted against the verdict. An entry past its date matches nothing and says
so; a live entry that matched nothing in a run is *stale* (a warning). A check
is accepted only when every failure it found is; one unaccepted failure keeps
it failed.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import SettingsError

__all__ = ["Baseline", "Entry", "load_baseline", "proposed"]

_KEYS = {"rule", "path", "target", "reason", "expires"}
UPDATE_DAYS = 30  # how long an entry written by --baseline-update holds
TODO = "TODO: why this deviation is accepted"


@dataclass
class Entry:
    rule: str
    reason: str
    expires: dt.date
    path: str | None = None
    target: str | None = None
    matched: int = 0  # failures it accepted in this run
    would_have: int = 0  # failures it would have accepted had it not expired

    def live(self, today: dt.date) -> bool:
        return today <= self.expires

    def matches(self, finding: dict[str, Any], target: str) -> bool:
        if not fnmatch.fnmatchcase(str(finding.get("rule", "")), self.rule):
            return False
        if self.path is not None and not fnmatch.fnmatchcase(str(finding.get("path", "")), self.path):
            return False
        return self.target is None or fnmatch.fnmatchcase(target.rstrip("/"), self.target.rstrip("/"))

    def label(self) -> str:
        where = "".join(f" {k}={v}" for k, v in (("path", self.path), ("target", self.target)) if v)
        return f"{self.rule}{where}"


@dataclass
class Baseline:
    source: str
    entries: list[Entry]
    today: dt.date = field(default_factory=dt.date.today)

    def accept(self, finding: dict[str, Any], target: str) -> Entry | None:
        """The live entry that accepts this failure (counted), else None; an expired entry
        that would have accepted it is counted as such."""
        matching = [e for e in self.entries if e.matches(finding, target)]
        live = next((e for e in matching if e.live(self.today)), None)
        if live is not None:
            live.matched += 1
            return live
        for entry in matching:
            entry.would_have += 1
        return None

    def expired_for(self, finding: dict[str, Any], target: str) -> Entry | None:
        return next((e for e in self.entries if not e.live(self.today) and e.matches(finding, target)), None)

    def report(self, exercised: Iterable[str]) -> list[dict[str, Any]]:
        """Each entry with its status: matched, expired, or stale (and why it is)."""
        ran = set(exercised)
        out = []
        for entry in self.entries:
            status = "matched" if entry.matched else "expired" if not entry.live(self.today) else "stale"
            item: dict[str, Any] = {
                "rule": entry.rule,
                **({"path": entry.path} if entry.path else {}),
                **({"target": entry.target} if entry.target else {}),
                "reason": entry.reason,
                "expires": entry.expires.isoformat(),
                "status": status,
                "matched": entry.matched,
            }
            if status == "expired":
                item["note"] = (
                    f"expired on {entry.expires}: {entry.would_have} failure(s) it would have accepted"
                    " count again"
                    if entry.would_have
                    else f"expired on {entry.expires}"
                )
            elif status == "stale":
                exercised_now = any(fnmatch.fnmatchcase(r, entry.rule) for r in ran)
                item["note"] = (
                    "matched no failure: the rule held in this run; remove the entry"
                    if exercised_now
                    else "matched no failure: no check of this run exercised the rule"
                )
            out.append(item)
        return out


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise SettingsError(f"{where}: expires must be a date (YYYY-MM-DD), not {value!r}") from None


def _entry(item: Any, where: str) -> Entry:
    if not isinstance(item, dict):
        raise SettingsError(f"{where}: an entry must be a mapping with rule, reason and expires")
    unknown = sorted(set(map(str, item)) - _KEYS)
    if unknown:
        raise SettingsError(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_KEYS))})"
        )
    for key in ("rule", "reason", "expires"):
        if item.get(key) in (None, ""):
            raise SettingsError(f"{where}: {key} is required")
    for key in ("rule", "reason", "path", "target"):
        if key in item and item[key] is not None and not isinstance(item[key], str):
            raise SettingsError(f"{where}: {key} must be a string, not {item[key]!r}")
    return Entry(
        rule=item["rule"],
        reason=item["reason"],
        expires=_date(item["expires"], where),
        path=item.get("path"),
        target=item.get("target"),
    )


def load_baseline(path: str | Path, today: dt.date | None = None) -> Baseline:
    """The baseline in ``path``; anything wrong with it is one :class:`SettingsError` line."""
    where = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"cannot read the baseline {where}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SettingsError(f"the baseline {where} is not YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        data = {"accepted": []}
    if not isinstance(data, dict) or not isinstance(data.get("accepted", []), list):
        raise SettingsError(f"the baseline {where} must be a mapping with a list under 'accepted'")
    extra = sorted(set(map(str, data)) - {"version", "accepted"})
    if extra:
        raise SettingsError(
            f"the baseline {where}: unknown key(s) {', '.join(extra)} (allowed: version, accepted)"
        )
    if data.get("version", 1) != 1:
        raise SettingsError(f"the baseline {where}: version {data['version']!r} is not supported (1 is)")
    entries = [_entry(item, f"{where}, entry {i + 1}") for i, item in enumerate(data.get("accepted") or [])]
    return Baseline(where, entries, today or dt.date.today())


def proposed(
    failures: Iterable[dict[str, Any]], kept: Iterable[Entry] = (), today: dt.date | None = None
) -> str:
    """A baseline: the ``kept`` entries as they were, then one entry per failure (rule and
    path) for a team to edit: reason TODO, expiring in 30 days."""
    expires = (today or dt.date.today()) + dt.timedelta(days=UPDATE_DAYS)
    seen: dict[tuple[str, str], None] = {}
    for finding in failures:
        seen.setdefault((str(finding["rule"]), str(finding.get("path", ""))), None)
    accepted: list[dict[str, Any]] = [
        {
            "rule": e.rule,
            **({"path": e.path} if e.path else {}),
            **({"target": e.target} if e.target else {}),
            "reason": e.reason,
            "expires": e.expires,
        }
        for e in kept
    ]
    accepted += [
        {"rule": rule, **({"path": path} if path else {}), "reason": TODO, "expires": expires}
        for rule, path in sorted(seen)
    ]
    header = (
        "# conformance baseline: deviations accepted until a date (see the README, 'Baseline').\n"
        "# Written by --baseline-update: give each entry its reason; widen rule/path with * if you mean to.\n"
    )
    return header + yaml.safe_dump({"version": 1, "accepted": accepted}, sort_keys=False, allow_unicode=True)
