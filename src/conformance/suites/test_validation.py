"""Bad requests: 400 with the right ``error.type`` and the exact bracket ``param``.

Each case states the error it means to provoke; the oracle must agree (so a
wrong case cannot pass silently), then the target is judged against it.
"""

from __future__ import annotations

import pytest

from conformance.oracle import ExpectedError

pytestmark = pytest.mark.conformance_validation

COMPONENT = "payments"  # a documented component with documented features


def _feature(contract):
    return contract.components[COMPONENT].request_features[0]


def _cases(contract, account):
    probes = contract.conventions["probes"]
    feat = _feature(contract)
    base = f"account={account}"
    comp = f"components[{COMPONENT}]"
    return {
        "missing_account": (f"{comp}[enabled]=true", "account"),
        "missing_components": (base, "components"),
        "missing_enabled": (f"{base}&{comp}[features][{feat}]=true", f"{comp}[enabled]"),
        "unknown_component": (
            f"{base}&components[{probes['unknown_component']}][enabled]=true",
            f"components[{probes['unknown_component']}]",
        ),
        "unknown_feature": (
            f"{base}&{comp}[enabled]=true&{comp}[features][{probes['unknown_feature']}]=true",
            f"{comp}[features][{probes['unknown_feature']}]",
        ),
        "invalid_boolean_enabled": (
            f"{base}&{comp}[enabled]={probes['invalid_boolean']}",
            f"{comp}[enabled]",
        ),
        "invalid_boolean_feature": (
            f"{base}&{comp}[enabled]=true&{comp}[features][{feat}]={probes['invalid_boolean']}",
            f"{comp}[features][{feat}]",
        ),
        "unknown_account": (f"account={probes['unknown_account']}&{comp}[enabled]=true", "account"),
        "component_not_an_object": (f"{base}&{comp}=true", comp),
        "enabled_not_a_value": (f"{base}&{comp}[enabled][nested]=true", f"{comp}[enabled]"),
    }


CASES = [
    "missing_account",
    "missing_components",
    "missing_enabled",
    "unknown_component",
    "unknown_feature",
    "invalid_boolean_enabled",
    "invalid_boolean_feature",
    "unknown_account",
    "component_not_an_object",
    "enabled_not_a_value",
]


@pytest.mark.parametrize("case", CASES)
def test_rejected(case, check, contract):
    account = check.account("express")
    form, param = _cases(contract, account.id)[case]
    exchange = check.send(form=form)
    expected = check.expected(exchange)
    assert isinstance(expected, ExpectedError) and expected.param == param, (
        f"the oracle does not expect the refusal this case is about: {expected}"
    )
    check.judge(exchange, expected)
