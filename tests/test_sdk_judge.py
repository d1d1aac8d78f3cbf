"""The SDK gate's parts, without an SDK: the judge, the cases, the adapter resolution."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.catalogue import catalogue
from conformance.compare import FAILURE, NOTE, WARNING
from conformance.contracts.model import load_contract
from conformance.contracts.rules import condition_holds
from conformance.forms import decode_form, encode_form
from conformance.oracle import ExpectedError, Oracle, flat_controller
from conformance.proxy import Recorded
from conformance.sdk import adapter as adapter_module
from conformance.sdk.adapter import Adapter, AdapterError, Answer, resolve
from conformance.sdk.cases import ACCOUNT, ERRORS, component_case, error_case, example_case, fuzzed_cases
from conformance.sdk.judge import judge_answer, judge_request

from .conftest import CONTRACTS

RULES = catalogue(load_contract(CONTRACTS))

KEY = "sk_test_judge0123456789"
INTENDED = {
    "account": "acct_1",
    "components": {"payments": {"enabled": True, "features": {"refund_management": False}}},
}
WIRE = decode_form(encode_form(INTENDED))
GOOD_BODY = (  # brackets escaped or not: both are the same form
    b"account=acct_1&components%5Bpayments%5D%5Benabled%5D=true"
    b"&components[payments][features][refund_management]=false"
)
SESSION = {
    "object": "account_session",
    "client_secret": "secret_x",
    "components": {"payments": {"enabled": True, "features": {"refund_management": False}}},
}


def record(body: bytes = GOOD_BODY, status: int = 200, answer: Any = SESSION, **changes: Any) -> Recorded:
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "authorization": f"Bearer {KEY}",
        "idempotency-key": "idem-1",
        "stripe-version": "2025-01-01",
    }
    headers.update(changes.pop("headers", {}))
    fields: dict[str, Any] = {
        "seq": 1,
        "method": "POST",
        "path": "/v1/account_sessions",
        "query": "",
        "headers": tuple((k, v) for k, v in headers.items() if v is not None),
        "body": body,
        "status": status,
        "response_headers": (("content-type", "application/json"),),
        "response_body": json.dumps(answer).encode(),
        "started": 0.0,
        "elapsed": 0.0,
    }
    fields.update(changes)
    return Recorded(**fields)


def paths(outcome, severity=FAILURE) -> dict[str, str]:
    return {f.path: f.rule.id for f in outcome.findings if f.severity == severity}


# -- the request ----------------------------------------------------------------------------
def test_a_conforming_request_has_no_findings():
    described = {**INTENDED, "idempotency_key": "idem-1", "api_version": "2025-01-01"}
    assert judge_request([record()], WIRE, described, KEY, RULES).findings == []


def test_basic_auth_is_accepted_too():
    basic = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert (
        judge_request([record(headers={"authorization": basic})], WIRE, INTENDED, KEY, RULES).findings == []
    )


def test_python_spelled_booleans_are_named_by_bracket_path():
    body = GOOD_BODY.replace(b"=true", b"=True").replace(b"=false", b"=False")
    found = paths(judge_request([record(body)], WIRE, INTENDED, KEY, RULES))
    assert found == {
        "components[payments][enabled]": "sdk.request.booleans",
        "components[payments][features][refund_management]": "sdk.request.booleans",
    }


def test_missing_and_extra_parameters_are_named():
    body = b"account=acct_1&components[payments][enabled]=true"
    body += b"&components[payments][feature][refund_management]=false"
    found = paths(judge_request([record(body)], WIRE, INTENDED, KEY, RULES))
    assert found == {
        "components[payments][features][refund_management]": "sdk.request.params",
        "components[payments][feature][refund_management]": "sdk.request.params",
    }


@pytest.mark.parametrize(
    ("changes", "path", "rule"),
    [
        ({"headers": {"content-type": "application/json"}}, "Content-Type", "sdk.request.content_type"),
        ({"headers": {"authorization": None}}, "Authorization", "sdk.request.auth"),
        ({"headers": {"authorization": "Bearer sk_test_other"}}, "Authorization", "sdk.request.auth"),
        ({"headers": {"idempotency-key": None}}, "Idempotency-Key", "sdk.request.idempotency_key"),
        ({"headers": {"stripe-version": "2020-08-27"}}, "Stripe-Version", "sdk.request.stripe_version"),
        ({"method": "GET"}, "endpoint", "sdk.request.endpoint"),
        ({"path": "/v1/account_session"}, "endpoint", "sdk.request.endpoint"),
        ({"query": "account=acct_1"}, "endpoint", "sdk.request.endpoint"),
    ],
)
def test_each_wire_rule_is_enforced(changes, path, rule):
    described = {**INTENDED, "idempotency_key": "idem-1", "api_version": "2025-01-01"}
    assert paths(judge_request([record(**changes)], WIRE, described, KEY, RULES)) == {path: rule}


def test_headers_not_asked_for_are_not_required():
    plain = record(headers={"idempotency-key": None, "stripe-version": None})
    assert judge_request([plain], WIRE, INTENDED, KEY, RULES).findings == []


def test_exactly_one_request_per_call():
    assert paths(judge_request([], WIRE, INTENDED, KEY, RULES)) == {"requests": "sdk.request.once"}
    assert paths(judge_request([record(), record()], WIRE, INTENDED, KEY, RULES)) == {
        "requests": "sdk.request.once"
    }


def test_a_malformed_form_is_a_failure():
    found = paths(judge_request([record(b"a=%zz")], WIRE, INTENDED, KEY, RULES))
    assert found == {"body": "sdk.request.params"}


# -- the answer ---------------------------------------------------------------------------------
def answer(output: dict[str, Any]) -> Answer:
    return Answer(output)


def test_a_faithful_object_has_no_findings():
    assert judge_answer(answer(json.loads(json.dumps(SESSION))), record(), RULES).findings == []


def test_lost_and_changed_fields_fail_added_ones_warn():
    parsed = json.loads(json.dumps(SESSION))
    del parsed["components"]["payments"]["features"]["refund_management"]
    parsed["object"] = "AccountSession"
    parsed["components"]["payments"]["enabled"] = "true"
    parsed["components"]["payments"]["last_response"] = {}
    outcome = judge_answer(answer(parsed), record(), RULES)
    assert paths(outcome) == {
        "components.payments.features.refund_management": "sdk.parsed",
        "object": "sdk.parsed",
        "components.payments.enabled": "sdk.parsed",
    }
    assert paths(outcome, WARNING) == {"components.payments.last_response": "sdk.parsed.extra"}
    kinds = {f.path: f.kind for f in outcome.findings}
    assert kinds["components.payments.enabled"] == "type" and kinds["object"] == "value"


def test_a_lost_unknown_component_fails():
    raw = {**SESSION, "components": {**SESSION["components"], "zz_new": {"enabled": False, "features": {}}}}
    outcome = judge_answer(answer(json.loads(json.dumps(SESSION))), record(answer=raw), RULES)
    assert paths(outcome) == {"components.zz_new": "sdk.parsed"}


ERROR = {"error": {"type": "invalid_request_error", "param": "components[payments][enabled]", "code": "x"}}


def test_an_error_must_carry_status_type_and_param():
    good = {
        "class": "InvalidRequestError",
        "status": 400,
        "type": "invalid_request_error",
        "param": "components[payments][enabled]",
        "code": "x",
    }
    assert judge_answer(answer({"error": good}), record(status=400, answer=ERROR), RULES).findings == []
    bad = {**good, "status": 500, "param": None, "code": "y"}
    outcome = judge_answer(answer({"error": bad}), record(status=400, answer=ERROR), RULES)
    assert paths(outcome) == {"error.status": "sdk.error", "error.param": "sdk.error"}
    assert paths(outcome, NOTE) == {"error.code": "sdk.error.code"}


def test_an_error_for_a_session_and_an_object_for_an_error_fail():
    error = {"error": {"class": "APIError", "status": 200, "type": None, "param": None, "code": None}}
    assert paths(judge_answer(answer(error), record(), RULES)) == {"sdk": "sdk.error"}
    assert paths(judge_answer(answer(SESSION), record(status=400, answer=ERROR), RULES)) == {
        "sdk": "sdk.error"
    }


# -- the cases ------------------------------------------------------------------------------------
def controllers(committed) -> dict[str, dict[str, str]]:
    return {
        name: flat_controller({"controller": spec["controller"]})
        for name, spec in committed.archetypes.items()
    }


def test_example_case_is_the_documented_request(committed):
    case = example_case(committed)
    documented = committed.examples["create_account_session.request"]
    assert case.wire("acct_x") == decode_form(
        documented["form"].replace(documented["params"]["account"], "acct_x")
    )


@pytest.mark.parametrize("kind", ["full", "express", "none"])
def test_component_cases_set_every_feature_within_the_constraints(committed, kind):
    controller = controllers(committed)[kind]
    oracle = Oracle(committed)
    for name, comp in committed.components.items():
        case = component_case(committed, name, controller)
        given = case.params["components"][name].get("features", {})
        assert set(given) == set(comp.request_features)
        expected = oracle.expect(case.wire("acct_a"), {"acct_a": controller}, livemode=False)
        assert not isinstance(expected, ExpectedError), (name, expected)


def test_component_cases_send_both_booleans(committed):
    controller = controllers(committed)["none"]
    values = {
        v
        for name in committed.components
        for v in component_case(committed, name, controller)
        .params["components"][name]
        .get("features", {})
        .values()
    }
    assert values == {True, False}


@pytest.mark.parametrize("name", ERRORS)
def test_each_error_case_is_the_refusal_it_says(committed, name):
    known = controllers(committed)
    case = error_case(committed, name, known)
    assert case is not None and case.error_param
    accounts = {f"acct_{a}": c for a, c in known.items()}
    expected = Oracle(committed).expect(case.wire(f"acct_{case.archetype}"), accounts, livemode=False)
    assert isinstance(expected, ExpectedError) and expected.names(case.error_param), expected


def test_constraint_case_is_none_when_every_archetype_may(committed):
    everyone = {"only": {"controller.requirement_collection": "application"}}
    assert error_case(committed, "constraint_broken", everyone) is None
    assert all(condition_holds(c.requires, everyone["only"]) for c in committed.constraints)


def test_description_carries_the_options_and_fills_the_account(committed):
    case = example_case(committed)
    described = case.description("acct_9")
    assert described["account"] == "acct_9" and "idempotency_key" not in described
    assert ACCOUNT not in json.dumps(described)


def test_fuzzed_cases_are_valid_and_reproducible(committed):
    try:
        first = fuzzed_cases(committed, 3, 1234)
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"conformance.fuzz not available: {exc}")
    assert [c.params for c in first] == [c.params for c in fuzzed_cases(committed, 3, 1234)]
    assert len(first) == 3
    known = controllers(committed)
    oracle = Oracle(committed)
    for case in first:
        accounts = {"acct_f": known[case.archetype]}
        assert not isinstance(oracle.expect(case.wire("acct_f"), accounts, livemode=False), ExpectedError)


# -- resolving adapters ---------------------------------------------------------------------------
def test_python_adapter_runs_with_this_interpreter():
    adapter = resolve("python")
    assert adapter.command[0] == sys.executable and adapter.command[1].endswith("stripe_python.py")
    assert adapter.describe()["name"] == "stripe-python"


def test_node_adapter_without_its_sdk_says_how_to_install(monkeypatch, tmp_path: Path):
    (tmp_path / "adapter.js").write_text("")
    monkeypatch.setattr(adapter_module, "_node_dir", lambda: tmp_path)
    with pytest.raises(AdapterError, match="make adapters"):
        resolve("node")


def test_a_command_line_is_split_like_a_shell():
    assert resolve("node 'my adapter.js' --flag").command == ("node", "my adapter.js", "--flag")
    with pytest.raises(AdapterError):
        resolve("   ")
    with pytest.raises(AdapterError):
        resolve("'unterminated")


def test_describe_requires_name_and_version():
    quiet = Adapter("x", (sys.executable, "-c", 'print(\'{"name": "x"}\')'))
    with pytest.raises(AdapterError, match="'version'"):
        quiet.describe()
