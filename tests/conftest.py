"""Fixtures for the toolkit's own tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conformance.contracts.model import Contract, load_contract
from conformance.mock import EmbeddedServer

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"
SEEDS = ROOT.parent / "shared" / "seeds"


# Modules whose tests run the command line (seconds to tens of seconds each, measured
# with --durations), slowest first: under `pytest -n 2 --dist worksteal` (make test) the
# long runs start early and the many quick tests fill in at the end, instead of one long
# run starting last while the other worker has nothing left to do.
FIRST = (
    "test_hostile",
    "test_fuzz",
    "test_cassettes",
    "test_faults",
    "test_sdk",
    "test_verdicts",
    "test_cli",
    "test_peers",
    "test_mutants",
    "test_report_parallel",
    "test_report",
    "test_report_browser",
    "test_redact",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(FIRST)}

    def order(item: pytest.Item) -> int:
        module = getattr(item, "module", None)
        return rank.get(module.__name__.rsplit(".", 1)[-1] if module else "", len(FIRST))

    items.sort(key=order)  # stable: a module's own order is kept


def pytest_collection_finish(session: pytest.Session) -> None:
    """What is alive once the tests are collected (the toolkit, pytest, hypothesis,
    schemathesis, the contract) lives to the end: left out of every later garbage
    collection. Each in-process run ends with two full collections (pytest's own, for
    unraisable exceptions): with the heap frozen here, they scan only what runs made."""
    import gc

    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def committed() -> Contract:
    return load_contract(CONTRACTS)


@pytest.fixture
def serve():
    """``url = serve(app)``: the app on a free loopback port, stopped after the test."""
    servers: list[EmbeddedServer] = []

    def start(app) -> str:
        server = EmbeddedServer(app).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


class Run:
    def __init__(self, code: int, stdout: str, stderr: str, report_dir: Path) -> None:
        self.code = code
        self.stdout = stdout
        self.stderr = stderr
        self.report_dir = report_dir

    @property
    def summary(self) -> dict:
        return json.loads((self.report_dir / "summary.json").read_text())

    def failed_rules(self) -> set[str]:
        return {
            f["rule"]
            for c in self.summary["checks"]
            if c["outcome"] == "failed"
            for f in c["findings"]
            if f["severity"] == "failure"
        }


def _argv(args: tuple[str, ...], report_dir: Path) -> list[str]:
    """The command's arguments as the tests give them: ``run`` without pytest's cache and
    with its reports in the test's own directory (unless the test names one)."""
    extra = ["-p", "no:cacheprovider"] if args[:1] == ("run",) else []
    if args[:1] == ("run",) and "--report-dir" not in args:
        extra += ["--report-dir", str(report_dir)]
    return [*args, *extra]


def _environment(env: dict[str, str] | None) -> dict[str, str]:
    """The test process's environment, without a key of the developer's, plus ``env``."""
    full_env = {k: v for k, v in os.environ.items() if k != "STRIPE_API_KEY"}
    full_env.update(env or {})
    return full_env


def _python_warning_filters() -> None:
    """Python's own warning filters, as a fresh process starts with (this test session's
    turn every warning into an error, and the command's own pytest sets its own)."""
    import warnings

    warnings.resetwarnings()
    for category in (ResourceWarning, ImportWarning, PendingDeprecationWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")


def run_in_process(
    argv: list[str], env: dict[str, str] | None, timeout: float, *, inherit: bool = True
) -> tuple[int, str, str]:
    """``conformance.cli.main(argv)`` in this process, as its own process would run it: its
    environment and working directory, its stdout and stderr captured, and everything it
    changes in the process put back afterwards (environment, working directory, sys.path,
    signal handlers, the stop flag, warning filters, hypothesis's forced seed), so that runs do
    not leak into each other or into the tests that follow. A run still going after
    ``timeout`` seconds is interrupted as Ctrl-C would, and the test fails saying so.
    ``inherit=False``: its environment is ``env`` alone, as a process started with it."""
    import _thread
    import contextlib
    import io
    import signal
    import threading
    import warnings

    from hypothesis import core as hypothesis_core

    from conformance import stop
    from conformance.cli import main

    saved_env = dict(os.environ)
    saved_cwd, saved_path = os.getcwd(), list(sys.path)
    main_thread = threading.current_thread() is threading.main_thread()
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)} if main_thread else {}
    seed = hypothesis_core.global_force_seed
    out, err = io.StringIO(), io.StringIO()
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _thread.interrupt_main(signal.SIGINT)

    timer = threading.Timer(timeout, expire)
    os.environ.clear()
    os.environ.update(_environment(env) if inherit else env or {})
    os.chdir(ROOT)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            _python_warning_filters()
            timer.start()
            try:
                code = main(argv)
            finally:
                timer.cancel()
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        os.environ.clear()
        os.environ.update(saved_env)
        for sig, handler in handlers.items():
            if handler is not None:  # None: installed outside Python, not ours to put back
                signal.signal(sig, handler)
        stop.clear()
        hypothesis_core.global_force_seed = seed
    if expired.is_set():
        pytest.fail(f"conformance {' '.join(argv)} did not end within {timeout} s:\n{out.getvalue()[-2000:]}")
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def cli(tmp_path: Path) -> Iterator:
    """``cli("run", "--base-url", url)``: the command line's ``main``, run in this process
    (:func:`run_in_process`): a separate process costs seconds of start-up a call, and only
    tests of signals, of the entry point itself and of a process's memory need one
    (they use ``cli_process``)."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 240) -> Run:
        report_dir = tmp_path / "reports"
        return Run(*run_in_process(_argv(args, report_dir), env, timeout), report_dir)

    yield run


@pytest.fixture
def cli_process(tmp_path: Path) -> Iterator:
    """``cli_process("run", ...)``: the real command, ``python -m conformance.cli``, in a subprocess."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 240) -> Run:
        report_dir = tmp_path / "reports"
        proc = subprocess.run(
            [sys.executable, "-m", "conformance.cli", *_argv(args, report_dir)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_environment(env),
            cwd=ROOT,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr, report_dir)

    yield run


@pytest.fixture
def pytester_conformance(pytester: pytest.Pytester):
    """``pytester_conformance(source, url=...)``: a test module of a team's own, run in
    a pytest subprocess with the plugin loaded by its entry point, against ``url``."""
    import textwrap

    def run(source: str, *args: str, url: str | None = None) -> pytest.RunResult:
        pytester.makepyfile(test_user=textwrap.dedent(source))
        target = ["--conformance-base-url", url] if url else []
        return pytester.runpytest_subprocess(*target, "-p", "no:cacheprovider", *args, timeout=120)

    return run


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port nothing answers on while the block runs: bound, never listened on
    (a port merely found free may be taken by another test's server in the meantime)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]
