"""The pytest plugin: options, category markers, fixtures, and the results.

Thin on purpose: the work is in :mod:`conformance.checks` (one check),
:mod:`conformance.results` (collecting and writing) and
:mod:`conformance.target` (the server and its accounts). The suites in
``suites/`` use the fixtures ``target``, ``oracle``, ``contract`` and ``check``
and are parametrized here from the contract (``archetype``, ``component``,
``constraint``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.errors import AccountSetupError, SettingsError, TargetUnreachable, UnplayedRequest
from conformance.results import CATEGORIES, CATEGORY_KEY, Results

if TYPE_CHECKING:
    from conformance.checks import Checker
    from conformance.contracts.model import Contract
    from conformance.fuzz.runner import FuzzRunner
    from conformance.oracle import Oracle
    from conformance.recording import Recording
    from conformance.settings import Settings
    from conformance.target import Target

RESULTS = pytest.StashKey[Results]()
DRY_RUN = pytest.StashKey[list[tuple[str, str, str]]]()  # the calls a dry run made
LEFTOVERS = pytest.StashKey[list[str]]()  # accounts the suite made and could not delete
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
        "--record-mode",
        dest="conformance_record_mode",
        default=None,
        metavar="MODE",
        help="record or replay cassettes: none (replay only), once, new_episodes, all",
    )
    group.addoption(
        "--cassettes",
        dest="conformance_cassettes",
        default=None,
        metavar="NAME",
        help="the cassette set (default: named after the target; 'documented': the docs' examples)",
    )
    group.addoption(
        "--cassette-dir",
        dest="conformance_cassette_dir",
        default=None,
        metavar="DIR",
        help="where cassette sets live (default: the project's cassettes/)",
    )
    group.addoption(
        "--dry-run",
        dest="conformance_dry_run",
        action="store_true",
        help="send nothing to the target: run against the embedded mock and list the calls",
    )
    group.addoption(
        "--fuzz-profile",
        dest="conformance_profile",
        default=None,
        choices=("dev", "ci", "nightly"),
        help="fuzzing budget: dev (quick), ci (the default), nightly (deep)",
    )
    group.addoption(
        "--fuzz-max-examples",
        dest="conformance_max_examples",
        default=None,
        type=int,
        metavar="N",
        help="generated cases per fuzz check (default: the profile's)",
    )
    group.addoption(
        "--report-dir",
        dest="conformance_reports",
        default=None,
        metavar="DIR",
        help="where to write summary.json (default: reports/)",
    )
    group.addoption(
        "--sdk-adapter",
        dest="conformance_sdk_adapter",
        default=None,
        metavar="ADAPTER",
        help="run the sdk checks with this SDK adapter: python, node or a command (else: deselected)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    _set_up_recording(config)
    for name in CATEGORIES:
        config.addinivalue_line("markers", f"{name}: conformance category -- {_DESCRIPTIONS[name]}")
    config.addinivalue_line(
        "markers", "documented_cassettes: runs only when replaying the cassette set 'documented'"
    )
    if not hasattr(config, "workerinput"):
        config.stash[RESULTS] = Results()
        config.pluginmanager.register(_Reporter(config), "conformance-reporter")
        _describe_sdk(config)


SDK_INFO = pytest.StashKey[dict[str, object]]()


def _describe_sdk(config: pytest.Config) -> None:
    """The SDK adapter's name and version, for the report; a broken adapter is a usage error."""
    spec = config.getoption("conformance_sdk_adapter", default=None)
    if spec:
        from conformance.sdk.adapter import AdapterError, resolve

        try:
            config.stash[SDK_INFO] = resolve(spec).describe()
        except AdapterError as exc:
            raise pytest.UsageError(str(exc)) from exc


RECORDING: pytest.StashKey[Recording] = pytest.StashKey()


def _set_up_recording(config: pytest.Config) -> None:
    """With --record-mode: the cassette set, the replayed seed, the cassette fixture."""
    mode = config.getoption("conformance_record_mode", default=None)
    if mode is None:
        return
    from conformance.cassettes import CassetteSet, check_mode, set_name
    from conformance.paths import cassettes_dir
    from conformance.recording import Recording

    try:
        check_mode(mode)
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from exc
    if config.getoption("numprocesses", default=None):
        raise pytest.UsageError("cassettes are recorded and replayed in one process: drop -n")
    option = config.getoption("conformance_cassette_dir")
    root = Path(option) if option else cassettes_dir()
    name = config.getoption("conformance_cassettes") or set_name(config.getoption("conformance_url"))
    recording = Recording(config, CassetteSet(root, name, mode))
    if config.getoption("hypothesis_seed", default=None) is None:
        # a recording keeps its seed in meta.yaml (a new one is pinned); a replay reports
        # the recording's (it re-judges the recorded cases rather than generating them)
        seed = recording.recorded("seed") if mode == "none" else random.randrange(2**31)
        if seed is not None:
            config.option.hypothesis_seed = seed
    config.stash[RECORDING] = recording
    config.pluginmanager.register(recording, "conformance-recording")


def settings_of(config: pytest.Config) -> Settings:
    from conformance.settings import Settings

    return Settings(
        base_url=config.getoption("conformance_url"),
        api_key=config.getoption("conformance_key"),
        api_version=config.getoption("conformance_version"),
        rate=config.getoption("conformance_rate"),
        allow_livemode=config.getoption("conformance_livemode"),
        record_mode=config.getoption("conformance_record_mode"),
        cassettes=config.getoption("conformance_cassettes"),
        cassette_dir=config.getoption("conformance_cassette_dir"),
        dry_run=config.getoption("conformance_dry_run"),
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
    recording = config.stash.get(RECORDING, None)
    if recording is None or recording.cassettes.name != "documented":  # only the docs' exchanges
        _deselect(config, items, "documented_cassettes")
    if not config.getoption("conformance_sdk_adapter", default=None):  # no SDK to gate: not run at all
        _deselect(config, items, "sdk")
    for item in items:
        found = [m.name for m in item.iter_markers() if m.name in CATEGORIES]
        if found:
            item.user_properties.append((CATEGORY_KEY, found[0]))


def _deselect(config: pytest.Config, items: list[pytest.Item], marker: str) -> None:
    """Drop the items carrying ``marker`` (deselected, not skipped: they do not count)."""
    unwanted = [item for item in items if item.get_closest_marker(marker) is not None]
    if unwanted:
        config.hook.pytest_deselected(items=unwanted)
        items[:] = [item for item in items if item.get_closest_marker(marker) is None]


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
    from conformance.target import open_target

    recording = pytestconfig.stash.get(RECORDING, None)
    recorded_url = recording.recorded_url if recording else None
    try:
        with open_target(settings_of(pytestconfig), contract, recorded_url=recorded_url) as opened:
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
def check(request: pytest.FixtureRequest, target: Target, oracle: Oracle) -> Checker:
    from conformance.checks import Checker

    return Checker(request.node, target, oracle)


@pytest.fixture
def fuzz(check: Checker, pytestconfig: pytest.Config) -> FuzzRunner:
    """Runs generated cases against the target within the chosen budget."""
    from conformance.fuzz.runner import FuzzRunner

    recording = pytestconfig.stash.get(RECORDING, None)
    return FuzzRunner(
        check,
        pytestconfig.getoption("conformance_profile") or "ci",
        pytestconfig.getoption("conformance_max_examples"),
        pytestconfig.getoption("hypothesis_seed", default=None),
        replay=recording.cassettes.path_for(check.node.nodeid)
        if recording and recording.cassettes.replaying
        else None,
    )


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
    except SettingsError as exc:  # a broken cassette, say: the run cannot go on
        pytest.exit(f"conformance: error: {exc}", returncode=2)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    except TargetUnreachable as exc:
        _unreachable(item, exc)
        raise
    except AccountSetupError as exc:
        pytest.fail(f"setup: {exc}", pytrace=False)
    except SettingsError as exc:
        pytest.exit(f"conformance: error: {exc}", returncode=2)
    except UnplayedRequest as exc:
        pytest.fail(f"replay: {exc}; record it with --record-mode once, new_episodes or all", pytrace=False)


# -- results (on the controlling process only) ----------------------------------------------
def _target_info(config: pytest.Config) -> dict[str, object]:
    settings = settings_of(config)
    recording = config.stash.get(RECORDING, None)
    if recording is not None and recording.cassettes.replaying:
        return {
            "name": f"replay of {recording.cassettes.directory}",
            "base_url": recording.recorded_url or f"cassettes:{recording.cassettes.name}",
            "mode": "replay",
            "cassettes": str(recording.cassettes.directory),
            "recorded": recording.meta.get("recorded"),
            "api_version": settings.api_version,
        }
    info: dict[str, object] = {
        "name": settings.base_url or "embedded mock",
        "base_url": settings.base_url or "embedded",
        "mode": "dry-run" if settings.dry_run else "url" if settings.base_url else "embedded",
        "api_version": settings.api_version,
    }
    if recording is not None:
        info["cassettes"] = str(recording.cassettes.directory)
        info["record_mode"] = recording.cassettes.mode
    return info


def _run_info(config: pytest.Config) -> dict[str, object]:
    """What the report needs beyond the results: the seed and the contract's extent."""
    from conformance.oracle import Oracle

    contract = contract_of(config)
    return {
        "seed": config.getoption("hypothesis_seed", default=None),
        "contract": {
            "directory": str(contract.directory),
            "components": {name: list(comp.features) for name, comp in contract.components.items()},
            "archetypes": list(contract.archetypes),
            "rules": len(Oracle(contract).rules),
            "inconsistencies": list(contract.inconsistencies),
            "unparsed": list(contract.unparsed),
        },
        **({"sdk": config.stash[SDK_INFO]} if SDK_INFO in config.stash else {}),
    }


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
        from conformance.report import cannot_write, write_reports

        directory = report_dir(self.config)
        try:
            summary_json = self.results.write(directory, _target_info(self.config), _run_info(self.config))
            write_reports(directory, summary_json)
        except OSError as exc:  # one line, not a traceback; exit 2 as for any bad input
            cannot_write(directory, exc, self.config)
            session.exitstatus = 2
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
        if SDK_INFO in self.config.stash:  # the verdict is about the SDK, seen through a proxy
            sdk = self.config.stash[SDK_INFO]
            who = f"{sdk['name']} {sdk['version']} (adapter {sdk['adapter']})"
            tr.write_line(f"sdk: {who} against {info['name']}")
        if results.unreachable:
            verdict = f"UNREACHABLE: {results.unreachable}"
        elif results.conforms:
            verdict = "CONFORMS"
        else:
            verdict = "DOES NOT CONFORM"
        tr.write_line(
            f"verdict: {info['name']} {verdict} ({counts['passed']} passed, {counts['failed']} failed,"
            f" {counts['warnings']} warnings, {counts['skipped']} skipped); "
            f"report: {report_dir(self.config) / 'index.html'} (summary.json, junit.xml beside it)",
            bold=True,
            red=not results.conforms,
            green=results.conforms,
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """What a dry run would send, and what a run could not clean up."""
    calls = config.stash.get(DRY_RUN, None)
    if calls is not None:
        settings = settings_of(config)
        where = settings.base_url or "the embedded mock"
        out = report_dir(config) / "dry-run.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(f"{m} {where.rstrip('/')}{p} {b}\n" for m, p, b in calls))
        counts: dict[str, int] = {}
        for method, path, _ in calls:
            key = f"{method} {path if '/accounts/' not in path else '/v1/accounts/{id}'}"
            counts[key] = counts.get(key, 0) + 1
        terminalreporter.section("dry run")
        terminalreporter.write_line(f"{len(calls)} calls would be sent to {where} (listed in {out}):")
        for key, count in sorted(counts.items()):
            terminalreporter.write_line(f"  {count:>6}  {key}")
    left = config.stash.get(LEFTOVERS, None)
    if left:
        terminalreporter.write_line(
            f"conformance: {len(left)} accounts could not be deleted: {', '.join(left)}", red=True
        )
