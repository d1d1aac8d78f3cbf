"""Run an SDK adapter: a command that makes one Account Session with an SDK.

The protocol (documented in the README, "Gating an SDK build"):

- ``COMMAND --version`` prints one JSON object naming the SDK:
  ``{"name": ..., "version": ..., "language": ..., "api_version": ...}``.
- ``COMMAND`` reads ONE JSON request description on stdin,
  ``{"account": ..., "components": {...}, "idempotency_key": optional, "api_version": optional}``
  (every key but the last two is a create parameter, passed as given), calls the
  SDK's create against ``$CONFORMANCE_BASE_URL`` with ``$CONFORMANCE_API_KEY``
  (no retries), and prints the SDK's parsed object as JSON, or on an SDK error
  ``{"error": {"class", "status", "type", "param", "code"}}``; exit status 0.
- An adapter whose ``--version`` says ``"serve": true`` also takes ``COMMAND --serve``:
  one process for many calls, a description per line on stdin, each answered by one
  line on stdout (the JSON above), until stdin ends. The gate then starts it once
  instead of once per call (an SDK's start-up is most of a call's time).

Standard library only: the command line resolves adapters before pytest starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import shlex
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BUILTIN",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "Adapter",
    "AdapterError",
    "Answer",
    "Served",
    "resolve",
]

ENV_BASE_URL = "CONFORMANCE_BASE_URL"
ENV_API_KEY = "CONFORMANCE_API_KEY"
BUILTIN = ("python", "node")
_HERE = Path(__file__).resolve().parent


class AdapterError(Exception):
    """The adapter cannot be run, or broke the protocol: one line for the user."""


@dataclass(frozen=True)
class Answer:
    """What one adapter call printed, parsed."""

    output: dict[str, Any]

    @property
    def error(self) -> dict[str, Any] | None:
        error = self.output.get("error")
        return error if isinstance(error, dict) and len(self.output) == 1 else None


@dataclass(frozen=True)
class Adapter:
    spec: str  # what the user named: python, node, or a command line
    command: tuple[str, ...]
    timeout: float = 60.0

    def describe(self) -> dict[str, Any]:
        """The SDK's name and version (``--version``), plus how it was run."""
        info = self._json(self._exec(["--version"], ""), "--version")
        for key in ("name", "version"):
            if not isinstance(info.get(key), str) or not info[key]:
                raise AdapterError(f"adapter {self.spec!r} --version printed no {key!r}: {info}")
        return {**info, "adapter": self.spec}

    def call(self, description: dict[str, Any], base_url: str, api_key: str) -> Answer:
        """One create through the SDK; raises :class:`AdapterError` if the adapter crashes."""
        proc = self._exec([], json.dumps(description), _env(base_url, api_key))
        return Answer(self._json(proc, "a create call"))

    def serve(self, base_url: str, api_key: str) -> Served:
        """The adapter as one process for many calls (``--serve``), started at the first call."""
        return Served(self, _env(base_url, api_key))

    def _exec(
        self, extra: list[str], stdin: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [*self.command, *extra],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env=env,
                check=False,
            )
        except (FileNotFoundError, PermissionError) as exc:
            raise self._unstartable(exc) from exc
        except subprocess.TimeoutExpired as exc:
            raise AdapterError(f"adapter {self.spec!r} did not finish within {self.timeout:.0f} s") from exc

    def _unstartable(self, exc: OSError) -> AdapterError:
        if isinstance(exc, FileNotFoundError):
            return AdapterError(f"adapter {self.spec!r}: no such command {self.command[0]!r}")
        return AdapterError(f"adapter {self.spec!r}: {self.command[0]!r} is not executable")

    def _json(self, proc: subprocess.CompletedProcess[str], what: str) -> dict[str, Any]:
        if proc.returncode != 0:
            raise AdapterError(
                f"adapter {self.spec!r} crashed on {what} (exit {proc.returncode}): {_last(proc.stderr)}"
            )
        return self._parsed(proc.stdout, what)

    def _parsed(self, stdout: str, what: str) -> dict[str, Any]:
        """The one JSON object an adapter printed."""
        try:
            output = json.loads(stdout)
        except json.JSONDecodeError:
            output = None
        if not isinstance(output, dict):
            raise AdapterError(
                f"adapter {self.spec!r} printed no JSON object on {what}: {_last(stdout) or '(nothing)'}"
            )
        return output


class Served:
    """One ``COMMAND --serve`` process: a description per line in, an answer per line out."""

    def __init__(self, adapter: Adapter, env: dict[str, str]) -> None:
        self.adapter = adapter
        self._env = env
        self._proc: subprocess.Popen[bytes] | None = None
        # its stderr, read as it comes by a thread (held in memory: it may name a key)
        self._stderr = bytearray()
        self._reader: threading.Thread | None = None
        self._buffer = b""
        self._seen = 0

    def call(self, description: dict[str, Any]) -> Answer:
        """One create through the serving adapter; :class:`AdapterError` if it crashes or hangs."""
        started = time.monotonic()
        self._seen = len(self._stderr)  # what it says from here is this call's (if it crashes)
        proc = self._start()
        assert proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(description).encode() + b"\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._crashed() from None
        line = self._line(proc, started + self.adapter.timeout)
        return Answer(self.adapter._parsed(line.decode("utf-8", "replace"), "a create call"))

    def close(self) -> None:
        """End of input: the adapter ends; one that does not within 5 s is killed."""
        self._stop()

    def _stop(self, kill: bool = False) -> int | None:
        """End the process (the next call starts another), its exit status if it had one:
        its stderr read to the end, and nothing it half-printed kept for the next one."""
        proc, self._proc = self._proc, None
        self._buffer = b""
        code = _end(proc, kill) if proc is not None else None
        if self._reader is not None:  # the adapter has ended: its stderr is at its end
            self._reader.join(5)
            self._reader = None
        return code

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            command = [*self.adapter.command, "--serve"]
            try:
                self._proc = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=self._env,
                )
            except (FileNotFoundError, PermissionError) as exc:
                raise self.adapter._unstartable(exc) from exc
            self._reader = threading.Thread(target=self._read_stderr, args=(self._proc.stderr,), daemon=True)
            self._reader.start()
        return self._proc

    def _line(self, proc: subprocess.Popen[bytes], deadline: float) -> bytes:
        """The next line the adapter prints, read without blocking past ``deadline``."""
        assert proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self._stop(kill=True)
                    raise AdapterError(
                        f"adapter {self.adapter.spec!r} did not finish within {self.adapter.timeout:.0f} s"
                    )
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    raise self._crashed()
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _crashed(self) -> AdapterError:
        code = self._stop()
        said = _last(self._said())
        return AdapterError(f"adapter {self.adapter.spec!r} crashed on a create call (exit {code}): {said}")

    def _said(self) -> str:
        """Its stderr since the call began, from the start of that line (the lines of the
        call before may still have been arriving)."""
        start = self._stderr.rfind(b"\n", 0, self._seen) + 1
        return bytes(self._stderr[start:]).decode("utf-8", "replace")

    def _read_stderr(self, stream: Any) -> None:
        with stream:
            for chunk in iter(lambda: stream.read1(65536), b""):
                self._stderr += chunk


def _env(base_url: str, api_key: str) -> dict[str, str]:
    return {**os.environ, ENV_BASE_URL: base_url, ENV_API_KEY: api_key}


def _end(proc: subprocess.Popen[bytes], kill: bool = False) -> int | None:
    """Close the adapter's stdin (its cue to end) and reap it; killed if it lingers."""
    if proc.stdin is not None and not proc.stdin.closed:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    if kill:
        proc.kill()
    try:
        return proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
    finally:
        if proc.stdout is not None:
            proc.stdout.close()


def _last(text: str) -> str:
    """What an adapter's output says of its failure: the line naming the error (node and
    Python both print one, then more), else the last lines."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return "(no output)"
    named = [ln for ln in lines if re.match(r"^[\w.]*(Error|Exception|Exit)\b", ln)]
    return (named[-1] if named else " | ".join(lines[-3:]))[:400]


def _node_dir() -> Path | None:
    from conformance.paths import project_root

    root = project_root()
    return root / "adapters" / "node" if root is not None else None


def resolve(spec: str, *, timeout: float = 60.0) -> Adapter:
    """``python`` and ``node`` are the shipped adapters; anything else is a command line."""
    if spec == "python":
        try:
            import importlib.util

            found = importlib.util.find_spec("stripe") is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise AdapterError(
                "adapter 'python' needs the Python SDK: pip install 'conformance[sdk]' (or make setup)"
            )
        return Adapter(spec, (sys.executable, str(_HERE / "adapters" / "stripe_python.py")), timeout)
    if spec == "node":
        node = shutil.which("node")
        if node is None:
            raise AdapterError("adapter 'node' needs node (20 or later) on PATH")
        where = _node_dir()
        if where is None or not (where / "adapter.js").is_file():
            raise AdapterError("adapter 'node' ships with the source checkout (adapters/node/)")
        if not (where / "node_modules" / "stripe" / "package.json").is_file():
            raise AdapterError(
                f"adapter 'node': the Node SDK is not installed; run: make adapters (npm ci in {where})"
            )
        return Adapter(spec, (node, str(where / "adapter.js")), timeout)
    try:
        command = tuple(shlex.split(spec))
    except ValueError as exc:
        raise AdapterError(f"adapter {spec!r}: cannot split the command line: {exc}") from exc
    if not command:
        raise AdapterError("--adapter needs python, node, or a command line")
    return Adapter(spec, command, timeout)
