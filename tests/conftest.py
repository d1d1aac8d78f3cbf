"""Fixtures for the toolkit's own tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.contracts.model import Contract, load_contract
from conformance.mock import EmbeddedServer

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"
SEEDS = ROOT.parent / "shared" / "seeds"


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
    def __init__(self, proc: subprocess.CompletedProcess[str], report_dir: Path) -> None:
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
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


@pytest.fixture
def cli(tmp_path: Path) -> Iterator:
    """``cli("run", "--base-url", url)``: the real command in a subprocess."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 240) -> Run:
        report_dir = tmp_path / "reports"
        full_env = {k: v for k, v in os.environ.items() if k != "STRIPE_API_KEY"}
        full_env.update(env or {})
        extra = ["-p", "no:cacheprovider"] if args[:1] == ("run",) else []
        if args[:1] == ("run",) and "--report-dir" not in args:
            extra += ["--report-dir", str(report_dir)]
        proc = subprocess.run(
            [sys.executable, "-m", "conformance.cli", *args, *extra],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            cwd=ROOT,
        )
        return Run(proc, report_dir)

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
