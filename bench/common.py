"""Shared pieces of the benchmarks: a mock in its own process, servers, and memory of a process tree."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
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


MB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        found.setdefault(ppid, []).append(int(entry.name))
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        return 0


def _pss(pid: int) -> int:
    """Proportional set size: shared pages split between the processes that map them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class TreeMemory:
    """Samples the resident memory of a process and all its descendants (from /proc,
    every ``interval`` seconds) in a thread: ``peak`` is the largest sum of RSS seen,
    ``largest`` the largest single process seen, ``peak_pss`` the largest sum of PSS.
    RSS counts shared pages in every process that maps them, so its sum is an upper
    bound; PSS splits them, so its sum is what the tree takes."""

    def __init__(self, pid: int, interval: float = 0.1, *, include_root: bool = True) -> None:
        self.pid = pid
        self.interval = interval
        self.include_root = include_root
        self.peak = 0
        self.largest = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tree-memory", daemon=True)

    def sample(self) -> None:
        children = _children()
        todo = [self.pid]
        pids = []
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo.extend(children.get(pid, ()))
        if not self.include_root:
            pids.remove(self.pid)
        sizes = [_rss(pid) for pid in pids]
        self.peak = max(self.peak, sum(sizes))
        self.largest = max(self.largest, *sizes, 0)
        self.peak_pss = max(self.peak_pss, sum(_pss(pid) for pid in pids))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> TreeMemory:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def server(
    cmd: Sequence[str], url: str, ready: Callable[[str], None], *, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A server in its own process group, its output discarded; stopped (the whole
    group) on exit. ``ready(url)`` returns once it answers, or raises."""
    proc = subprocess.Popen(
        list(cmd),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        ready(url)
        yield proc
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
