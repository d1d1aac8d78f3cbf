"""The plugin's fixtures: the contract, the oracle, the target and its accounts, and
the check a suite test (or a team's own test) judges an exchange with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from conformance.errors import SettingsError
from conformance.pytest.options import contract_of, settings_of
from conformance.pytest.recording import RECORDING

if TYPE_CHECKING:
    from conformance.checks import Checker
    from conformance.contracts.model import Contract
    from conformance.fuzz.runner import FuzzRunner
    from conformance.oracle import Oracle
    from conformance.target import Target

__all__ = [
    "DRY_RUN",
    "LEFTOVERS",
    "conformance_check",
    "conformance_contract",
    "conformance_fuzz",
    "conformance_offline_check",
    "conformance_oracle",
    "conformance_target",
]

DRY_RUN = pytest.StashKey[list[tuple[str, str, str]]]()  # the calls a dry run made
LEFTOVERS = pytest.StashKey[list[str]]()  # accounts the suite made and could not delete


@pytest.fixture(scope="session")
def conformance_contract(pytestconfig: pytest.Config) -> Contract:
    """The contract the checks judge by (``--conformance-contracts``, else the installed one)."""
    return contract_of(pytestconfig)


@pytest.fixture(scope="session")
def conformance_oracle(conformance_contract: Contract) -> Oracle:
    """The oracle: request + account -> the answer a conformant server gives."""
    from conformance.oracle import Oracle

    return Oracle(conformance_contract)


@pytest.fixture(scope="session")
def conformance_target(pytestconfig: pytest.Config, conformance_contract: Contract) -> Iterator[Target]:
    """The server under test (``--conformance-base-url``, else the embedded mock on a
    free loopback port), its client, and the connected accounts made on it."""
    from conformance.target import open_target

    recording = pytestconfig.stash.get(RECORDING, None)
    recorded_url = recording.recorded_url if recording else None
    try:
        with open_target(
            settings_of(pytestconfig), conformance_contract, recorded_url=recorded_url
        ) as opened:
            if recording:
                recording.start(opened)
            yield opened
            if recording:
                recording.finish(opened)
        if opened.client.calls is not None:
            pytestconfig.stash[DRY_RUN] = list(opened.client.calls)
        if opened.leftovers:
            pytestconfig.stash[LEFTOVERS] = list(opened.leftovers)
    except SettingsError as exc:
        pytest.exit(f"conformance: error: {exc}", returncode=2)


@pytest.fixture
def conformance_check(
    request: pytest.FixtureRequest, conformance_target: Target, conformance_oracle: Oracle
) -> Checker:
    """Sends requests to the target and judges each answer against the oracle."""
    from conformance.checks import Checker

    return Checker(request.node, conformance_target, conformance_oracle)


@pytest.fixture
def conformance_fuzz(conformance_check: Checker, pytestconfig: pytest.Config) -> FuzzRunner:
    """Runs generated cases against the target within the chosen budget."""
    from conformance.fuzz.runner import FuzzRunner

    recording = pytestconfig.stash.get(RECORDING, None)
    settings = settings_of(pytestconfig)
    return FuzzRunner(
        conformance_check,
        settings.profile,
        settings.max_examples,
        pytestconfig.getoption("hypothesis_seed", default=None),
        replay=recording.cassettes.path_for(conformance_check.node.nodeid)
        if recording and recording.cassettes.replaying
        else None,
    )


@pytest.fixture
def conformance_offline_check(request: pytest.FixtureRequest, conformance_oracle: Oracle) -> Checker:
    """A checker for checks that need no server (the documented examples)."""
    from conformance.checks import Checker

    return Checker(request.node, None, conformance_oracle)
