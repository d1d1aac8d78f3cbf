"""Idempotency-Key: the same key and parameters replay; other parameters conflict;
a refused request is not stored."""

from __future__ import annotations

import uuid

import pytest

from conformance.compare import compare_replay

pytestmark = pytest.mark.conformance_idempotency


@pytest.fixture
def params(check):
    return {"account": check.account("express").id, "components": {"payments": {"enabled": True}}}


def test_replay(check, params):
    key = f"conformance-{uuid.uuid4()}"
    first = check.session(params, idempotency_key=key, focus=[])
    again = check.send(params, idempotency_key=key)
    outcome = compare_replay(
        (first.status, first.json, first.content),
        (again.status, again.json, again.content),
        again.headers.get("idempotent-replayed"),
        check.rules,
    )
    check.conclude(outcome, again, ["idempotency.replay", "idempotency.replay_header"])


def test_conflict(check, params):
    key = f"conformance-{uuid.uuid4()}"
    check.session(params, idempotency_key=key, focus=[])
    other = {**params, "components": {"payments": {"enabled": False}}}
    exchange = check.send(other, idempotency_key=key)
    check.judge(exchange, check.oracle.error("idempotency_conflict", None, "idempotency.conflict"))


def test_refusal_not_stored(check, params):
    key = f"conformance-{uuid.uuid4()}"
    refused = check.send({"account": params["account"]}, idempotency_key=key)
    check.require(
        refused.status == 400,
        "idempotency.failure_not_stored",
        "status",
        400,
        refused.status,
        refused,
    )
    again = check.send(params, idempotency_key=key)
    check.require(
        again.status == 200,
        "idempotency.failure_not_stored",
        "status",
        "200: the refusal was not kept, this request is new",
        again.status,
        again,
    )
    check.judge(again, check.expected(again), focus=[])
