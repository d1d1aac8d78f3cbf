"""Findings: one difference between an answer and the oracle's expectation, with its
rule and severity, and an :class:`Outcome` that collects them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from conformance.catalogue import Rule, Severity

__all__ = ["ABSENT", "FAILURE", "INCONCLUSIVE", "NOTE", "WARNING", "Finding", "Outcome", "json_type"]

FAILURE, WARNING, NOTE, INCONCLUSIVE = (
    Severity.FAILURE,
    Severity.WARNING,
    Severity.NOTE,
    Severity.INCONCLUSIVE,
)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 120 else text[:117] + "..."


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()
_ABSENT = ABSENT


@dataclass(frozen=True)
class Finding:
    severity: Severity
    kind: str  # status | missing | type | value | extra | shape
    path: str
    rule: Rule
    expected: Any = _ABSENT
    actual: Any = _ABSENT

    def line(self) -> str:
        return (
            f"{self.path}: expected {_show(self.expected)}, received {_show(self.actual)}"
            f" -- {self.rule.says} ({self.rule.cite()})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": str(self.severity),
            "kind": self.kind,
            "path": self.path,
            "rule": self.rule.id,
            "grade": str(self.rule.grade),
            "category": str(self.rule.category),
            "sources": list(self.rule.sources),
            "says": self.rule.says,
            "expected": None if self.expected is _ABSENT else self.expected,
            "actual": None if self.actual is _ABSENT else self.actual,
        }


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    explanation: str = ""

    def add(
        self,
        severity: Severity,
        kind: str,
        path: str,
        rule: Rule,
        expected: Any = _ABSENT,
        actual: Any = _ABSENT,
    ) -> None:
        self.findings.append(Finding(severity, kind, path, rule, expected, actual))

    def of(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def failures(self) -> list[Finding]:
        return self.of(FAILURE)

    @property
    def warnings(self) -> list[Finding]:
        return self.of(WARNING)

    @property
    def notes(self) -> list[Finding]:
        return self.of(NOTE)

    @property
    def inconclusive(self) -> list[Finding]:
        return self.of(INCONCLUSIVE)

    def extend(self, other: Outcome) -> None:
        self.findings.extend(other.findings)
        if other.explanation:
            self.explanation = "\n".join(filter(None, (self.explanation, other.explanation)))
