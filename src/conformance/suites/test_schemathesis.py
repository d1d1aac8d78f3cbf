"""schemathesis, driven by contracts/openapi.yaml, its built-in checks reported as
conformance checks: no 5xx, only documented statuses and content types, answers
that match their schema, and requests the schema forbids refused."""

from __future__ import annotations

import pytest

from conformance.fuzz.runner import lists_of
from conformance.fuzz.schema import SchemaCases

pytestmark = pytest.mark.conformance_schemathesis
# cases drawn a hypothesis example: schemathesis's are costly to draw, and about one
# negative case in five is rejected by its own generator (the whole batch with it)
BATCH = {"positive": 4, "negative": 2}


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_schemathesis_checks(mode, fuzz, contract):
    cases = SchemaCases(fuzz, contract.directory / "openapi.yaml")
    fuzz.explore(
        lists_of(cases.strategy(mode)),
        cases.send,
        cases.judge,
        batch=BATCH[mode],
        examples=fuzz.schemathesis_examples,
    )
