"""The rule engine: a component's feature values from its default rules.

This is the one place that turns contract rules into values. The importer uses
it to check the docs' examples, the oracle to predict a response, and through
the oracle the embedded mock to answer one. It is tested against hand-written
cases in ``tests/test_rules.py``.

Rule kinds (as stored in ``contracts/defaults.json``):

- ``{"kind": "constant", "value": B}``
- ``{"kind": "opposite", "of": F}`` / ``{"kind": "same", "of": F}``: the effective
  value of feature ``F`` of the same component, negated or not;
- ``{"kind": "conditional", "when": {FIELD: V, ...}, "then": B, "else": B}``: on
  the account's controller, given as flat dotted fields
  (``{"controller.losses.payments": "stripe"}``).

An account field that is not known makes a conditional rule ``None``: unknown,
so never compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["condition_holds", "evaluate_features"]

Rule = Mapping[str, Any]


def condition_holds(when: Mapping[str, str], account: Mapping[str, str] | None) -> bool | None:
    """True/False when every field is known, else None."""
    if account is None or any(name not in account for name in when):
        return None
    return all(account[name] == value for name, value in when.items())


def evaluate_features(
    rules: Mapping[str, Rule],
    given: Mapping[str, bool],
    account: Mapping[str, str] | None,
) -> dict[str, bool | None]:
    """Effective value of every feature with a rule, and of every given feature.

    ``given`` holds the features the request set explicitly; they win over rules,
    and rules that refer to another feature see its effective value.
    """
    values: dict[str, bool | None] = {}
    resolving: set[str] = set()

    def value(name: str) -> bool | None:
        if name in values:
            return values[name]
        if name in given:
            values[name] = given[name]
            return values[name]
        rule = rules.get(name)
        if rule is None or name in resolving:
            return None
        resolving.add(name)
        result = _apply(rule, value, account)
        resolving.discard(name)
        values[name] = result
        return result

    for name in (*rules, *given):
        value(name)
    return values


def _apply(rule: Rule, value: Any, account: Mapping[str, str] | None) -> bool | None:
    kind = rule["kind"]
    if kind == "constant":
        return bool(rule["value"])
    if kind in ("opposite", "same"):
        other = value(rule["of"])
        if other is None:
            return None
        return (not other) if kind == "opposite" else bool(other)
    if kind == "conditional":
        holds = condition_holds(rule["when"], account)
        if holds is None:
            return None
        return bool(rule["then"] if holds else rule["else"])
    raise ValueError(f"unknown rule kind {kind!r}")
