"""Drift: one whole answer against the whole contract, every field and value.

The API grows: a component, feature or field the contract does not know is a
warning here, not a failure. Something the contract knows that is missing, of
another type, or off a documented default fails. Run it against a cassette
recorded long ago (`--record-mode none`) to see what the target has become."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.conformance_drift


def test_whole_answer_against_the_contract(archetype, check, contract):
    params = dict(contract.examples["create_account_session.request"]["params"])
    params["account"] = check.account(archetype).id
    check.session(params, fields=True)
