"""schemathesis, driven by contracts/openapi.yaml, its built-in checks reported as
conformance checks: no 5xx, only documented statuses and content types, answers
that match their schema, and requests the schema forbids refused."""

from __future__ import annotations

import pytest

from conformance.fuzz.schema import SchemaCases

pytestmark = pytest.mark.conformance_schemathesis


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_schemathesis_checks(mode, fuzz, contract):
    cases = SchemaCases(fuzz, contract.directory / "openapi.yaml")
    fuzz.explore(cases.strategy(mode), cases.send, cases.judge, batch=4)  # its cases are costly to draw
