"""The connected accounts the suite needs, as the target profile made them: each
archetype with the controller asked for (as the target reports it), and an
account's life (made, read, deleted, gone). No check here makes an account: the
profile did, once for the run."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.conformance_defaults, pytest.mark.conformance_needs("accounts")]


def test_archetype_created(archetype, check, target):
    refused = target.accounts.failed.get(archetype)
    check.require(not refused, "accounts.archetype", "POST /v1/accounts", "an account made", refused)
    account = check.account(archetype)
    reported = account.controller or {}
    wrong = {
        k: reported.get(k, "(not reported)") for k, v in account.requested.items() if reported.get(k) != v
    }
    check.require(
        not wrong,
        "accounts.archetype",
        "controller",
        account.requested,
        wrong if account.controller else "no controller: the target did not report one",
        account.exchange,
    )


def _body(exchange, name):
    return exchange.json.get(name) if isinstance(exchange.json, dict) else None


def test_account_lifecycle(check, target):
    life = target.profile.lifecycle
    made = life.get("create")
    check.require(
        made is not None and made.status == 200 and isinstance(_body(made, "id"), str),
        "accounts.lifecycle",
        "POST /v1/accounts",
        "200 with an account id",
        made.status if made else "not sent",
        made,
    )
    account_id = _body(made, "id")
    got, gone, after = life["retrieve"], life["delete"], life["after_delete"]
    check.require(
        got.status == 200 and _body(got, "id") == account_id,
        "accounts.lifecycle",
        "GET /v1/accounts/{id}",
        {"status": 200, "id": account_id},
        {"status": got.status, "id": _body(got, "id")},
        got,
    )
    check.require(
        gone.status == 200 and _body(gone, "deleted") is True,
        "accounts.lifecycle",
        "DELETE /v1/accounts/{id}",
        {"status": 200, "deleted": True},
        {"status": gone.status, "deleted": _body(gone, "deleted")},
        gone,
    )
    check.require(
        after.status in (403, 404) and isinstance(_body(after, "error"), dict),
        "accounts.lifecycle",
        "GET /v1/accounts/{id} after DELETE",
        "404 resource_missing (or 403 account_invalid), with an error",
        {"status": after.status, "error": _body(after, "error")},
        after,
    )
