"""A `conformance` command that costs a fork, not a Python start-up (for the CI examples).

The CI examples' scripts call `conformance` a few times a job; started afresh, each
call spends about 1.5 s of CPU importing pytest, hypothesis, schemathesis and the
suites before it does anything. ``ForkServer`` imports them once, in a process of
its own, and forks a child for each call: the child takes the caller's standard
streams (passed over a Unix socket), working directory, environment and arguments,
runs ``conformance.cli.main`` and reports its exit status. Each call is still a
process of its own; only the imports are shared.

``python -I forkserver.py SOCKET ARGS...`` is the caller's side (the standard library
only: it starts in a few milliseconds); the shim in ``ci_runner`` execs it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
from pathlib import Path

_LENGTH = struct.Struct("!I")
NO_ANSWER = 70  # the caller's exit status when the server never said how its child ended


def call(path: str, argv: list[str]) -> int:
    """The caller: hand over argv, cwd, environment and fds 0-2; exit as the child did."""
    message = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(path)
        socket.send_fds(conn, [_LENGTH.pack(len(message))], [0, 1, 2])
        conn.sendall(message)
        answer = conn.recv(_LENGTH.size)
    return _LENGTH.unpack(answer)[0] if len(answer) == _LENGTH.size else NO_ANSWER


def _serve(path: str) -> None:
    """The server: import what a run needs, load the contract and compile the report's
    templates (~0.3 s of CPU a run otherwise), then fork a child a call (no thread is
    ever started here, so a fork copies a whole interpreter)."""
    import pytest  # noqa: F401

    import conformance.cli
    import conformance.fuzz.schema
    import conformance.launch
    import conformance.pytest.plugin
    import conformance.report.html

    conformance.launch.load(None)  # the installed contract, cached for every child
    conformance.report.html._environment().get_template("index.html")  # compiled once, not a run

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reaped by the kernel
    parent = os.getppid()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listening:
        listening.bind(path)
        listening.listen(16)
        listening.settimeout(2)
        print("ready", flush=True)
        while os.getppid() == parent:  # never outlives the tests that started it
            try:
                conn, _ = listening.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            head, fds, _, _ = socket.recv_fds(conn, _LENGTH.size, 3)
            size = _LENGTH.unpack(head)[0]
            body = b""
            while len(body) < size:
                body += conn.recv(size - len(body))
            if os.fork() == 0:
                listening.close()
                _child(conn, fds, json.loads(body), conformance.cli.main)
            conn.close()
            for fd in fds:
                os.close(fd)


def _child(conn: socket.socket, fds: list[int], call: dict, main) -> None:  # pragma: no cover - a child
    code = NO_ANSWER
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # its own subprocesses are waited for
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        os.chdir(call["cwd"])
        os.environ.clear()
        os.environ.update(call["env"])
        sys.argv = ["conformance", *call["argv"]]
        code = int(main(call["argv"]) or 0)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        conn.sendall(_LENGTH.pack(code))
        os._exit(code)


class ForkServer:
    """``with ForkServer(directory, env) as server``: ``server.command`` runs conformance."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.path = str(directory / "conformance.sock")
        self.env = env
        self.command = f'"{sys.executable}" -I "{Path(__file__).resolve()}" "{self.path}"'
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> ForkServer:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", self.path],
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":  # "" if it died starting
            self.__exit__()
            raise RuntimeError("the fork server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=30)
            if self.proc.stdout is not None:
                self.proc.stdout.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        _serve(sys.argv[2])
    else:
        sys.exit(call(sys.argv[1], sys.argv[2:]))
