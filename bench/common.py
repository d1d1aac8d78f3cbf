"""Shared pieces of the benchmarks: a mock in its own process, and timing helpers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk_test_bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while True:
        try:
            httpx.post(url, timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > end:
                raise RuntimeError(f"{url} did not come up") from None
            time.sleep(0.05)


@contextmanager
def mock_process(*extra: str) -> Iterator[str]:
    """`conformance serve` in its own process (its own core), on a free loopback port."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "serve", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/v1/account_sessions")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def account(url: str, kind: str = "express") -> str:
    made = httpx.post(f"{url}/v1/accounts", data={"type": kind}, auth=(KEY, ""))
    made.raise_for_status()
    return str(made.json()["id"])


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "STRIPE_API_KEY"}
