"""The plugin's fixtures: the contract, the oracle, the target and its accounts, and
the check a suite test (or a team's own test) judges an exchange with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from conformance.errors import NotRun
from conformance.outcomes import TRAFFIC
from conformance.pytest.collection import NEEDS_MARKER
from conformance.pytest.options import contract_of, settings_of
from conformance.pytest.recording import RECORDING
from conformance.pytest.session import session_target

if TYPE_CHECKING:
    from conformance.checks import Checker
    from conformance.client import Client
    from conformance.contracts.model import Contract
    from conformance.fuzz.runner import FuzzRunner
    from conformance.oracle import Oracle
    from conformance.target import Account, Target

__all__ = [
    "conformance_accounts",
    "conformance_check",
    "conformance_client",
    "conformance_contract",
    "conformance_fuzz",
    "conformance_mock_url",
    "conformance_offline_check",
    "conformance_oracle",
    "conformance_target",
]


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
def conformance_target(pytestconfig: pytest.Config) -> Iterator[Target]:
    """The server under test (``--conformance-base-url``, else the embedded mock on a
    free loopback port), its client, its profile and the connected accounts made on it."""
    yield from session_target(pytestconfig)


@pytest.fixture(scope="session")
def conformance_mock_url() -> Iterator[str]:
    """The URL of an embedded reference mock of its own, on a free loopback port, for
    the session (a team's fake can be compared with it, or its own tests pointed at it)."""
    from conformance.contracts.model import load_contract
    from conformance.mock import EmbeddedServer, create_app
    from conformance.paths import contracts_dir

    with EmbeddedServer(create_app(load_contract(contracts_dir()))) as server:
        yield server.url


@pytest.fixture(scope="session")
def conformance_client(conformance_target: Target) -> Client:
    """The target's HTTP client: bracket forms, the key, pacing, bounded retries and
    answers; every call returns an Exchange (what was sent and what came back)."""
    return conformance_target.client


@pytest.fixture(scope="session")
def conformance_accounts(conformance_target: Target) -> dict[str, Account]:
    """The run's connected accounts by archetype (``full``, ``express``, ``none``), as
    the target profile made them; each has ``.id`` and ``.controller`` (as reported)."""
    return dict(conformance_target.accounts.made)


def reproduce_line(config: pytest.Config, item: pytest.Item) -> str:
    """The command that runs this check again against the same target, the same way."""
    import shlex

    settings = settings_of(config)
    parts = ["conformance", "run"]
    if settings.base_url:
        parts += ["--base-url", settings.base_url]
    if settings.record_mode == "none" and settings.cassettes:
        parts += ["--record-mode", "none", "--cassettes", settings.cassettes]
    seed = config.getoption("hypothesis_seed", default=None)
    if seed is not None:
        parts += ["--seed", str(seed)]
    if settings.profile != "ci":
        parts += ["--profile", settings.profile]
    if settings.max_examples:
        parts += ["--max-examples", str(settings.max_examples)]
    if settings.api_version:
        parts += ["--api-version", settings.api_version]
    parts += ["-k", item.name]
    return " ".join(shlex.quote(part) for part in parts)


def make_checker(request: pytest.FixtureRequest, target: Target | None, oracle: Oracle) -> Checker:
    """A checker for the requesting test: its category, its records kept in the test's
    ``user_properties`` (they survive xdist), its reproduce line."""
    from conformance.checks import Checker
    from conformance.outcomes import RECORD
    from conformance.pytest.collection import category_of

    node = request.node
    needs = node.get_closest_marker(NEEDS_MARKER)
    profile = target.profile if target is not None else None
    if profile is not None:
        need = needs.args[0] if needs else "sessions"
        missing = profile.no_accounts or (profile.missing if need == "sessions" else None)
        if missing:
            raise NotRun(missing)
    return Checker(
        target,
        oracle,
        category=category_of(node),
        sink=lambda record: node.user_properties.append((RECORD, record)),
        name=node.name,
        reproduce=reproduce_line(request.config, node),
        recipes=target.recipes() if target is not None else None,
    )


@pytest.fixture
def conformance_check(
    request: pytest.FixtureRequest, conformance_target: Target, conformance_oracle: Oracle
) -> Iterator[Checker]:
    """Sends requests to the target and judges each answer against the oracle."""
    client = conformance_target.client
    before, retried = client.sent.copy(), client.retried.copy()
    yield make_checker(request, conformance_target, conformance_oracle)
    sent, again = client.sent - before, client.retried - retried
    request.node.user_properties.append((TRAFFIC, {"sent": dict(sent), "retried": dict(again)}))


@pytest.fixture
def conformance_fuzz(conformance_check: Checker, request: pytest.FixtureRequest) -> FuzzRunner:
    """Runs generated cases against the target within the chosen budget."""
    from conformance.fuzz.runner import FuzzRunner

    config = request.config
    recording = config.stash.get(RECORDING, None)
    settings = settings_of(config)
    replay = None
    if recording and recording.cassettes.replaying:
        from conformance.fuzz.replay import replay_cassette
        from conformance.pytest.collection import category_of

        path = recording.cassettes.path_for(request.node.nodeid)
        schema = category_of(request.node) == "schemathesis"

        def replay(runner: FuzzRunner) -> None:
            judge = None
            if schema:  # judged as the schemathesis check judged it
                from conformance.fuzz.schema import SchemaCases

                judge = SchemaCases(
                    runner, runner.check.oracle.contract.directory / "openapi.yaml"
                ).judge_exchange
            replay_cassette(runner, path, judge)

    return FuzzRunner(
        conformance_check,
        settings.profile,
        settings.max_examples,
        config.getoption("hypothesis_seed", default=None),
        replay=replay,
        concurrency=1 if recording else settings.concurrency,  # a cassette keeps one order
    )


@pytest.fixture
def conformance_offline_check(request: pytest.FixtureRequest, conformance_oracle: Oracle) -> Checker:
    """A checker for checks that need no server (the documented examples)."""
    return make_checker(request, None, conformance_oracle)
