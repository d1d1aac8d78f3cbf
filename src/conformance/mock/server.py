"""Serve the mock with uvicorn: in the foreground (``conformance serve``) or in a
background thread on a free loopback port (the suites, with no ``--base-url``)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["EmbeddedServer", "listen", "serve"]


class _Protocol(HttpToolsProtocol):
    """uvicorn's protocol, but a connection that never sends a byte is closed after the
    keep-alive timeout too, as an idle one is after an answer (uvicorn arms that timer
    only after a response)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )


def _config(app: Any, **kwargs: Any) -> uvicorn.Config:
    """httptools parses HTTP (a dependency): with it the mock answers about a third more
    requests a second than with h11 (README: Benchmarks). An idle connection is closed
    after 5 s. The event loop is asyncio's, uvloop or not: it measured no faster here."""
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="auto",  # the proxy closes its upstream client on shutdown
        server_header=False,
        http=_Protocol,
        timeout_keep_alive=5,
        loop="asyncio",
        **kwargs,
    )


def listen(host: str, port: int) -> socket.socket:
    """A listening socket with TCP_NODELAY (accepted sockets inherit it): without
    it, a response written in two parts waits out the peer's delayed ACK (~40 ms)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def serve(app: Any, host: str = "127.0.0.1", port: int = 12111) -> None:
    """Serve in the foreground until interrupted (raises OSError if the port is taken)."""
    sock = listen(host, port)
    try:
        uvicorn.Server(_config(app, host=host, port=port)).run(sockets=[sock])
    finally:
        sock.close()


class EmbeddedServer:
    """``with EmbeddedServer(app) as server: server.url`` -- stops on exit."""

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        self.app = app
        self.host = host
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> EmbeddedServer:
        sock = listen(self.host, 0)
        self._sock = sock
        port = sock.getsockname()[1]
        self.url = f"http://{self.host}:{port}"
        self._server = uvicorn.Server(_config(self.app, host=self.host, port=port))
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="conformance-mock", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the embedded mock did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
