"""The embedded reference mock as an ASGI app (Starlette).

The plumbing Stripe's wire protocol asks of every endpoint: authentication,
form decoding with limits, idempotency, ``Request-Id``, JSON errors for
anything malformed (never a 500 for bad input). It never logs bodies, keys or
secrets: it logs nothing at all.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.contracts.model import Contract
from conformance.forms import FormError, decode_form, encode_form
from conformance.mock.behaviour import Behaviour, Reply
from conformance.mock.state import IdempotencyStore, StoredResponse
from conformance.redact import KEY_PATTERN, key_in, mask

__all__ = ["MAX_BODY", "create_app"]

MAX_BODY = 64 * 1024
MAX_VALUE = 5000  # characters of one parameter's value (Stripe's limit for strings)
MAX_IDEMPOTENCY_KEY = 255  # characters of an Idempotency-Key (Stripe's limit)
_FORM = "application/x-www-form-urlencoded"
# one encoder for every answer: json.dumps(..., separators=...) makes a new one each call
_to_json = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _responder(decide: Behaviour) -> Callable[..., Response]:
    def respond(reply: Reply, *, headers: dict[str, str] | None = None, raw: bytes | None = None) -> Response:
        status, body = reply
        content = raw if raw is not None else _to_json(body).encode()
        all_headers = {**decide.answer_headers(), **(headers or {})}
        return Response(content, status_code=status, media_type=decide.media_type, headers=all_headers)

    return respond


def _scheme(request: Request) -> str | None:
    """``basic`` or ``bearer``: how the request carries its key (None: it does not)."""
    scheme = request.headers.get("authorization", "").partition(" ")[0].lower()
    return scheme if scheme in ("basic", "bearer") else None


def api_key(request: Request) -> str | None:
    """The key from ``Authorization: Basic`` (user name) or ``Bearer``."""
    return key_in(request.headers.get("authorization", ""))


class _RateLimit:
    """A token bucket shared by all requests: over the rate, answer 429."""

    def __init__(self, per_second: float) -> None:
        self.rate = per_second
        self.tokens = per_second
        self.stamp = time.monotonic()
        self.lock = threading.Lock()
        self.refused = 0  # how many 429s were answered

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


def _too_long(params: dict[str, Any], prefix: str = "") -> str | None:
    """The bracket path of the first value longer than MAX_VALUE characters, if any."""
    for name, value in params.items():
        path = f"{prefix}[{name}]" if prefix else str(name)
        if isinstance(value, dict):
            found = _too_long(value, path)
            if found is not None:
                return found
        elif isinstance(value, list):
            if any(isinstance(v, str) and len(v) > MAX_VALUE for v in value):
                return path
        elif isinstance(value, str) and len(value) > MAX_VALUE:
            return path
    return None


def create_app(
    contract: Contract,
    behaviour: Behaviour | None = None,
    *,
    rate_limit: float | None = None,
    calls: list[tuple[str, str, str]] | None = None,
    latency: float = 0.0,
) -> Starlette:
    """The mock for ``contract``; ``behaviour`` decides the answers (default: conformant).
    ``calls``, when given, receives every request (method, path, form; keys masked): a
    dry run lists what it would have sent."""
    decide = behaviour or Behaviour(contract)
    _respond = _responder(decide)
    idempotency = IdempotencyStore()
    limiter = _RateLimit(rate_limit) if rate_limit else None

    async def read_params(request: Request) -> dict[str, Any] | Reply:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY:
            return _too_large()
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                return _too_large()
            chunks.append(chunk)
        body = b"".join(chunks)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if body and ctype != _FORM:
            return decide.error(
                400,
                "invalid_request_error",
                f"Invalid request: the body must be {_FORM}, not {ctype or 'untyped'}.",
            )
        try:
            params = decode_form(body)
            long = _too_long(params)
            if long is not None:
                return decide.error(
                    400,
                    "invalid_request_error",
                    f"Invalid request: {long} is longer than {MAX_VALUE} characters.",
                    param=long,
                    code="parameter_invalid",
                )
            return params
        except FormError as exc:
            return decide.error(
                400,
                "invalid_request_error",
                f"Invalid request: {exc.message}",
                param=exc.param,
                code="parameter_invalid",
            )

    def _too_large() -> Reply:
        return decide.error(
            413,
            "invalid_request_error",
            f"Invalid request: the body is larger than {MAX_BODY} bytes.",
        )

    def endpoint(
        handler: Callable[[Request, dict[str, Any], str], Reply],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            if latency:  # a remote API's round trip, on loopback
                await asyncio.sleep(latency)
            if limiter is not None and not limiter.take():
                limiter.refused += 1
                return _respond(
                    decide.error(429, "rate_limit_error", "Too many requests: slow down."),
                    headers={"Stripe-Should-Retry": "true", "Retry-After": "1"},
                )
            key = api_key(request)
            refused = decide.authenticate(key) or decide.scheme_refused(_scheme(request))
            if refused is not None:
                return _respond(refused)
            key = key or ""
            try:
                params = await read_params(request)
            except ClientDisconnect:  # gone before its body came: nobody to answer, nothing to log
                return Response(status_code=400)
            if calls is not None:
                shown = encode_form(params) if isinstance(params, dict) else "(unreadable body)"
                calls.append(
                    (request.method, request.url.path, KEY_PATTERN.sub(lambda m: mask(m.group(0)), shown))
                )
            if isinstance(params, tuple):
                return _respond(params)
            extra = {}
            version = request.headers.get("stripe-version")
            if version:
                extra["Stripe-Version"] = version
            idem = (
                request.headers.get("idempotency-key")
                if request.method == "POST" and decide.idempotency
                else None
            )
            if not idem:
                return _respond(handler(request, params, key), headers=extra)
            if len(idem) > MAX_IDEMPOTENCY_KEY:
                return _respond(
                    decide.error(
                        400,
                        "invalid_request_error",
                        f"Invalid Idempotency-Key: at most {MAX_IDEMPOTENCY_KEY} characters.",
                    )
                )
            fingerprint = json.dumps([request.method, request.url.path, params], sort_keys=True)
            stored = idempotency.get(key, idem)
            if stored is not None:
                if not decide.replays(stored.fingerprint, fingerprint):
                    return _respond(
                        decide.error(
                            400,
                            "idempotency_error",
                            "This Idempotency-Key was first used with other parameters;"
                            " use a new key for a new request.",
                        )
                    )
                return _respond(
                    (stored.status, {}),
                    raw=stored.body,
                    headers={**stored.headers, **decide.replay_headers()},
                )
            status, body = handler(request, params, key)
            raw = _to_json(body).encode()
            if decide.stores(status):
                idempotency.put(key, idem, StoredResponse(fingerprint, status, raw, extra))
            return _respond((status, body), raw=raw, headers={**extra, "Idempotency-Key": idem})

        return run

    def sessions(request: Request, params: dict[str, Any], key: str) -> Reply:
        return decide.create_session(params, key)

    def accounts(request: Request, params: dict[str, Any], key: str) -> Reply:
        return decide.create_account(params, key)

    def account(request: Request, params: dict[str, Any], key: str) -> Reply:
        account_id = request.path_params["account_id"]
        if request.method == "DELETE":
            return decide.delete_account(account_id)
        return decide.retrieve_account(account_id)

    async def not_found(request: Request, exc: Exception) -> Response:
        if latency:
            await asyncio.sleep(latency)
        status = getattr(exc, "status_code", 404)
        return _respond(
            decide.error(
                404 if status in (404, 405) else status,
                "invalid_request_error",
                f"Unrecognized request URL ({request.method}: {request.url.path}).",
            )
        )

    async def crashed(request: Request, exc: Exception) -> Response:
        return _respond(decide.error(500, "api_error", "An internal error occurred in the mock."))

    routes = [
        Route("/v1/account_sessions", endpoint(sessions), methods=["POST"]),
        Route("/v1/accounts", endpoint(accounts), methods=["POST"]),
        Route("/v1/accounts/{account_id}", endpoint(account), methods=["GET", "DELETE"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: not_found, Exception: crashed},
    )
    app.state.behaviour = decide
    app.state.limiter = limiter
    return app
