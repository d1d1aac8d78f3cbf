"""Each documented constraint: enforced where it applies, not where it does not."""

from __future__ import annotations

import pytest

from conformance.contracts.rules import condition_holds

pytestmark = pytest.mark.conformance_validation


def _archetypes(contract, check, constraint, holds):
    for archetype in contract.archetypes:
        account = check.account(archetype)
        if condition_holds(constraint.requires, account.controller) is holds:
            yield archetype, account


def _params(account, constraint):
    feature = {constraint.feature: constraint.value}
    return {
        "account": account.id,
        "components": {constraint.component: {"enabled": True, "features": feature}},
    }


def test_constraint_enforced(constraint, check, contract):
    """An account the constraint excludes is refused with 400 naming the feature."""
    found = next(_archetypes(contract, check, constraint, False), None)
    if found is None:
        pytest.skip("every archetype satisfies this constraint")
    archetype, account = found
    exchange = check.send(_params(account, constraint))
    expected = check.expected(exchange)
    assert getattr(expected, "param", None) == constraint.path, "the oracle must expect this refusal"
    check.judge(exchange, expected, cells=[(archetype, constraint.component, constraint.feature)])


def test_constraint_not_over_enforced(constraint, check, contract):
    """An account the constraint allows gets the value it asked for."""
    found = next(_archetypes(contract, check, constraint, True), None)
    if found is None:
        pytest.skip("no archetype satisfies this constraint")
    archetype, account = found
    exchange = check.send(_params(account, constraint))
    check.require(
        exchange.status == 200,
        f"constraint:{constraint.id}",
        constraint.path,
        "accepted: this account satisfies the constraint",
        f"refused with HTTP {exchange.status}",
        exchange,
    )
    check.judge(
        exchange,
        check.expected(exchange),
        focus=[constraint.component],
        cells=[(archetype, constraint.component, constraint.feature)],
    )
