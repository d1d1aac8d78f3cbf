"""Classification of differences: failure, additive drift (warning), note."""

from __future__ import annotations

import copy
import time

import pytest

from conformance.compare import compare_error, compare_session
from conformance.forms import decode_form
from conformance.oracle import Oracle

EXPRESS = {
    "controller.losses.payments": "application",
    "controller.requirement_collection": "stripe",
}


@pytest.fixture(scope="module")
def oracle(committed):
    return Oracle(committed)


@pytest.fixture(scope="module")
def expected(oracle):
    return oracle.expect(
        decode_form("account=acct_1&components[payouts][enabled]=true"),
        {"acct_1": EXPRESS},
        livemode=False,
    )


@pytest.fixture
def body(expected):
    return {
        "object": "account_session",
        "account": "acct_1",
        "client_secret": "_secret",
        "expires_at": int(time.time()) + 1800,
        "livemode": False,
        "components": copy.deepcopy(expected.components),
    }


def judge(oracle, expected, body, **kw):
    return compare_session(200, body, expected, oracle.rules, sent_at=time.time(), **kw)


def kinds(outcome):
    return sorted((f.severity, f.kind, f.path) for f in outcome.findings)


def test_equal_is_clean_and_skips_deepdiff(oracle, expected, body, monkeypatch):
    import deepdiff

    monkeypatch.setattr(deepdiff, "DeepDiff", lambda *a, **k: pytest.fail("deepdiff on a match"))
    assert judge(oracle, expected, body).findings == []


def test_missing_feature_fails(oracle, expected, body):
    del body["components"]["payouts"]["features"]["instant_payouts"]
    assert kinds(judge(oracle, expected, body)) == [
        ("failure", "missing", "components.payouts.features.instant_payouts")
    ]


def test_missing_component_fails(oracle, expected, body):
    del body["components"]["tax_settings"]
    assert kinds(judge(oracle, expected, body)) == [("failure", "missing", "components.tax_settings")]


def test_wrong_type_fails_even_when_python_calls_it_equal(oracle, expected, body):
    body["components"]["payouts"]["enabled"] = 1  # 1 == True in Python, not in JSON
    outcome = judge(oracle, expected, body)
    assert kinds(outcome) == [("failure", "type", "components.payouts.enabled")]
    assert "bool" in outcome.explanation and "int" in outcome.explanation


def test_wrong_documented_default_fails_and_names_the_rule(oracle, expected, body):
    body["components"]["payments"]["features"]["refund_management"] = False
    outcome = judge(oracle, expected, body)
    assert kinds(outcome) == [("failure", "value", "components.payments.features.refund_management")]
    rule = outcome.failures[0].rule
    assert rule.id == "default:payments.refund_management" and rule.grade == "doc"
    assert "create_account_session.md#parameters" in rule.sources


def test_example_only_value_is_a_note(oracle, expected, body):
    body["components"]["financial_account"]["features"]["send_money"] = True
    assert kinds(judge(oracle, expected, body)) == [
        ("note", "value", "components.financial_account.features.send_money")
    ]


def test_missing_response_only_example_field_is_a_note(oracle, expected, body):
    del body["components"]["financial_account"]["features"]["money_movement"]
    assert kinds(judge(oracle, expected, body)) == [
        ("note", "missing", "components.financial_account.features.money_movement")
    ]


def test_growth_is_a_warning(oracle, expected, body):
    body["components"]["balance_report"] = {"enabled": False, "features": {}}
    body["components"]["payments"]["features"]["smart_disputes_management"] = True
    body["new_field"] = "x"
    assert kinds(judge(oracle, expected, body, fields=True)) == [
        ("warning", "extra", "components.balance_report"),
        ("warning", "extra", "components.payments.features.smart_disputes_management"),
        ("warning", "extra", "new_field"),
    ]


def test_focus_limits_the_comparison(oracle, expected, body):
    body["components"]["payments"]["features"]["refund_management"] = False
    assert judge(oracle, expected, body, focus=["payouts"]).findings == []


def test_shape_only_ignores_values_not_types(oracle, expected, body):
    body["components"]["payments"]["features"]["refund_management"] = False
    assert judge(oracle, expected, body, values=False).findings == []
    body["components"]["payments"]["features"]["refund_management"] = "false"
    assert kinds(judge(oracle, expected, body, values=False)) == [
        ("failure", "value", "components.payments.features.refund_management")
    ]


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("object", "session", "value"),
        ("account", "acct_2", "value"),
        ("livemode", True, "value"),
        ("livemode", "false", "type"),
        ("client_secret", "", "value"),
        ("expires_at", 12, "value"),
        ("expires_at", "soon", "type"),
        ("expires_at", 1.5e9, "type"),
    ],
)
def test_session_fields(oracle, expected, body, field, value, kind):
    body[field] = value
    assert kinds(judge(oracle, expected, body, fields=True, focus=[])) == [("failure", kind, field)]


def test_expires_days_ahead_fails(oracle, expected, body):
    body["expires_at"] = int(time.time()) + 3 * 86400
    assert kinds(judge(oracle, expected, body, fields=True, focus=[])) == [("failure", "value", "expires_at")]


def test_not_200_fails(oracle, expected):
    outcome = compare_session(
        500, {"error": {"type": "api_error"}}, expected, oracle.rules, sent_at=time.time()
    )
    assert kinds(outcome) == [("failure", "status", "status")]


def test_errors(oracle):
    want = oracle.error("parameter_missing", "components[payments][enabled]", "validation.parameter_missing")
    good = {
        "error": {
            "type": "invalid_request_error",
            "param": "components[payments][enabled]",
            "code": "parameter_missing",
            "message": "Missing.",
        }
    }
    assert compare_error(400, good, want, oracle.rules).findings == []
    other_code = copy.deepcopy(good)
    other_code["error"]["code"] = "something_else"
    assert kinds(compare_error(400, other_code, want, oracle.rules)) == [("note", "value", "error.code")]
    short_param = copy.deepcopy(good)
    short_param["error"]["param"] = "enabled"
    assert kinds(compare_error(400, short_param, want, oracle.rules)) == [("failure", "value", "error.param")]
    assert kinds(compare_error(500, good, want, oracle.rules)) == [("failure", "status", "status")]
    assert kinds(compare_error(400, {"message": "x"}, want, oracle.rules)) == [("failure", "shape", "error")]
