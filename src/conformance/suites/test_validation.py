"""Bad requests: 400 with the right ``error.type`` and the exact bracket ``param``.

One check for each entry of :data:`conformance.invalid.INVALID` (the constraints
have theirs in ``test_constraints.py``), and a session for a deleted account. The
oracle must read each request as the refusal it is about (so a wrong case cannot
pass silently); then the target is judged against it.
"""

from __future__ import annotations

import pytest

from conformance.errors import NotRun
from conformance.invalid import INVALID, Where, invalid
from conformance.oracle import ExpectedError

pytestmark = pytest.mark.conformance_validation

COMPONENT = "payments"  # a documented component with documented features


@pytest.mark.parametrize("name", [i.name for i in INVALID if i.name != "constraint_broken"])
def test_rejected(name, check, contract):
    item = invalid(name)
    account = check.account("express")
    where = Where(
        COMPONENT, contract.components[COMPONENT].request_features[0], contract.conventions["probes"]
    )
    params, param = item.apply({"account": account.id, "components": {COMPONENT: {"enabled": True}}}, where)
    exchange = check.send(params)
    expected = check.expected(exchange)
    assert isinstance(expected, ExpectedError) and expected.names(param), (
        f"the oracle does not expect the refusal this case is about ({param}): {expected}"
    )
    check.judge(exchange, expected)


def test_deleted_account_refused(check, target):
    """A session for an account deleted a moment ago is refused as for any unknown account."""
    exchange = target.profile.lifecycle.get("session_after_delete")
    if exchange is None:
        raise NotRun("the target profile could not delete an account to ask a session for")
    check.judge(exchange, check.expected(exchange))
