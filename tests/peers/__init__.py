"""Third-party Stripe fakes for the toolkit's tests, started on 127.0.0.1 only."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LOCALSTRIPE_PYTHON = ROOT / ".peers" / "localstripe" / "bin" / "python"
SSM = HERE / "node_modules" / "stripe-stateful-mock" / "package.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def missing(peer: str) -> str | None:
    """Why ``peer`` cannot be started here (None: it can); ``make peers`` installs both."""
    if peer == "localstripe" and not LOCALSTRIPE_PYTHON.is_file():
        return "localstripe is not installed: make peers"
    if peer == "stripe-stateful-mock":
        if shutil.which("node") is None:
            return "stripe-stateful-mock needs node"
        if not SSM.is_file():
            return "stripe-stateful-mock is not installed: make peers"
    return None


def _command(peer: str, port: int) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k != "STRIPE_API_KEY"}
    if peer == "localstripe":
        return [str(LOCALSTRIPE_PYTHON), str(HERE / "localstripe_loopback.py"), str(port)], env
    return ["node", str(HERE / "ssm_loopback.js")], {**env, "PORT": str(port), "LOG_LEVEL": "warn"}


@contextmanager
def running(peer: str, timeout: float = 120.0) -> Iterator[str]:
    """``with running("localstripe") as url``: the peer on a free loopback port, stopped after."""
    port = free_port()
    command, env = _command(peer, port)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{peer} did not start on 127.0.0.1:{port}") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
