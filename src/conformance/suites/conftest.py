"""Short names for the plugin's fixtures, for the suites' own modules only (a conftest's
fixtures do not reach other projects' tests), and the suites' parametrization."""

from __future__ import annotations

import pytest

from conformance.pytest.collection import parametrize_from_contract


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_from_contract(metafunc)


@pytest.fixture
def check(conformance_check):
    return conformance_check


@pytest.fixture
def offline_check(conformance_offline_check):
    return conformance_offline_check


@pytest.fixture
def fuzz(conformance_fuzz):
    return conformance_fuzz


@pytest.fixture(scope="session")
def contract(conformance_contract):
    return conformance_contract


@pytest.fixture(scope="session")
def oracle(conformance_oracle):
    return conformance_oracle


@pytest.fixture(scope="session")
def target(conformance_target):
    return conformance_target
