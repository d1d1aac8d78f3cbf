"""Each documented constraint: enforced where it applies, not where it does not."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.conformance_validation


def _account(contract, check, constraint, allowed):
    """An account of an archetype for which the constraint allows (or not) the value;
    else skip, or -- when the target did not report the controllers -- inconclusive."""
    unknown = []
    for archetype in contract.archetypes:
        account = check.account(archetype)
        verdict = contract.allowed(
            constraint.component, constraint.feature, constraint.value, account.controller
        )
        if verdict is allowed:
            return archetype, account
        if verdict is None:
            unknown.append(archetype)
    if unknown:
        check.undecided(
            f"constraint:{constraint.id}",
            constraint.path,
            f"unknown: the target did not report the controller of its {', '.join(unknown)} account(s)",
        )
        return None
    pytest.skip(f"no archetype {'satisfies' if allowed else 'breaks'} this constraint")


def _params(account, constraint):
    feature = {constraint.feature: constraint.value}
    return {
        "account": account.id,
        "components": {constraint.component: {"enabled": True, "features": feature}},
    }


def test_constraint_enforced(constraint, check, contract):
    """An account the constraint excludes is refused with 400 naming the feature."""
    found = _account(contract, check, constraint, False)
    if found is None:
        return
    archetype, account = found
    exchange = check.send(_params(account, constraint))
    expected = check.expected(exchange)
    assert getattr(expected, "param", None) == constraint.path, "the oracle must expect this refusal"
    check.judge(exchange, expected, cells=[(archetype, constraint.component, constraint.feature)])


def test_constraint_not_over_enforced(constraint, check, contract):
    """An account the constraint allows gets the value it asked for."""
    found = _account(contract, check, constraint, True)
    if found is None:
        return
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
