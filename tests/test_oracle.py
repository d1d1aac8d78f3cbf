"""The oracle and the rule engine against cases written by hand from the docs.

The expected values below were read off the API reference pages by a person,
not computed from contracts/: they are the independent check of the one place
that turns rules into responses (which the embedded mock also uses)."""

from __future__ import annotations

import copy

import pytest

from conformance.contracts.rules import evaluate_features
from conformance.forms import decode_form, encode_form
from conformance.invalid import INVALID, Where, invalid
from conformance.oracle import ExpectedError, ExpectedSession, Oracle

FULL = {"controller.losses.payments": "stripe", "controller.requirement_collection": "stripe"}
EXPRESS = {
    "controller.losses.payments": "application",
    "controller.requirement_collection": "stripe",
}
NONE = {
    "controller.losses.payments": "application",
    "controller.requirement_collection": "application",
}
ACCOUNTS = {"acct_full": FULL, "acct_express": EXPRESS, "acct_none": NONE}


@pytest.fixture(scope="module")
def oracle(committed):
    return Oracle(committed)


def expect(oracle, params):
    return oracle.expect(decode_form(encode_form(params)), ACCOUNTS, livemode=False)


def session(oracle, account, components):
    result = expect(oracle, {"account": account, "components": components})
    assert isinstance(result, ExpectedSession), result
    return result.components


def test_payout_defaults_follow_loss_liability(oracle):
    full = session(oracle, "acct_full", {"payouts": {"enabled": True}})["payouts"]
    assert full == {
        "enabled": True,
        "features": {
            "disable_stripe_user_authentication": False,
            "edit_payout_schedule": True,
            "external_account_collection": True,
            "instant_payouts": True,
            "standard_payouts": True,
        },
    }
    express = session(oracle, "acct_express", {"payouts": {"enabled": True}})
    assert express["payouts"]["features"]["instant_payouts"] is False
    assert express["balances"] == {
        "enabled": False,
        "features": {
            "disable_stripe_user_authentication": False,
            "edit_payout_schedule": False,
            "external_account_collection": True,
            "instant_payouts": False,
            "standard_payouts": False,
        },
    }
    assert express["instant_payouts_promotion"]["features"]["instant_payouts"] is False
    full_all = session(oracle, "acct_full", {"documents": {"enabled": True}})
    assert full_all["instant_payouts_promotion"]["features"]["instant_payouts"] is True


def test_disable_authentication_follows_external_account_collection(oracle):
    got = session(
        oracle,
        "acct_none",
        {
            "account_management": {
                "enabled": True,
                "features": {"external_account_collection": False},
            }
        },
    )
    assert got["account_management"] == {
        "enabled": True,
        "features": {
            "disable_stripe_user_authentication": True,
            "external_account_collection": False,
        },
    }
    # a component without external_account_collection: the illustrated default holds
    assert got["issuing_cards_list"]["features"]["disable_stripe_user_authentication"] is False


def test_the_documented_example_is_predicted(committed, oracle):
    """The create page's example, for an account where Stripe does not own losses,
    is predicted exactly -- except the one value the prose contradicts."""
    request = committed.examples["create_account_session.request"]["form"]
    body = copy.deepcopy(committed.examples["create_account_session.response"]["body"])
    result = oracle.expect(decode_form(request), {"acct_1NkDjjJyhOZfPCWt": EXPRESS}, livemode=False)
    assert isinstance(result, ExpectedSession)
    assert body["components"]["financial_account"]["features"]["external_account_collection"] is False
    body["components"]["financial_account"]["features"]["external_account_collection"] = True
    assert result.components == body["components"]


def test_explicit_values_win(oracle):
    got = session(
        oracle,
        "acct_express",
        {
            "payments": {
                "enabled": False,
                "features": {
                    "refund_management": False,
                    "destination_on_behalf_of_charge_management": True,
                },
            }
        },
    )
    assert got["payments"] == {
        "enabled": False,
        "features": {
            "capture_payments": True,
            "destination_on_behalf_of_charge_management": True,
            "dispute_management": True,
            "refund_management": False,
        },
    }


def test_documents_has_no_features_and_money_movement_is_example_only(oracle):
    got = expect(oracle, {"account": "acct_express", "components": {"documents": {"enabled": True}}})
    assert got.components["documents"] == {"enabled": True, "features": {}}
    assert got.components["financial_account"]["features"]["money_movement"] is False
    assert got.rules[("financial_account", "features", "money_movement")].grade == "example-only"
    assert got.rules[("payouts", "features", "instant_payouts")].grade == "doc"


P = "components[payments]"
AM = "components[account_management][features]"


@pytest.mark.parametrize(
    ("form", "status", "type_", "param"),
    [
        (f"{P}[enabled]=true", 400, "invalid_request_error", "account"),
        ("account=acct_full", 400, "invalid_request_error", "components"),
        (
            f"account=acct_full&{P}[features][refund_management]=true",
            400,
            "invalid_request_error",
            f"{P}[enabled]",
        ),
        (
            "account=acct_full&components[not_a_component_x1][enabled]=true",
            400,
            "invalid_request_error",
            "components[not_a_component_x1]",
        ),
        (
            f"account=acct_full&{P}[enabled]=true&{P}[features][nope]=true",
            400,
            "invalid_request_error",
            f"{P}[features][nope]",
        ),
        (f"account=acct_full&{P}[enabled]=maybe", 400, "invalid_request_error", f"{P}[enabled]"),
        (f"account=acct_full&{P}[enabled]=True", 400, "invalid_request_error", f"{P}[enabled]"),
        (f"account=acct_nope&{P}[enabled]=true", 400, "invalid_request_error", "account"),
        (f"account=acct_full&{P}=true", 400, "invalid_request_error", P),
        (
            f"account=acct_full&{P}[enabled]=true&{P}[features]=x",
            400,
            "invalid_request_error",
            f"{P}[features]",
        ),
        (
            "account=acct_full&components[financial_account][enabled]=true"
            "&components[financial_account][features][money_movement]=true",
            400,
            "invalid_request_error",
            "components[financial_account][features][money_movement]",
        ),
        (
            f"account=acct_full&components[account_management][enabled]=true"
            f"&{AM}[disable_stripe_user_authentication]=true",
            400,
            "invalid_request_error",
            f"{AM}[disable_stripe_user_authentication]",
        ),
        (
            f"account=acct_express&components[account_management][enabled]=true"
            f"&{AM}[external_account_collection]=false",
            400,
            "invalid_request_error",
            f"{AM}[external_account_collection]",
        ),
    ],
)
def test_refusals(oracle, form, status, type_, param):
    result = oracle.expect(decode_form(form), ACCOUNTS, livemode=False)
    assert isinstance(result, ExpectedError), result
    assert (result.status, result.type, result.param) == (status, type_, param)


@pytest.mark.parametrize(
    "form",
    [
        f"account=acct_none&components[account_management][enabled]=true&{AM}[disable_stripe_user_authentication]=true",
        f"account=acct_none&components[account_management][enabled]=true&{AM}[external_account_collection]=false",
        f"account=acct_full&components[account_management][enabled]=true&{AM}[disable_stripe_user_authentication]=false",
        f"account=acct_full&{P}[enabled]=false&expand[]=x",
    ],
)
def test_allowed(oracle, form):
    assert isinstance(oracle.expect(decode_form(form), ACCOUNTS, livemode=False), ExpectedSession)


def test_rule_engine_kinds():
    rules = {
        "a": {"kind": "constant", "value": True},
        "b": {"kind": "opposite", "of": "a"},
        "c": {"kind": "same", "of": "b"},
        "d": {"kind": "conditional", "when": {"controller.x": "y"}, "then": True, "else": False},
        "e": {"kind": "opposite", "of": "e"},
        "f": {"kind": "opposite", "of": "missing"},
    }
    assert evaluate_features(rules, {}, {"controller.x": "y"}) == {
        "a": True,
        "b": False,
        "c": False,
        "d": True,
        "e": None,
        "f": None,
    }
    assert evaluate_features(rules, {"a": False}, {"controller.x": "z"})["c"] is True
    assert evaluate_features(rules, {}, {"controller.x": "z"})["d"] is False
    assert evaluate_features(rules, {}, None)["d"] is None
    with pytest.raises(ValueError, match="unknown rule kind"):
        evaluate_features({"a": {"kind": "magic"}}, {}, None)


def test_two_problems_either_may_be_named(oracle):
    form = (
        f"account=acct_express&components[account_management][enabled]=true"
        f"&{AM}[external_account_collection]=false&{AM}[disable_stripe_user_authentication]=true"
    )
    result = oracle.expect(decode_form(form), ACCOUNTS, livemode=False)
    assert isinstance(result, ExpectedError)
    assert result.names(f"{AM}[external_account_collection]")
    assert result.names(f"{AM}[disable_stripe_user_authentication]")
    assert not result.names("account")


@pytest.mark.parametrize("name", [i.name for i in INVALID])
def test_every_invalid_request_is_refused_as_its_entry_says(oracle, committed, name):
    """invalid.py names, for each kind of invalid request, the rule it breaks and the
    error it is refused with; the oracle, which alone makes expectations, must expect
    exactly those (else an entry's rule, cited in docs and mutants, would be a guess)."""
    item = invalid(name)
    probes = committed.conventions["probes"]
    account, where = "acct_express", Where("payments", "refund_management", probes)
    if name == "constraint_broken":
        account, c = next(
            (a, c)
            for c in committed.constraints
            for a, controller in ACCOUNTS.items()
            if committed.allowed(c.component, c.feature, c.value, controller) is False
        )
        where = Where("payments", "refund_management", probes, (c.component, c.feature, c.value))
    params, param = item.apply({"account": account, "components": {"payments": {"enabled": True}}}, where)
    expected = expect(oracle, params)
    assert isinstance(expected, ExpectedError) and expected.param == param, expected
    kind = committed.conventions["errors"][item.error]
    assert (expected.status, expected.type, expected.code) == (kind["status"], kind["type"], kind["code"])
    if item.rule.endswith(":"):  # a family: the broken constraint's own rule
        assert expected.rule.id == f"{item.rule}{c.id}", expected.rule.id
    else:
        assert expected.rule.id == item.rule, expected.rule.id
