"""The docs' example exchange, replayed from cassettes/documented/ and judged by
the contract: run with `--record-mode none --cassettes documented`.

The documented answer may differ from the prose rules only where the contract
lists a documentation inconsistency; those differences are notes."""

from __future__ import annotations

import pytest

from conformance.compare import FAILURE, NOTE, Outcome
from conformance.forms import decode_form
from conformance.pytest.options import contract_of

pytestmark = [pytest.mark.conformance_shape, pytest.mark.conformance_documented_cassettes]


def pytest_generate_tests(metafunc):
    if "documented" in metafunc.fixturenames:
        examples = contract_of(metafunc.config).examples
        names = [k.removesuffix(".request") for k in examples if k.endswith(".request")]
        metafunc.parametrize("documented", [n for n in names if f"{n}.response" in examples])


def test_documented_example(documented, check, contract, oracle):
    request = contract.examples[f"{documented}.request"]
    shown = contract.examples[f"{documented}.response"]
    exchange = check.send(form=request["form"])
    wire = decode_form(request["form"])
    expected = oracle.expect(wire, {wire["account"]: shown.get("shows_account")}, livemode=False)
    assert not hasattr(expected, "status"), f"the oracle refuses the documented request: {expected}"
    outcome = check.compare(exchange.status, exchange.json, expected, sent_at=exchange.sent_at, fields=True)
    listed = {p for item in contract.inconsistencies for p in item["paths"]}
    judged = Outcome(explanation=outcome.explanation)
    for f in outcome.findings:
        severity = NOTE if f.severity == FAILURE and f.path in listed else f.severity
        judged.add(severity, f.kind, f.path, f.rule, f.expected, f.actual)
    check.conclude(judged, exchange, sorted({f.rule.id for f in outcome.findings}) or ["session.components"])
