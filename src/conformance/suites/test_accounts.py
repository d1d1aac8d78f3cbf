"""The connected accounts the suite needs: each archetype can be made, retrieved
and deleted, so that every default and constraint can be reached."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.conformance_defaults


def test_archetype_created(archetype, check):
    account = check.account(archetype)
    missing = {k: v for k, v in account.requested.items() if account.controller.get(k) != v}
    check.require(
        not missing,
        "accounts.archetype",
        "controller",
        account.requested,
        {k: account.controller.get(k) for k in missing},
        account.exchange,
    )


def test_account_lifecycle(check, contract):
    spec = contract.archetypes["express"]
    made = check.target.client.create_account({"controller": spec["controller"]})
    check.require(
        made.status == 200 and isinstance(made.json, dict) and "id" in made.json,
        "accounts.lifecycle",
        "POST /v1/accounts",
        200,
        made.status,
        made,
    )
    account_id = made.json["id"]
    got = check.target.client.retrieve_account(account_id)
    check.require(
        got.status == 200 and got.json.get("id") == account_id,
        "accounts.lifecycle",
        "GET /v1/accounts/{id}",
        account_id,
        got.status,
        got,
    )
    gone = check.target.client.delete_account(account_id)
    check.require(
        gone.status == 200 and gone.json.get("deleted") is True,
        "accounts.lifecycle",
        "DELETE /v1/accounts/{id}",
        {"deleted": True},
        gone.status,
        gone,
    )
    after = check.target.client.retrieve_account(account_id)
    check.judge(after, check.oracle.error("not_found", None, "accounts.lifecycle"))


def _field(exchange, name):
    return exchange.json.get(name) if isinstance(exchange.json, dict) else None
