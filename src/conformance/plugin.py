"""The pytest plugin: options, category markers, fixtures, and the results.

Thin on purpose: the work is in :mod:`conformance.checks` (one check),
:mod:`conformance.results` (collecting and writing) and
:mod:`conformance.target` (the server and its accounts). The suites in
``suites/`` use the fixtures ``target``, ``oracle``, ``contract`` and ``check``
and are parametrized here from the contract (``archetype``, ``component``,
``constraint``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.errors import AccountSetupError, TargetUnreachable
from conformance.results import CATEGORIES, CATEGORY_KEY, Results

if TYPE_CHECKING:
    from conformance.checks import Checker
    from conformance.contracts.model import Contract
    from conformance.oracle import Oracle
    from conformance.settings import Settings
    from conformance.target import Target

RESULTS = pytest.StashKey[Results]()
UNREACHABLE = "conformance_unreachable"

_DESCRIPTIONS = {
    "shape": "the documented shape of a session and of the wire (JSON, Request-Id, fields, types)",
    "defaults": "every documented default, per component and account archetype; echoed values",
    "validation": "bad requests get 400 with the right error type and bracket param; constraints",
    "auth": "401 without a key or with a malformed one; the key is never echoed",
    "idempotency": "Idempotency-Key replay and conflict",
    "fuzz": "generated requests checked against the oracle",
    "schemathesis": "schemathesis checks driven by contracts/openapi.yaml",
    "sdk": "what an SDK sends and parses",
    "drift": "differences from the contract that are growth, not faults",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "Account Sessions conformance")
    group.addoption(
        "--target-url",
        dest="conformance_url",
        default=None,
        metavar="URL",
        help="base URL of the server under test (default: the embedded mock)",
    )
    group.addoption(
        "--api-key",
        dest="conformance_key",
        default=None,
        metavar="KEY",
        help="API key (default: $STRIPE_API_KEY, else a test key for the mock)",
    )
    group.addoption(
        "--api-version",
        dest="conformance_version",
        default=None,
        metavar="VERSION",
        help="send this Stripe-Version header",
    )
    group.addoption(
        "--rate",
        dest="conformance_rate",
        default=None,
        type=float,
        metavar="N",
        help="at most N requests per second (default: 20 for non-loopback targets)",
    )
    group.addoption(
        "--allow-livemode",
        dest="conformance_livemode",
        action="store_true",
        help="accept a live-mode key (the suite creates and deletes accounts)",
    )
    group.addoption(
        "--contracts",
        dest="conformance_contracts",
        default=None,
        metavar="DIR",
        help="the contracts directory (default: the project's contracts/)",
    )
    group.addoption(
        "--report-dir",
        dest="conformance_reports",
        default=None,
        metavar="DIR",
        help="where to write summary.json (default: reports/)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for name in CATEGORIES:
        config.addinivalue_line("markers", f"{name}: conformance category -- {_DESCRIPTIONS[name]}")
    if not hasattr(config, "workerinput"):
        config.stash[RESULTS] = Results()
        config.pluginmanager.register(_Reporter(config), "conformance-reporter")


def settings_of(config: pytest.Config) -> Settings:
    from conformance.settings import Settings

    return Settings(
        base_url=config.getoption("conformance_url"),
        api_key=config.getoption("conformance_key"),
        api_version=config.getoption("conformance_version"),
        rate=config.getoption("conformance_rate"),
        allow_livemode=config.getoption("conformance_livemode"),
    )


def contract_of(config: pytest.Config) -> Contract:
    from conformance.contracts.model import load_contract
    from conformance.paths import contracts_dir

    option = config.getoption("conformance_contracts")
    return load_contract(Path(option).resolve() if option else contracts_dir())


# -- parametrization from the contract ------------------------------------------------
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = metafunc.fixturenames
    if not {"archetype", "component", "constraint", "example"} & set(names):
        return
    contract = contract_of(metafunc.config)
    if "archetype" in names:
        metafunc.parametrize("archetype", list(contract.archetypes))
    if "component" in names:
        metafunc.parametrize("component", contract.component_names)
    if "example" in names:
        metafunc.parametrize("example", [k for k in contract.examples if k.endswith(".response")])
    if "constraint" in names:
        metafunc.parametrize(
            "constraint", list(contract.constraints), ids=[c.id for c in contract.constraints]
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        found = [m.name for m in item.iter_markers() if m.name in CATEGORIES]
        if found:
            item.user_properties.append((CATEGORY_KEY, found[0]))


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def contract(pytestconfig: pytest.Config) -> Contract:
    return contract_of(pytestconfig)


@pytest.fixture(scope="session")
def oracle(contract: Contract) -> Oracle:
    from conformance.oracle import Oracle

    return Oracle(contract)


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config, contract: Contract) -> Iterator[Target]:
    from conformance.errors import SettingsError
    from conformance.target import open_target

    try:
        with open_target(settings_of(pytestconfig), contract) as opened:
            yield opened
    except SettingsError as exc:
        pytest.exit(f"conformance: error: {exc}", returncode=2)


@pytest.fixture
def check(request: pytest.FixtureRequest, target: Target, oracle: Oracle) -> Checker:
    from conformance.checks import Checker

    return Checker(request.node, target, oracle)


@pytest.fixture
def offline_check(request: pytest.FixtureRequest, oracle: Oracle) -> Checker:
    """A checker for checks that need no server (the documented examples)."""
    from conformance.checks import Checker

    return Checker(request.node, None, oracle)


# -- turning setup trouble into one clear line ------------------------------------------
def _unreachable(item: pytest.Item, exc: TargetUnreachable) -> None:
    message = f"target unreachable: {exc}"
    item.user_properties.append((UNREACHABLE, message))
    if not hasattr(item.config, "workerinput"):
        item.config.stash[RESULTS].unreachable = message
        pytest.exit(f"conformance: {message}", returncode=2)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    except TargetUnreachable as exc:
        _unreachable(item, exc)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    except TargetUnreachable as exc:
        _unreachable(item, exc)
        raise
    except AccountSetupError as exc:
        pytest.fail(f"setup: {exc}", pytrace=False)


# -- results (on the controlling process only) ----------------------------------------------
def _target_info(config: pytest.Config) -> dict[str, object]:
    settings = settings_of(config)
    return {
        "name": settings.base_url or "embedded mock",
        "base_url": settings.base_url or "embedded",
        "mode": "url" if settings.base_url else "embedded",
        "api_version": settings.api_version,
    }


def _run_info(config: pytest.Config) -> dict[str, object]:
    """What the report needs beyond the results: the seed and the contract's extent."""
    contract = contract_of(config)
    return {
        "seed": config.getoption("hypothesis_seed", default=None),
        "contract": {
            "directory": str(contract.directory),
            "components": {name: list(comp.features) for name, comp in contract.components.items()},
            "archetypes": list(contract.archetypes),
            "rules": len(_rule_ids(contract)),
            "inconsistencies": list(contract.inconsistencies),
            "unparsed": list(contract.unparsed),
        },
    }


def _rule_ids(contract: Contract) -> dict[str, object]:
    from conformance.oracle import Oracle

    return dict(Oracle(contract).rules)


def report_dir(config: pytest.Config) -> Path:
    option = config.getoption("conformance_reports")
    return Path(option) if option else config.rootpath / "reports"


class _Reporter:
    """Collects results from every report (xdist workers' too) and writes them out."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results = config.stash[RESULTS]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.results.add(report)
        for key, value in report.user_properties:
            if key == UNREACHABLE:
                self.results.unreachable = str(value)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.results.checks:
            return
        self.results.write(report_dir(self.config), _target_info(self.config), _run_info(self.config))
        if self.results.unreachable:
            session.exitstatus = 2

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        results = self.results
        if not results.checks:
            return
        counts = results.counts()
        tr = terminalreporter
        tr.section("conformance")
        for name, row in results.by_category().items():
            if any(row.values()):
                tr.write_line(
                    f"{name:<13} passed {row['passed']:>4}  failed {row['failed']:>4}  "
                    f"warnings {row['warnings']:>3}  skipped {row['skipped']:>3}"
                )
        info = _target_info(self.config)
        if results.unreachable:
            verdict = f"UNREACHABLE: {results.unreachable}"
        elif results.conforms:
            verdict = "CONFORMS"
        else:
            verdict = "DOES NOT CONFORM"
        tr.write_line(
            f"verdict: {info['name']} {verdict} ({counts['passed']} passed, {counts['failed']} failed,"
            f" {counts['warnings']} warnings, {counts['skipped']} skipped); "
            f"summary: {report_dir(self.config) / 'summary.json'}",
            bold=True,
            red=not results.conforms,
            green=results.conforms,
        )
