"""The SDK gate: a real SDK, through a recording proxy, for a set of requests.

For each request: the raw request conforms (endpoint, form encoding, bracket
paths and values as meant, booleans as true/false, the key, Idempotency-Key and
Stripe-Version when given); the SDK's parsed object equals the raw answer on
every field (a field it adds is a warning); its errors carry the raw status,
type and param. Runs only with an adapter (``conformance sdk --adapter ...``,
or pytest's ``--sdk-adapter``); otherwise these checks are deselected.
"""

from __future__ import annotations

import pytest

from conformance.sdk.cases import (
    COMPONENT_ARCHETYPE,
    ERRORS,
    component_case,
    error_case,
    example_case,
    headers_case,
)

pytestmark = pytest.mark.conformance_sdk

FUZZED = 4  # generated requests per run: each spawns the adapter once


def pytest_generate_tests(metafunc):
    if "error_name" in metafunc.fixturenames:
        metafunc.parametrize("error_name", ERRORS)
    if "fuzz_index" in metafunc.fixturenames:
        metafunc.parametrize("fuzz_index", range(FUZZED))


@pytest.fixture(scope="session")
def sdk(pytestconfig, target):
    from conformance.pytest.options import settings_of
    from conformance.sdk.gate import open_gate

    settings = settings_of(pytestconfig)
    if not settings.adapter:
        pytest.skip("no SDK adapter configured (--conformance-adapter)")
    with open_gate(settings.adapter, target, settings.api_version) as gate:
        yield gate


def test_documented_example(sdk, check, contract):
    sdk.verify(check, example_case(contract))


def test_idempotency_key_and_version(sdk, check, contract):
    sdk.verify(check, headers_case(contract, sdk.sdk_api_version))


def test_component_with_every_feature(component, sdk, check, contract):
    account = check.account(COMPONENT_ARCHETYPE)
    sdk.verify(check, component_case(contract, component, account.controller))


def test_error(error_name, sdk, check, contract):
    controllers = {name: check.account(name).controller for name in contract.archetypes}
    case = error_case(contract, error_name, controllers)
    if case is None:
        pytest.skip(f"no archetype can be refused for {error_name}")
    sdk.verify(check, case)


def test_fuzzed(fuzz_index, sdk, check, contract, pytestconfig):
    seed = pytestconfig.getoption("hypothesis_seed", default=None)
    sdk.verify(check, sdk.fuzzed(contract, fuzz_index, FUZZED, seed))
