"""The shape of a live answer: fields, types, every component, and the wire."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.conformance_shape

ARCHETYPE = "express"  # any archetype: shape does not depend on it


@pytest.fixture
def example_params(contract, check):
    """The documented example request, for an account of the target's."""
    params = dict(contract.examples["create_account_session.request"]["params"])
    params["account"] = check.account(ARCHETYPE).id
    return params


def test_documented_request_has_documented_shape(check, example_params):
    check.session(example_params, values=False)


@pytest.mark.parametrize("field", ["object", "account", "livemode", "client_secret", "expires_at"])
def test_session_field(field, check, example_params):
    exchange = check.send(example_params)
    expected = check.expected(exchange)
    outcome = check.compare(
        exchange.status, exchange.json, expected, sent_at=exchange.sent_at, focus=[], fields=True
    )
    outcome.findings = [f for f in outcome.findings if f.path in (field, "status", "body")]
    check.conclude(outcome, exchange, [f"session.{field}"])


def test_client_secret_unique(check, example_params):
    first, second = check.send(example_params), check.send(example_params)
    secrets = [e.json.get("client_secret") if isinstance(e.json, dict) else None for e in (first, second)]
    check.require(
        all(secrets),
        "session.client_secret",
        "client_secret",
        "a secret in each answer",
        [first.status, second.status],
        second,
    )
    check.require(
        secrets[0] != secrets[1],
        "session.client_secret_unique",
        "client_secret",
        "two different secrets",
        "the same secret twice",
        second,
    )


def _answers(check, example_params):
    """A success and an error answer, to check what every answer carries."""
    missing = {"account": example_params["account"]}
    return {"success": check.send(example_params), "error": check.send(missing)}


@pytest.mark.parametrize("kind", ["success", "error"])
def test_json_content_type(kind, check, example_params):
    exchange = _answers(check, example_params)[kind]
    if kind == "success":  # the JSON of an answer that is not a session proves nothing
        check.require(exchange.status == 200, "session.created", "status", 200, exchange.status, exchange)
    else:
        check.require(
            400 <= exchange.status < 500,
            "validation.parameter_missing",
            "status",
            400,
            exchange.status,
            exchange,
        )
    ctype = exchange.headers.get("content-type", "")
    check.require(
        ctype.split(";")[0].strip() == "application/json",
        "wire.json",
        "Content-Type",
        "application/json",
        ctype or "(absent)",
        exchange,
    )
    check.require(
        type(exchange.json).__name__ != "NotJSON",
        "wire.json",
        "body",
        "JSON",
        repr(exchange.json),
        exchange,
    )


@pytest.mark.parametrize("kind", ["success", "error"])
def test_request_id_header(kind, check, example_params):
    exchange = _answers(check, example_params)[kind]
    request_id = exchange.headers.get("request-id", "")
    prefix = check.conv["request_id_prefix"]
    check.require(
        request_id.startswith(prefix) and len(request_id) > len(prefix),
        "wire.request_id",
        "Request-Id",
        f"{prefix}...",
        request_id or "(absent)",
        exchange,
    )
