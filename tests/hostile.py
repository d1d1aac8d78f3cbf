"""Small hostile servers for the toolkit's tests: the embedded mock behind an ASGI
middleware that misbehaves on purpose -- throttles, hangs, drips, answers garbage,
huge or deeply nested bodies, duplicate keys -- and logs every request it gets,
so that a test can count the accounts made and deleted on the server's side.

Every misbehaviour is bounded in time (a "hang" lasts at most ``HANG`` seconds, and
ends as soon as the client gives up) and the servers listen on 127.0.0.1 only. A
test tells "the client gave up" from "the server ran out of patience" by counting
(``hung`` and ``abandoned``), not by a clock.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from conformance.contracts.model import Contract
from conformance.mock import create_app

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Act = Callable[["Request"], Awaitable[bool]]  # True: it answered; False: let the mock answer
Rewrite = Callable[["Request", int, bytes], bytes]  # the mock's answer body -> what is sent

HANG = 40.0  # seconds a hanging answer waits at most: far past any timeout a test gives


@dataclass
class Request:
    number: int  # 1 for the first request the server got
    method: str
    path: str
    send: Send
    started: float
    server: Hostile
    receive: Receive


@dataclass
class Logged:
    method: str
    path: str
    status: int
    body: bytes


class Hostile:
    """``Hostile(contract, act)``: the conformant mock, except where ``act`` answers."""

    def __init__(
        self,
        contract: Contract,
        act: Act | None = None,
        *,
        rewrite: Rewrite | None = None,
        behaviour: Any = None,
    ) -> None:
        self.app = create_app(contract, behaviour)
        self.act = act
        self.rewrite = rewrite
        self.count = 0
        self.started = time.monotonic()
        self.log: list[Logged] = []
        self.arrived: list[tuple[str, str, float]] = []  # (method, path, time.time()) of every request
        self.hung = 0  # answers held back (hang, drip)
        self.abandoned = 0  # ... of which the client went away before the server let go

    @property
    def made(self) -> list[str]:
        """Ids of the accounts the server made."""
        return [
            json.loads(e.body)["id"]
            for e in self.log
            if e.method == "POST" and e.path == "/v1/accounts" and e.status == 200
        ]

    def deletes(self, account: str) -> int:
        """How many times a DELETE of ``account`` succeeded."""
        return sum(
            1
            for e in self.log
            if e.method == "DELETE" and e.path == f"/v1/accounts/{account}" and e.status == 200
        )

    def secrets(self) -> list[str]:
        """Every client_secret the server issued."""
        found = []
        for e in self.log:
            if e.path == "/v1/account_sessions" and e.status == 200:
                try:
                    found.append(json.loads(e.body)["client_secret"])
                except (ValueError, KeyError, TypeError):
                    continue
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.count += 1
        if self.count == 1:  # time is counted from the first request, not from start-up
            self.started = time.monotonic()
        self.arrived.append((scope["method"], scope["path"], time.time()))
        request = Request(self.count, scope["method"], scope["path"], send, time.monotonic(), self, receive)
        if self.act is not None and await self.act(request):
            return
        status, headers, chunks = 0, [], []

        async def keep(message: dict[str, Any]) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = message["status"], message["headers"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):  # logged before the client can see the end of it
                    self.log.append(Logged(request.method, request.path, status, b"".join(chunks)))
            if self.rewrite is None:
                await send(message)

        await self.app(scope, receive, keep)
        if self.rewrite is not None:
            sent = self.rewrite(request, status, b"".join(chunks))
            kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            kept.append((b"content-length", str(len(sent)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": kept})
            await send({"type": "http.response.body", "body": sent})


# -- answers --------------------------------------------------------------------------------
async def answer(
    request: Request,
    status: int,
    body: bytes | str,
    headers: dict[str, str] | None = None,
    *,
    content_type: str = "application/json",
) -> bool:
    raw = body.encode() if isinstance(body, str) else body
    pairs = [(b"content-type", content_type.encode()), (b"content-length", str(len(raw)).encode())]
    pairs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await request.send({"type": "http.response.start", "status": status, "headers": pairs})
    await request.send({"type": "http.response.body", "body": raw})
    return True


def stripe_error(status: int, type_: str, message: str) -> bytes:
    return json.dumps({"error": {"type": type_, "message": message}}).encode()


async def throttle(request: Request, retry_after: str = "1") -> bool:
    return await answer(
        request,
        429,
        stripe_error(429, "rate_limit_error", "Too many requests"),
        {"Retry-After": retry_after, "Stripe-Should-Retry": "true", "Request-Id": "req_throttled"},
    )


async def _gone(request: Request) -> None:
    """Returns when the client has closed the connection (the request body read first)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _held(request: Request, answering: Awaitable[None]) -> bool:
    """Runs ``answering`` (which ends within HANG seconds) until it ends or the client goes
    away, whichever comes first; counts the answer as held, and as abandoned if the client left."""
    request.server.hung += 1
    gone = asyncio.ensure_future(_gone(request))
    work = asyncio.ensure_future(answering)
    done, _ = await asyncio.wait({gone, work}, return_when=asyncio.FIRST_COMPLETED)
    if gone in done and work not in done:
        request.server.abandoned += 1
    for task in (gone, work):
        task.cancel()
    return True


async def hang(request: Request) -> bool:
    """No answer until the client gives up (or HANG seconds pass: then a 504)."""

    async def late() -> None:
        await asyncio.sleep(HANG)
        await answer(request, 504, stripe_error(504, "api_error", "late"))

    return await _held(request, late())


async def drip(request: Request, every: float = 1.0) -> bool:
    """Headers at once, then the body one byte at a time (chunked), until the client
    gives up (or HANG seconds pass)."""

    async def dripping() -> None:
        await request.send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        stop = time.monotonic() + HANG
        while time.monotonic() < stop:
            await request.send({"type": "http.response.body", "body": b" ", "more_body": True})
            await asyncio.sleep(every)
        await request.send({"type": "http.response.body", "body": b"{}"})

    return await _held(request, dripping())


async def huge(request: Request, megabytes: int) -> bool:
    """A JSON answer of ``megabytes`` MB, streamed in 1 MB chunks."""
    await request.send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    chunk = b" " * (1024 * 1024)
    await request.send({"type": "http.response.body", "body": b'{"pad": "', "more_body": True})
    for _ in range(megabytes):
        await request.send({"type": "http.response.body", "body": chunk, "more_body": True})
    await request.send({"type": "http.response.body", "body": b'"}'})
    return True


def on(path: str, action: Callable[[Request], Awaitable[bool]], method: str = "POST") -> Act:
    """``action`` for requests to ``path``; the mock answers the rest."""

    async def act(request: Request) -> bool:
        if request.path == path and request.method == method:
            return await action(request)
        return False

    return act
