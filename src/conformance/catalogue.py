"""The one catalogue of rules: every rule a check can report, with its grade, its
category, its sources and what it says.

Rules come from three places, all data: the contract's feature defaults
(``default:<component>.<feature>``, from ``defaults.json``), its constraints
(``constraint:<id>``, from ``constraints.json``), and ``conventions.yaml``'s
``rules`` (the wire protocol, errors, accounts, the SDK gate's rules...).
:func:`catalogue` builds it once per contract; an id registered twice is an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.contracts.model import Contract

__all__ = ["Catalogue", "Category", "Grade", "Rule", "Severity", "catalogue"]


class Grade(StrEnum):
    """How sure a rule is (``STRIPE_WIRE.md``): breaking a doc or convention rule is a
    failure; an example-only value that differs is a note."""

    DOC = "doc"
    CONVENTION = "convention"
    EXAMPLE_ONLY = "example-only"


class Severity(StrEnum):
    FAILURE = "failure"  # a rule is broken
    WARNING = "warning"  # additive drift: something the contract does not know
    NOTE = "note"  # a free detail or an example-only value differs
    INCONCLUSIVE = "inconclusive"  # the suite could not judge: a fact about the target is unknown


class Category(StrEnum):
    """The check categories, in the order reports show them (``-m`` selects them)."""

    SHAPE = "shape"
    DEFAULTS = "defaults"
    VALIDATION = "validation"
    AUTH = "auth"
    IDEMPOTENCY = "idempotency"
    FUZZ = "fuzz"
    SCHEMATHESIS = "schemathesis"
    SDK = "sdk"
    DRIFT = "drift"


# categories whose checks judge every rule they meet (generated or whole-answer checks)
BROAD = frozenset({Category.FUZZ, Category.SCHEMATHESIS, Category.SDK, Category.DRIFT})


@dataclass(frozen=True)
class Rule:
    id: str
    grade: Grade
    category: Category
    sources: tuple[str, ...]
    says: str
    free: bool = False  # a detail left free (error.code): a difference is only a note
    prerequisite: bool = False  # without it nothing else can be judged: fails a check of any category

    @property
    def binding(self) -> bool:
        """Whether breaking it is a failure (else only a note)."""
        return self.grade in (Grade.DOC, Grade.CONVENTION) and not self.free

    def cite(self) -> str:
        return f"{self.id} [{self.grade}; {', '.join(self.sources)}]"

    def judged_by(self, category: Category | str | None) -> bool:
        """Whether a check of ``category`` fails on this rule: its own rules, the
        prerequisites, and everything for the broad categories (fuzz, drift, ...)."""
        if category is None or self.prerequisite or category in BROAD:
            return True
        return Category(category) == self.category


class Catalogue(Mapping[str, Rule]):
    """Rules by id; :meth:`register` refuses an id it already holds."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def register(self, rule: Rule) -> Rule:
        if rule.id in self._rules:
            raise ValueError(f"rule {rule.id!r} is registered twice")
        self._rules[rule.id] = rule
        return rule

    def __getitem__(self, rule_id: str) -> Rule:
        return self._rules[rule_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def in_category(self, category: Category) -> list[Rule]:
        return [r for r in self._rules.values() if r.category == category]


def _from_conventions(rule_id: str, info: Mapping[str, Any]) -> Rule:
    sources = info.get("sources") or [info["source"]]
    return Rule(
        rule_id,
        Grade(info["grade"]),
        Category(info["category"]),
        tuple(sources),
        info["says"],
        free=bool(info.get("free")),
        prerequisite=bool(info.get("prerequisite")),
    )


def catalogue(contract: Contract) -> Catalogue:
    """Every rule of ``contract`` (built once per contract object)."""
    found = contract.memo.get("catalogue")
    if isinstance(found, Catalogue):
        return found
    rules = Catalogue()
    for rule_id, info in contract.conventions.get("rules", {}).items():
        rules.register(_from_conventions(rule_id, info))
    for comp in contract.components.values():
        for feat in comp.features.values():
            if feat.default is not None:
                rules.register(
                    Rule(
                        f"default:{comp.name}.{feat.name}",
                        Grade(feat.default.grade),
                        Category.DEFAULTS,
                        feat.default.sources,
                        f"{feat.name} of {comp.name} {feat.default.describe()}",
                    )
                )
    for constraint in contract.constraints:
        rules.register(
            Rule(
                f"constraint:{constraint.id}",
                Grade(constraint.grade),
                Category.VALIDATION,
                constraint.sources,
                f"{constraint.describe()} (of {constraint.component}); otherwise 400 naming it",
            )
        )
    contract.memo["catalogue"] = rules
    return rules
