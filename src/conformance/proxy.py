"""A recording proxy: forward every request untouched, keep what went each way.

``conformance proxy --upstream URL`` puts it in front of any target (the
embedded mock, stripe-mock, the real API); the SDK gate runs one in-process in
front of the target, so that it can judge the exact bytes an SDK sent and
received. Method, path, query, headers and body go upstream as they came (less
the hop-by-hop headers HTTP itself re-computes); the answer comes back as the
upstream sent it, compressed or not.

Each exchange is kept raw in memory (:attr:`Proxy.records`, the newest
``keep``) for the process that runs the proxy, and optionally appended to a
JSON-lines log. The log is written through a :class:`~conformance.redact.Redactor`:
``Authorization`` is masked, and API keys and ``client_secret`` values never
appear in clear.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from conformance.redact import Redactor, key_in, mask

__all__ = ["MAX_BODY", "Proxy", "Recorded", "create_proxy", "mask_authorization"]

MAX_BODY = 1024 * 1024
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# hop-by-hop, or re-computed by the HTTP client for the upstream connection
_DROP_REQUEST = {
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "content-length",
    "te",
    "upgrade",
    "proxy-authorization",
}
_CLIENT_DEFAULTS = {"accept", "accept-encoding", "user-agent"}
_DROP_RESPONSE = {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"}


@dataclass(frozen=True)
class Recorded:
    """One exchange as it travelled: raw bytes, header names lower-case, as received."""

    seq: int
    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes  # decoded if the upstream compressed it (the client got it compressed)
    started: float
    elapsed: float
    upstream_error: str | None = None

    def header(self, name: str) -> str | None:
        """The first request header ``name`` (any case), or None."""
        return next((v for k, v in self.headers if k == name.lower()), None)

    def header_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name.lower()]

    def response_header(self, name: str) -> str | None:
        return next((v for k, v in self.response_headers if k == name.lower()), None)

    def response_json(self) -> Any:
        """The response body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.response_body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None


def mask_authorization(value: str) -> str:
    """``Basic <b64 of key:>`` / ``Bearer key`` with the key masked; anything else ``****``."""
    scheme = value.partition(" ")[0]
    if scheme.lower() not in ("basic", "bearer"):
        return "****"
    key = key_in(value)
    if key is None:
        return f"{scheme} ****"
    return f"{scheme} {mask(key)}" if scheme.lower() == "bearer" else f"{scheme} <{mask(key)}:>"


def _decoded(body: bytes, encoding: str | None) -> bytes:
    kind = (encoding or "").strip().lower()
    try:
        if kind == "gzip":
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if kind == "deflate":
            return zlib.decompress(body)
    except zlib.error:
        return body
    return body


class Proxy:
    """The ASGI app. ``upstream`` is a base URL (``http://127.0.0.1:12111``)."""

    def __init__(
        self,
        upstream: str,
        *,
        redactor: Redactor | None = None,
        log: Path | None = None,
        keep: int = 1000,
        timeout: float = 60.0,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.redactor = redactor or Redactor()
        self.log = log
        self.records: deque[Recorded] = deque(maxlen=keep)
        self.timeout = timeout
        self._seq = 0
        self._lock = threading.Lock()
        self._client: httpx.AsyncClient | None = None

    # -- what the suite reads ----------------------------------------------------------
    @property
    def count(self) -> int:
        """How many exchanges have been seen (a mark for :meth:`since`)."""
        with self._lock:
            return self._seq

    def since(self, mark: int) -> list[Recorded]:
        """The exchanges after ``mark`` (a value of :attr:`count`), oldest first."""
        with self._lock:
            return [r for r in self.records if r.seq > mark]

    # -- ASGI --------------------------------------------------------------------------
    def _upstream(self) -> httpx.AsyncClient:
        """One client for every request, its connections kept alive: a client a request
        cost ~30 ms each (a new connection, and its pool set up) before."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # the server starts and stops: close the client then
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self._client is not None:
                        await self._client.aclose()
                        self._client = None
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        started = time.time()
        body = await self._body(receive)
        if body is None:
            await self._reply(send, 413, [], _error_body("the request body is larger than the proxy keeps"))
            return
        method = scope["method"]
        path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        headers = tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"])
        forward = [(k, v) for k, v in headers if k not in _DROP_REQUEST]
        status, out_headers, raw, error = await self._forward(method, path, query, forward, body)
        encoding = next((v for k, v in out_headers if k == "content-encoding"), None)
        seq = self._next()
        record = Recorded(
            seq,
            method,
            path,
            query,
            headers,
            body,
            status,
            tuple(out_headers),
            _decoded(raw, encoding),
            started,
            time.time() - started,
            error,
        )
        with self._lock:
            self.records.append(record)
        if self.log is not None:
            self._write(self.log, record)
        await self._reply(send, status, out_headers, raw)

    async def _body(self, receive: Receive) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    async def _forward(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes, str | None]:
        url = self.upstream + path + (f"?{query}" if query else "")
        try:
            client = self._upstream()
            request = client.build_request(method, url, headers=headers, content=body)
            sent = {k for k, _ in headers}
            for name in _CLIENT_DEFAULTS - sent:  # what httpx would add of its own
                del request.headers[name]
            response = await client.send(request, stream=True)
            try:
                raw = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            problem = f"upstream {self.upstream} did not answer ({type(exc).__name__}: {exc})"
            return 502, [("content-type", "application/json")], _error_body(problem), problem
        kept = [
            (k.decode("latin-1").lower(), v.decode("latin-1"))
            for k, v in response.headers.raw
            if k.decode("latin-1").lower() not in _DROP_RESPONSE
        ]
        return response.status_code, kept, raw, None

    async def _reply(self, send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        raw_headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})

    def _next(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    # -- the log -------------------------------------------------------------------------
    def redacted(self, record: Recorded) -> dict[str, Any]:
        """The record as the log writes it: no key, no client_secret in clear."""
        redactor = self.redactor
        for value in record.header_all("authorization"):
            redactor.add_key(key_in(value))
        answer = record.response_json()
        if answer is not None:
            redactor.learn(answer)

        def headers(pairs: tuple[tuple[str, str], ...]) -> list[list[str]]:
            return [
                [k, mask_authorization(v) if k == "authorization" else redactor.text(v)] for k, v in pairs
            ]

        return {
            "seq": record.seq,
            "time": round(record.started, 3),
            "elapsed": round(record.elapsed, 4),
            "request": {
                "method": record.method,
                "path": redactor.text(record.path),
                "query": redactor.text(record.query),
                "headers": headers(record.headers),
                "body": redactor.text(record.body.decode("utf-8", "replace")),
            },
            "response": {
                "status": record.status,
                "headers": headers(record.response_headers),
                "body": redactor.data(answer)
                if answer is not None
                else redactor.text(record.response_body.decode("utf-8", "replace")),
            },
            "upstream_error": redactor.text(record.upstream_error) if record.upstream_error else None,
        }

    def _write(self, log: Path, record: Recorded) -> None:
        line = json.dumps(self.redacted(record), separators=(",", ":")) + "\n"
        with self._lock, log.open("a", encoding="utf-8") as handle:
            handle.write(line)


def _error_body(message: str) -> bytes:
    error = {"error": {"type": "api_error", "message": f"conformance proxy: {message}"}}
    return json.dumps(error).encode()


def create_proxy(
    upstream: str, *, redactor: Redactor | None = None, log: Path | None = None, keep: int = 1000
) -> Proxy:
    """A recording proxy in front of ``upstream``; serve it with :mod:`conformance.mock.server`."""
    return Proxy(upstream, redactor=redactor, log=log, keep=keep)
