"""The conformance matrix (component x feature, per archetype) and the run's coverage.

Cells come from each check's ``cells`` list, ``[archetype, component, column,
outcome]``. When several checks touch a cell the worst outcome wins: failed,
then warning, then passed. A cell no check touched is *not exercised*; a
column the component does not have is *not applicable*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Cell", "Matrix", "build_matrices", "coverage"]

ENABLED = "enabled"
NOT_EXERCISED = "none"
NOT_APPLICABLE = "na"
_RANK = {"passed": 1, "warning": 2, "failed": 3}
_MAX_CHECKS = 6  # check ids named in a cell's tooltip


@dataclass
class Cell:
    state: str = NOT_EXERCISED  # passed | warning | failed | none | na
    checks: list[str] = field(default_factory=list)

    def merge(self, outcome: str, check: str) -> None:
        if _RANK.get(outcome, 0) > _RANK.get(self.state, 0):
            self.state = outcome
        if check not in self.checks:
            self.checks.append(check)

    @property
    def title(self) -> str:
        named = ", ".join(c.rsplit("::", 1)[-1] for c in self.checks[:_MAX_CHECKS])
        more = len(self.checks) - _MAX_CHECKS
        return named + (f" and {more} more" if more > 0 else "")


@dataclass
class Matrix:
    archetype: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]]

    def count(self, state: str) -> int:
        return sum(1 for _, cells in self.rows for cell in cells if cell.state == state)


def _components(summary: dict[str, Any]) -> dict[str, list[str]]:
    """Component -> its features: the contract's, plus any a cell names that it does not know."""
    known = (summary.get("contract") or {}).get("components") or {}
    components: dict[str, list[str]] = {name: list(features) for name, features in sorted(known.items())}
    for check in summary.get("checks", []):
        for _, comp, col, *_ in check.get("cells", []):
            features = components.setdefault(comp, [])
            if col != ENABLED and col not in features:
                features.append(col)
    return components


def _archetypes(summary: dict[str, Any]) -> list[str]:
    names = list((summary.get("contract") or {}).get("archetypes") or [])
    for check in summary.get("checks", []):
        for cell in check.get("cells", []):
            if cell[0] not in names:
                names.append(cell[0])
    return names


def build_matrices(summary: dict[str, Any]) -> list[Matrix]:
    components = _components(summary)
    columns = [ENABLED]
    for features in components.values():  # first appearance keeps related features together
        columns += [f for f in features if f not in columns]
    grid: dict[tuple[str, str, str], Cell] = {}
    for check in summary.get("checks", []):
        for arch, comp, col, outcome, *_ in check.get("cells", []):
            grid.setdefault((arch, comp, col), Cell()).merge(str(outcome), check.get("id", ""))
    matrices = []
    for arch in _archetypes(summary):
        rows = []
        for comp, features in components.items():
            cells = []
            for col in columns:
                if col != ENABLED and col not in features:
                    cells.append(Cell(NOT_APPLICABLE))
                else:
                    cells.append(grid.get((arch, comp, col), Cell()))
            rows.append((comp, cells))
        matrices.append(Matrix(arch, columns, rows))
    return matrices


def _ratio(done: int, total: int) -> dict[str, Any]:
    return {"done": done, "total": total, "percent": round(100 * done / total) if total else 0}


def coverage(summary: dict[str, Any], matrices: list[Matrix]) -> dict[str, Any]:
    """How much of the contract the run exercised."""
    components = _components(summary)
    touched: set[tuple[str, str]] = set()
    for matrix in matrices:
        for comp, cells in matrix.rows:
            for col, cell in zip(matrix.columns, cells, strict=True):
                if cell.state in _RANK:
                    touched.add((comp, col))
    pairs = [(comp, f) for comp, features in components.items() for f in features]
    applicable = sum(1 for m in matrices for _, cells in m.rows for c in cells if c.state != NOT_APPLICABLE)
    exercised = sum(1 for m in matrices for _, cells in m.rows for c in cells if c.state in _RANK)
    rules = (summary.get("contract") or {}).get("rules")
    rules_total = len(rules) if isinstance(rules, list) else int(rules or 0)
    rules_done = len({rule for check in summary.get("checks", []) for rule in check.get("rules", [])})
    counts = summary.get("counts", {})
    result: dict[str, Any] = {
        "components": _ratio(len({comp for comp, _ in touched}), len(components)),
        "features": _ratio(sum(1 for pair in pairs if pair in touched), len(pairs)),
        "cells": _ratio(exercised, applicable),
        "rules": _ratio(min(rules_done, rules_total) if rules_total else rules_done, rules_total),
        "checks": _ratio(counts.get("total", 0) - counts.get("skipped", 0), counts.get("total", 0)),
    }
    if isinstance(rules, list):
        done = {rule for check in summary.get("checks", []) for rule in check.get("rules", [])}
        result["unexercised"] = sorted(set(map(str, rules)) - done)
    if isinstance(summary.get("fuzz_cases"), int):
        result["fuzz_cases"] = summary["fuzz_cases"]
    return result
