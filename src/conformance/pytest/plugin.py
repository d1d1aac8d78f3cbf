"""The conformance pytest plugin, loaded by its ``pytest11`` entry point.

Thin: options (:mod:`.options`), which tests are checks and how the suites are
parametrized (:mod:`.collection`), fixtures (:mod:`.fixtures`), cassettes
(:mod:`.recording`) and results (:mod:`.reporting`). Its hooks return at once
for tests that are not conformance checks, so it sits beside any other plugin.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.errors import (
    CheckSkipped,
    ConformanceFailure,
    NotRun,
    RunAborted,
    SettingsError,
    UnplayedRequest,
)
from conformance.outcomes import ABORTED, first_inconclusive
from conformance.pytest.collection import is_check, pytest_collection_modifyitems, register_markers
from conformance.pytest.fixtures import (
    conformance_accounts,
    conformance_check,
    conformance_client,
    conformance_contract,
    conformance_fuzz,
    conformance_mock_url,
    conformance_offline_check,
    conformance_oracle,
    conformance_target,
)
from conformance.pytest.options import pytest_addoption, settings_of
from conformance.pytest.recording import RECORDING
from conformance.pytest.reporting import RESULTS, SDK_INFO, Reporter, left_behind
from conformance.pytest.session import (
    pytest_configure_node,
    pytest_configure_quiet,
    pytest_report_header,
    pytest_sessionfinish,
    pytest_sessionfinish_worker,
    pytest_sessionstart,
)
from conformance.results import Results

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
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_configure_node",
    "pytest_configure_quiet",
    "pytest_report_header",
    "pytest_runtest_call",
    "pytest_runtest_setup",
    "pytest_sessionfinish",
    "pytest_sessionfinish_worker",
    "pytest_sessionstart",
    "pytest_unconfigure",
]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    register_markers(config)
    settings = settings_of(config)
    if settings.seed is not None and config.getoption("hypothesis_seed", default=None) is None:
        config.option.hypothesis_seed = settings.seed
    _set_up_recording(config)
    if not hasattr(config, "workerinput"):
        config.stash[RESULTS] = Results()
        config.pluginmanager.register(Reporter(config), "conformance-reporter")
        _describe_sdk(config)


def _describe_sdk(config: pytest.Config) -> None:
    """The SDK adapter's name and version, for the report; a broken adapter is a usage error."""
    spec = settings_of(config).adapter
    if spec:
        from conformance.sdk.adapter import AdapterError, resolve

        try:
            config.stash[SDK_INFO] = resolve(spec).describe()
        except AdapterError as exc:
            raise pytest.UsageError(str(exc)) from exc


def _set_up_recording(config: pytest.Config) -> None:
    """With --conformance-record-mode: the cassette set, the replayed seed, the cassette fixture."""
    settings = settings_of(config)
    mode = settings.record_mode
    if mode is None:
        return
    from conformance.cassettes import CassetteSet, set_name
    from conformance.paths import cassettes_dir, documented_cassettes_root
    from conformance.pytest.recording import DOCUMENTED, Recording

    if config.getoption("numprocesses", default=None):
        raise pytest.UsageError("cassettes are recorded and replayed in one process: drop -n")
    name = settings.cassettes or set_name(settings.base_url)
    if settings.cassette_dir:
        root = Path(settings.cassette_dir)
    else:
        root = documented_cassettes_root() if name == DOCUMENTED else cassettes_dir()
    recording = Recording(config, CassetteSet(root, name, mode))
    if config.getoption("hypothesis_seed", default=None) is None:
        # a recording keeps its seed in meta.yaml (a new one is pinned); a replay reports
        # the recording's (it re-judges the recorded cases rather than generating them)
        seed = recording.recorded("seed") if mode == "none" else random.randrange(2**31)
        if seed is not None:
            config.option.hypothesis_seed = seed
    config.stash[RECORDING] = recording
    config.pluginmanager.register(recording, "conformance-recording")


# -- turning the engine's exceptions into outcomes ---------------------------------------
def _aborted(item: pytest.Item, exc: RunAborted) -> None:
    """The run cannot go on: this check is not run, the session stops, the verdict says why."""
    message = str(exc)
    item.user_properties.append((ABORTED, [exc.verdict, message]))
    if not hasattr(item.config, "workerinput"):
        item.config.stash[RESULTS].abort(exc.verdict, message)
    item.session.shouldstop = message
    pytest.skip(f"not run: {message}")


def _outcome(item: pytest.Item) -> Iterator[None]:
    """Wraps a check's setup or call: the engine's exceptions become pytest outcomes
    (raised outside the ``except`` blocks: no chained traceback in the report)."""
    caught: BaseException | None = None
    try:
        yield
    except (ConformanceFailure, CheckSkipped, RunAborted, SettingsError, UnplayedRequest) as exc:
        caught = exc
    if caught is None:
        return
    if isinstance(caught, ConformanceFailure):
        pytest.fail(caught.message, pytrace=False)
    if isinstance(caught, NotRun):
        pytest.skip(f"not run: {caught}")
    if isinstance(caught, CheckSkipped):
        pytest.skip(str(caught))
    if isinstance(caught, RunAborted):
        _aborted(item, caught)
    if isinstance(caught, SettingsError):  # a broken cassette, say: the run cannot go on
        _aborted(item, _UsageAbort(f"error: {caught}"))
    pytest.fail(f"replay: {caught}; record it with --record-mode once, new_episodes or all", pytrace=False)


class _UsageAbort(RunAborted):
    verdict = "error"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    if not is_check(item):
        return (yield)
    yield from _outcome(item)
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    if not is_check(item):
        return (yield)
    yield from _outcome(item)
    inconclusive = first_inconclusive(item.user_properties)
    if inconclusive:
        pytest.skip(f"inconclusive: {inconclusive}")
    return None


def pytest_unconfigure(config: pytest.Config) -> None:
    """Last words, on stderr: what could not be deleted, and why a stopped run stopped."""
    for line in left_behind(config):
        print(line, file=sys.stderr)
    results = config.stash.get(RESULTS, None)
    if results is not None and results.aborted is not None:
        verdict, message = results.aborted
        ran = sum(1 for c in results.checks.values() if c.outcome not in ("not run", "skipped"))
        checks = len(results.checks)
        print(f"conformance: {verdict}: {message} ({ran} of {checks} checks ran)", file=sys.stderr)
