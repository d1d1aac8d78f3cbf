"""The suite's HTTP client: bracket forms, a rate cap, retries, and evidence.

Every call returns an :class:`Exchange`: what was sent and what came back,
with enough to show it in a report and to replay it with ``curl``. A 429 is
retried with backoff (honouring ``Retry-After``), never reported as a fault;
a target that does not answer raises :class:`TargetUnreachable` after a
bounded number of tries.
"""

from __future__ import annotations

import base64
import json
import shlex
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance.cassettes import RECORDED_AT
from conformance.errors import TargetUnreachable, UnplayedRequest
from conformance.forms import encode_form
from conformance.redact import Redactor

__all__ = ["Client", "Exchange", "NotJSON", "TargetUnreachable", "is_loopback", "retry_delay"]

_FORM = "application/x-www-form-urlencoded"
_UNSET: Any = object()


@dataclass(frozen=True)
class NotJSON:
    """A body that did not parse as JSON."""

    text: str

    def __repr__(self) -> str:
        return f"(not JSON: {self.text[:60]!r})"


@dataclass
class Exchange:
    method: str
    url: str
    path: str
    form: str
    request_headers: dict[str, str]
    status: int
    headers: httpx.Headers
    content: bytes
    sent_at: float
    elapsed: float
    _json: Any = field(default=_UNSET, repr=False)

    @property
    def json(self) -> Any:
        if self._json is _UNSET:
            try:
                self._json = json.loads(self.content)
            except (json.JSONDecodeError, UnicodeDecodeError):
                self._json = NotJSON(self.content.decode("utf-8", "replace"))
        return self._json

    def curl(self, redactor: Redactor) -> str:
        """A curl command that replays the request; the key comes from $STRIPE_API_KEY."""
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(self.url)]
        auth = self.request_headers.get("Authorization", "")
        if auth.startswith("Basic "):
            parts += ["-u", '"$STRIPE_API_KEY:"']
        elif auth.startswith("Bearer "):
            parts += ["-H", '"Authorization: Bearer $STRIPE_API_KEY"']
        elif auth:
            parts += ["-H", shlex.quote(redactor.text(f"Authorization: {auth}"))]
        for name, value in self.request_headers.items():
            if name not in ("Authorization", "Content-Type"):
                parts += ["-H", shlex.quote(redactor.text(f"{name}: {value}"))]
        if self.form:
            ctype = self.request_headers.get("Content-Type", _FORM)
            if ctype != _FORM:
                parts += ["-H", shlex.quote(f"Content-Type: {ctype}")]
            parts += ["--data-raw", shlex.quote(redactor.text(self.form))]
        return " ".join(parts)

    def evidence(self, redactor: Redactor) -> dict[str, Any]:
        """Request and response, keys and secrets redacted, for reports."""
        body = self.json
        return {
            "request": {
                "method": self.method,
                "path": self.path,
                "body": redactor.text(self.form),
                "headers": {
                    k: redactor.text(v) for k, v in self.request_headers.items() if k != "Authorization"
                },
            },
            "response": {
                "status": self.status,
                "headers": {
                    k: redactor.text(v)
                    for k, v in self.headers.items()
                    if k.lower() in ("content-type", "request-id", "idempotent-replayed", "stripe-version")
                },
                "body": redactor.data(body)
                if not isinstance(body, NotJSON)
                else redactor.text(body.text[:2000]),
            },
            "curl": self.curl(redactor),
        }


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


class _Pace:
    """At most ``rate`` requests per second across threads (None: no cap)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next)
            self.next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class Client:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        api_version: str | None = None,
        rate: float | None = None,
        timeout: float = 15.0,
        max_429: int = 6,
        max_connect: int = 2,
        redactor: Redactor | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.api_version = api_version
        self.redactor = redactor or Redactor(api_key)
        self.redactor.add_key(api_key)
        self._pace = _Pace(rate)
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._max_429 = max_429
        self._max_connect = max_connect
        self.dead: str | None = None
        self.replay_errors: tuple[type[BaseException], ...] = ()  # set while cassettes are in use
        self.calls: list[tuple[str, str, str]] | None = None  # a dry run lists what it sends

    def close(self) -> None:
        self._http.close()

    def pace(self) -> None:
        """Wait for the next slot under the rate cap (for requests sent by other means)."""
        self._pace.wait()

    def auth_header(self, auth: str | None, key: str | None = None) -> dict[str, str]:
        key = self.api_key if key is None else key
        if auth == "basic":
            token = base64.b64encode(f"{key}:".encode()).decode()
            return {"Authorization": f"Basic {token}"}
        if auth == "bearer":
            return {"Authorization": f"Bearer {key}"}
        return {}

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        form: str | None = None,
        content_type: str = _FORM,
        auth: str | None = "basic",
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Exchange:
        if self.dead:
            raise TargetUnreachable(self.dead)
        if self.calls is not None:
            shown = form if form is not None else (encode_form(params) if params else "")
            self.calls.append((method, path, self.redactor.text(shown)))
        body = form if form is not None else (encode_form(params) if params else "")
        sent = {**self.auth_header(auth, key)}
        if body:
            sent["Content-Type"] = content_type
        if self.api_version:
            sent["Stripe-Version"] = self.api_version
        if idempotency_key:
            sent["Idempotency-Key"] = idempotency_key
        sent.update(headers or {})
        tries_429 = tries_conn = 0
        while True:
            self._pace.wait()
            started = time.time()
            try:
                response = self._http.request(method, path, content=body.encode(), headers=sent)
            except self.replay_errors as exc:
                raise UnplayedRequest(
                    f"no recorded answer for {method} {path} {self.redactor.text(body)[:300]}"
                ) from exc
            except (httpx.TransportError, httpx.InvalidURL) as exc:
                tries_conn += 1
                if tries_conn > self._max_connect:
                    self.dead = f"{self.base_url} did not answer ({type(exc).__name__}: {exc})"
                    raise TargetUnreachable(self.dead) from exc
                time.sleep(0.2 * 2**tries_conn)
                continue
            if response.status_code == 429 and tries_429 < self._max_429:
                tries_429 += 1
                time.sleep(retry_delay(response.headers.get("retry-after"), tries_429))
                continue
            recorded = response.headers.get(RECORDED_AT)
            if recorded:  # a replayed answer: judge it by when it was recorded
                started = float(recorded)
            exchange = Exchange(
                method,
                str(response.request.url),
                path,
                body,
                sent,
                response.status_code,
                response.headers,
                response.content,
                started,
                time.time() - started,
            )
            if not isinstance(exchange.json, NotJSON):
                self.redactor.learn_answer(exchange.content, exchange.json)
            return exchange

    # -- the API ---------------------------------------------------------------------
    def create_session(self, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Exchange:
        return self.request("POST", "/v1/account_sessions", params, **kwargs)

    def create_account(self, params: Mapping[str, Any], **kwargs: Any) -> Exchange:
        return self.request("POST", "/v1/accounts", params, **kwargs)

    def retrieve_account(self, account_id: str) -> Exchange:
        return self.request("GET", f"/v1/accounts/{account_id}")

    def delete_account(self, account_id: str) -> Exchange:
        return self.request("DELETE", f"/v1/accounts/{account_id}")


def retry_delay(retry_after: object, attempt: int) -> float:
    """Seconds to wait before retrying a 429: ``Retry-After`` when it is a number, else
    exponential backoff; never under 50 ms or over 10 s."""
    try:
        wait = float(str(retry_after))
    except ValueError:
        wait = 0.25 * 2**attempt
    return max(0.05, min(wait, 10.0))
