"""The conformance pytest plugin, loaded by its ``pytest11`` entry point.

Thin: options (:mod:`.options`), which tests are checks and how the suites are
parametrized (:mod:`.collection`), fixtures (:mod:`.fixtures`), cassettes
(:mod:`.recording`) and results (:mod:`.reporting`). Its hooks return at once
for tests that are not conformance checks, so it sits beside any other plugin.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.errors import AccountSetupError, SettingsError, TargetUnreachable, UnplayedRequest
from conformance.pytest.collection import is_check, pytest_collection_modifyitems, register_markers
from conformance.pytest.fixtures import (
    conformance_check,
    conformance_contract,
    conformance_fuzz,
    conformance_offline_check,
    conformance_oracle,
    conformance_target,
)
from conformance.pytest.options import pytest_addoption, settings_of
from conformance.pytest.recording import RECORDING
from conformance.pytest.reporting import RESULTS, SDK_INFO, UNREACHABLE, Reporter, dry_run_and_leftovers
from conformance.results import Results

__all__ = [
    "conformance_check",
    "conformance_contract",
    "conformance_fuzz",
    "conformance_offline_check",
    "conformance_oracle",
    "conformance_target",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_runtest_call",
    "pytest_runtest_setup",
    "pytest_terminal_summary",
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


# -- turning setup trouble into one clear line ------------------------------------------
def _unreachable(item: pytest.Item, exc: TargetUnreachable) -> None:
    message = f"target unreachable: {exc}"
    item.user_properties.append((UNREACHABLE, message))
    if not hasattr(item.config, "workerinput"):
        item.config.stash[RESULTS].unreachable = message
        pytest.exit(f"conformance: {message}", returncode=2)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    if not is_check(item):
        return (yield)
    try:
        return (yield)
    except TargetUnreachable as exc:
        _unreachable(item, exc)
        raise
    except SettingsError as exc:  # a broken cassette, say: the run cannot go on
        pytest.exit(f"conformance: error: {exc}", returncode=2)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    if not is_check(item):
        return (yield)
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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    dry_run_and_leftovers(terminalreporter, config)
