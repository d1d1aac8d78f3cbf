"""The run's life in a pytest session: opened on the controlling process before the
checks (the target profile, the accounts), shared with xdist workers through a
context file, closed after the checks whatever happened (every account deleted
exactly once, SIGINT and SIGTERM included)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.errors import RunAborted, SettingsError, UnplayedRequest
from conformance.pytest.options import contract_of, settings_of
from conformance.pytest.recording import RECORDING

if TYPE_CHECKING:
    from conformance.run import Run
    from conformance.target import Target

__all__ = ["RUN", "TARGET", "close_run", "open_run", "session_target", "wants_suites"]

RUN: pytest.StashKey[Run] = pytest.StashKey()
TARGET: pytest.StashKey[Target] = pytest.StashKey()
CONTEXT = "conformance_context"  # workerinput key: the run's context file
_SUITES = "conformance.suites"


def wants_suites(config: pytest.Config) -> bool:
    """Whether this session runs the conformance suites (not only someone's own tests)."""
    if config.option.collectonly:
        return False
    suites = Path(__file__).resolve().parents[1] / "suites"
    for arg in config.args:
        head = arg.split("::", 1)[0]
        if head == _SUITES or head.startswith(_SUITES + "."):
            return True
        path = Path(head).resolve()
        if path == suites or suites in path.parents:
            return True
    return False


def _around(config: pytest.Config, name: str) -> Any:
    recording = config.stash.get(RECORDING, None)
    if recording is None:
        return None

    def around() -> AbstractContextManager[Any] | None:
        return recording.session_cassette(name)

    return around


def open_run(config: pytest.Config) -> Target:
    """Open the run on this process (the controller, or the only one)."""
    from conformance.run import Run

    settings = settings_of(config)
    recording = config.stash.get(RECORDING, None)
    run_dir = Path(tempfile.mkdtemp(prefix="conformance-run-"))
    replay_errors: tuple[type[BaseException], ...] = ()
    if recording is not None:
        from conformance.cassettes import replay_errors as cassette_errors

        replay_errors = cassette_errors()
    run = Run(
        settings,
        contract_of(config),
        recorded_url=recording.recorded_url if recording else None,
        run_dir=run_dir,
        replay_errors=replay_errors,
    )
    config.stash[RUN] = run
    try:
        target = run.open(_around(config, "_session_setup.yaml"))
    except BaseException as exc:  # the profile stopped: delete what it made, then say why
        close_run(config)
        if isinstance(exc, SettingsError):
            raise pytest.UsageError(str(exc)) from None
        if isinstance(exc, RunAborted):
            reporter = config.pluginmanager.get_plugin("conformance-reporter")
            if reporter is not None:  # the reports say why no check ran
                reporter.stopped_before_checks(exc.verdict, str(exc))
            raise pytest.UsageError(f"{exc.verdict}: {exc}") from None
        if isinstance(exc, UnplayedRequest):
            raise pytest.UsageError(f"replay: {exc}; record the set again") from None
        raise
    if recording is not None:
        recording.started(target)
    config.stash[TARGET] = target
    return target


def close_run(config: pytest.Config) -> None:
    run = config.stash.get(RUN, None)
    if run is None or run.cleanup is not None:
        return
    try:
        run.close(_around(config, "_session_teardown.yaml"))
    finally:
        if run.run_dir is not None:
            shutil.rmtree(run.run_dir, ignore_errors=True)


def _context_file(config: pytest.Config) -> Path | None:
    """On an xdist worker of a run: the run's context file."""
    workerinput = getattr(config, "workerinput", None)
    path = workerinput.get(CONTEXT) if workerinput else None
    return Path(path) if path else None


def _worker_file(config: pytest.Config, what: str) -> Path | None:
    """On an xdist worker of a run: its file ``worker-ID.WHAT`` in the run's directory."""
    context = _context_file(config)
    worker = getattr(config, "workerinput", {}).get("workerid", "")
    return context.with_name(f"worker-{worker}.{what}") if context else None


def stop_workers(run: Run) -> None:
    """An interrupted run stops its xdist workers at once (a SIGTERM sent to the command
    reaches its process alone; without this, each worker goes on sending until its check
    ends), then waits until each has stopped sending, at most --timeout (a request in
    flight) and 5 s: an account a worker made after the clean-up would be left behind.
    A worker's pid stays its own until the run's end: xdist reaps its workers after the
    session."""
    if run.run_dir is None:
        return
    running = [p for p in run.run_dir.glob("worker-*.pid") if not p.with_suffix(".done").exists()]
    for path in running:
        with contextlib.suppress(ValueError, OSError):  # gone already, or its pid half written
            os.kill(int(path.read_text()), signal.SIGINT)
    deadline = time.monotonic() + run.settings.timeout + 5
    while any(not p.with_suffix(".done").exists() for p in running) and time.monotonic() < deadline:
        time.sleep(0.02)


def _worker_target(config: pytest.Config) -> Target | None:
    from conformance.run import worker_target

    workerinput = getattr(config, "workerinput", None)
    path = _context_file(config)
    if path is None or not path.is_file():
        return None
    context = json.loads(path.read_text(encoding="utf-8"))
    workers = int(workerinput.get("workercount", 1)) if workerinput else 1
    return worker_target(context, settings_of(config), contract_of(config), max(1, workers))


def session_target(config: pytest.Config) -> Iterator[Target]:
    """The target for the ``conformance_target`` fixture: the run's (opened before the
    checks), a worker's view of it, or -- for a team's own tests -- one opened now."""
    target = config.stash.get(TARGET, None)
    if target is not None:
        yield target
        return
    target = _worker_target(config)
    if target is not None:
        config.stash[TARGET] = target
        try:
            yield target
        finally:
            target.client.close()
        return
    target = open_run(config)
    try:
        yield target
    finally:
        close_run(config)


# -- hooks ---------------------------------------------------------------------------------
@pytest.hookimpl(trylast=True, specname="pytest_configure")
def pytest_configure_quiet(config: pytest.Config) -> None:
    """pytest_configure (the plugin module has its own): after pytest's unraisable-exception
    hook is set, ours goes in front of it. Not put back by a clean-up of ours: pytest's runs
    after it, collects the garbage (where a late interrupt lands, in a gc callback), then
    puts back the hook it found before the session."""
    if wants_suites(config):
        from conformance import stop

        stop.quiet_interrupts()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    pid_file = _worker_file(config, "pid")
    if pid_file is not None:  # a worker of a run: stopped as the run is (stop_workers)
        from conformance import stop

        stop.install()
        pid_file.write_text(str(os.getpid()), encoding="utf-8")
    elif not hasattr(config, "workerinput") and wants_suites(config):
        open_run(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: tell each worker where the run's context is."""
    run = node.config.stash.get(RUN, None)
    if run is not None and run.run_dir is not None:
        node.workerinput[CONTEXT] = str(run.run_dir / "context.json")


def pytest_report_header(config: pytest.Config) -> list[str]:
    target = config.stash.get(TARGET, None)
    if target is None or target.profile is None or hasattr(config, "workerinput"):
        return []
    return [f"conformance target: {target.name}", *(f"  {line}" for line in target.profile.lines())]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        return
    run = config.stash.get(RUN, None)
    if run is not None and exitstatus == pytest.ExitCode.INTERRUPTED:
        stop_workers(run)
    close_run(config)


@pytest.hookimpl(trylast=True, specname="pytest_sessionfinish")
def pytest_sessionfinish_worker(session: pytest.Session) -> None:
    """A worker of a run says it sends no more (its checks stopped or ended)."""
    done = _worker_file(session.config, "done")
    if done is not None:
        done.touch()
