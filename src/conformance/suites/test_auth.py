"""Authentication: 401 without a key or with a malformed one, both auth schemes
accepted, and the key never echoed."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.conformance_auth


@pytest.fixture
def params(check):
    return {"account": check.account("express").id, "components": {"payments": {"enabled": True}}}


def test_no_key(check, params):
    exchange = check.send(params, auth=None)
    check.judge(exchange, check.oracle.error("authentication", None, "auth.no_key"))


def test_malformed_key(check, params):
    key = check.conv["probes"]["malformed_key"]
    exchange = check.send(params, auth="bearer", key=key)
    check.judge(exchange, check.oracle.error("authentication", None, "auth.malformed_key"))
    echoed = key in exchange.content.decode("utf-8", "replace") or any(
        key in v for v in exchange.headers.values()
    )
    check.require(
        not echoed,
        "auth.key_masked",
        "error.message",
        "the key masked",
        "the key in clear",
        exchange,
    )


@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_scheme_accepted(scheme, check, params):
    exchange = check.send(params, auth=scheme)
    check.require(exchange.status == 200, f"auth.{scheme}", "status", 200, exchange.status, exchange)
    check.require(
        check.target.client.api_key not in exchange.content.decode("utf-8", "replace"),
        "auth.key_masked",
        "body",
        "no key in the answer",
        "the key in clear",
        exchange,
    )
    check.judge(exchange, check.expected(exchange), focus=[])
