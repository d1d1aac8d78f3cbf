"""The documented example responses against the contract.

An example may differ from the prose rules only where the contract's list of
documentation inconsistencies says so; those differences are notes. Any other
difference means the docs changed or the import is wrong: a failure.
"""

from __future__ import annotations

import pytest

from conformance.compare import FAILURE, NOTE, Outcome
from conformance.forms import decode_form, encode_form

pytestmark = pytest.mark.conformance_shape


def _responses(contract):
    return {k: v for k, v in contract.examples.items() if k.endswith(".response")}


def test_every_page_has_an_example(contract):
    pages = set(contract.provenance["documents"])
    shown = {v["source"].split("#")[0] for v in _responses(contract).values()}
    assert shown == pages, f"pages without an example response: {sorted(pages - shown)}"


def test_documented_example_conforms(example, contract, oracle, offline_check):
    name = example
    example = contract.examples[name]
    body = example["body"]
    request = next((v for k, v in contract.examples.items() if k.endswith(".request")), None)
    if request is not None and name.startswith(request["source"].split(".")[0]):
        params = decode_form(request["form"])
    else:  # an object page has no request: the example's enabled flags stand for it
        shown = {c: {"enabled": v["enabled"]} for c, v in body["components"].items()}
        params = decode_form(encode_form({"account": body["account"], "components": shown}))
    account = body["account"]
    controller = example.get("shows_account", {})
    expected = oracle.render(params, account, controller, livemode=body["livemode"])
    outcome = offline_check.compare(
        200,
        body,
        expected,
        sent_at=body["expires_at"] - 60,
        focus=[c for c in body["components"] if c in contract.components],
    )
    recorded = {p for item in contract.inconsistencies for p in item["paths"]}
    judged = Outcome(explanation=outcome.explanation)
    for finding in outcome.findings:
        severity = NOTE if finding.path in recorded else FAILURE
        judged.add(severity, finding.kind, finding.path, finding.rule, finding.expected, finding.actual)
    offline_check.conclude(judged, None, sorted({f.rule.id for f in outcome.findings}))
