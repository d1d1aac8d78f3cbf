"""The suite's HTTP client: bracket forms, a rate cap, bounded retries, bounded answers.

Every call returns an :class:`Exchange`: what was sent and what came back,
with enough to show it in a report and to replay it with ``curl``.

Nothing a target does can hold a run without end or fill the memory:

- a request, body included, takes at most ``timeout`` seconds (a body dripped
  byte by byte is cut off), and none is sent after the run's deadline;
- a 429, a 502/503 or a 5xx marked ``Stripe-Should-Retry: true`` is retried
  with backoff (``Retry-After`` honoured, at most 10 s a wait) within a
  budget of waiting for the whole process; past it the run stops;
- a target that does not answer (refused, timed out, dropped) a few times in
  a row is *dead*: every later request raises :class:`TargetUnreachable`;
- an answer is read up to ``max_body`` bytes; a bigger one is not kept (its
  size is), and JSON nested deeper than ``max_depth`` is not walked.
"""

from __future__ import annotations

import base64
import functools
import ssl
import threading
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance import __version__
from conformance.cassettes import RECORDED_AT
from conformance.errors import RunAborted, TargetUnreachable, UnplayedRequest
from conformance.evidence import NotJSON, json_depth
from conformance.exchange import Exchange
from conformance.forms import encode_form
from conformance.limits import Limits, Pace, retry_delay, transient
from conformance.redact import Redactor
from conformance.stop import raise_if_stopped

__all__ = [
    "Client",
    "Exchange",
    "Limits",
    "NotJSON",
    "TargetUnreachable",
    "is_loopback",
    "json_depth",
    "retry_delay",
]

_FORM = "application/x-www-form-urlencoded"
_UNSET: Any = object()
SLOW = 0.01  # seconds an answer takes past which a target counts as slow
_AGENT = f"conformance/{__version__}"  # the suite says who it is


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's CAs), made once a process: loading the CAs
    costs ~70 ms, and a process may make many clients (the profile's, each worker's)."""
    return httpx.create_ssl_context()


class Client:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        api_version: str | None = None,
        rate: float | None = None,
        limits: Limits | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.api_version = api_version
        self.limits = limits or Limits()
        self.redactor = redactor or Redactor(api_key)
        self.redactor.add_key(api_key)
        self._pace = Pace(rate)
        # the transport (httpx's connection pool) is all a request needs: no cookies, auth
        # flows, redirects or event hooks on the way (a fifth of a request's time on loopback)
        self._http = httpx.HTTPTransport(verify=_tls())
        self._lock = threading.Lock()
        self._urls: dict[str, httpx.URL] = {}
        self.dead: str | None = None
        self.scheme = "basic"  # how the key is sent by default; the profile may learn "bearer"
        self.replay_errors: tuple[type[BaseException], ...] = ()  # set while cassettes are in use
        self.sent: Counter[str] = Counter()  # requests sent, by "METHOD /route"
        self.retried: Counter[str] = Counter()  # retries, by cause: 429, 5xx, no answer
        self.waited = 0.0  # seconds spent waiting to retry
        self._took = 0.0  # a moving average of how long an answer takes

    def close(self) -> None:
        self._http.close()

    @property
    def slow(self) -> bool:
        """Whether answers take long enough (10 ms and more) for requests in flight
        together to pay off; on a quick target, threads would only add work."""
        return self._took > SLOW

    def pace(self) -> None:
        """Wait for the next slot under the rate cap (for requests sent by other means)."""
        self._pace.wait()

    def auth_header(self, auth: str | None, key: str | None = None) -> dict[str, str]:
        """``auth`` is "basic", "bearer", "default" (the run's scheme) or None (no header)."""
        key = self.api_key if key is None else key
        auth = self.scheme if auth == "default" else auth
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
        raw: bytes | None = None,
        content_type: str = _FORM,
        auth: str | None = "default",
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Exchange:
        body = form if form is not None else (encode_form(params) if params else "")
        if raw is not None:  # bytes as given (a generated case may hold any): shown decoded
            body = raw.decode("utf-8", "replace")
        payload = raw if raw is not None else body.encode()
        sent = {**self.auth_header(auth, key)}
        if body:
            sent["Content-Type"] = content_type
        if self.api_version:
            sent["Stripe-Version"] = self.api_version
        if idempotency_key:
            sent["Idempotency-Key"] = idempotency_key
        sent.update(headers or {})
        used_key = (self.api_key if key is None else key) if auth else None
        tries_conn = tries_5xx = attempt = 0
        while True:
            timeout = self._before_sending()
            self._pace.wait()
            started = time.time()
            with self._lock:
                self.sent[f"{method} {_route(path)}"] += 1
            try:
                status, answer_headers, content, size, url = self._send(method, path, payload, sent, timeout)
            except self.replay_errors as exc:
                raise UnplayedRequest(
                    f"no recorded answer for {method} {path} {self.redactor.text(body)[:300]}"
                ) from exc
            except (httpx.TransportError, httpx.DecodingError, httpx.InvalidURL, _Slow) as exc:
                tries_conn += 1
                if tries_conn > self.limits.max_connect:
                    reason = self.redactor.text(f"{type(exc).__name__}: {exc}")[:300]
                    self.dead = f"{self.base_url} did not answer ({reason})"
                    raise TargetUnreachable(self.dead) from None
                self._wait("no answer", 0.2 * 2**tries_conn)
                continue
            attempt += 1
            if status == 429:
                self._wait("429", retry_delay(answer_headers.get("retry-after"), attempt))
                continue
            if transient(status, answer_headers) and tries_5xx < self.limits.retries_5xx:
                tries_5xx += 1
                self._wait("5xx", retry_delay(answer_headers.get("retry-after"), tries_5xx))
                continue
            recorded = answer_headers.get(RECORDED_AT)
            if recorded:  # a replayed answer: judge it by when it was recorded
                started = float(recorded)
            exchange = Exchange(
                method,
                url,
                path,
                body,
                sent,
                status,
                answer_headers,
                content,
                started,
                time.time() - started,
                size,
                used_key,
                self.limits.max_depth,
                raw,
            )
            self.redactor.learn_bytes(content)
            self._took = 0.8 * self._took + 0.2 * exchange.elapsed if self._took else exchange.elapsed
            return exchange

    def _before_sending(self) -> float:
        """Refuse to send once the run is stopped, out of time or the target is dead;
        else the timeout this request gets (never past the deadline)."""
        raise_if_stopped()
        if self.dead:
            raise TargetUnreachable(self.dead)
        timeout = self.limits.timeout
        if self.limits.deadline is not None:
            left = self.limits.deadline - time.time()
            if left <= 0:
                raise RunAborted("the run reached its --max-duration: the checks not yet run were not run")
            timeout = min(timeout, left)
        return timeout

    def _wait(self, cause: str, seconds: float) -> None:
        with self._lock:
            self.retried[cause] += 1
            self.waited += seconds
            over = self.waited > self.limits.throttle_budget
        if over:
            raise RunAborted(
                f"the target kept refusing for now ({cause}): the suite waited"
                f" {self.limits.throttle_budget:.0f} s in all and stops"
            )
        raise_if_stopped()
        time.sleep(seconds)

    def _send(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> tuple[int, httpx.Headers, bytes, int, str]:
        """One request; the answer read within ``timeout`` seconds in all, up to
        ``max_body`` bytes (the rest counted, not kept)."""
        deadline = time.monotonic() + timeout
        request = httpx.Request(
            method,
            self._url(path),
            content=body,
            headers={"User-Agent": _AGENT, **headers},
            extensions={"timeout": httpx.Timeout(timeout).as_dict()},
        )
        response = self._http.handle_request(request)
        response.request = request
        try:
            chunks, size = [], 0
            # no decoding to do (the suite asks for none): the raw chunks, without the decoders
            encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
            for chunk in response.iter_bytes() if encoded else response.iter_raw():
                chunks.append(chunk)
                size += len(chunk)
                if size > self.limits.max_body:  # not read further: its size, if it said, is kept
                    declared = response.headers.get("content-length", "")
                    size = max(size, int(declared)) if declared.isdigit() else size
                    return (
                        response.status_code,
                        response.headers,
                        b"".join(chunks)[: self.limits.max_body],
                        size,
                        str(response.url),
                    )
                if time.monotonic() > deadline:
                    raise _Slow(f"the answer took longer than {timeout:.0f} s (--timeout)")
            return response.status_code, response.headers, b"".join(chunks), size, str(response.url)
        finally:
            response.close()

    def _url(self, path: str) -> httpx.URL:
        """The target's URL for ``path``, parsed once (a path is asked for again and again)."""
        found = self._urls.get(path)
        if found is None:
            if len(self._urls) > 256:  # an account's own paths: each met a few times
                self._urls.clear()
            found = self._urls[path] = httpx.URL(self.base_url + path)
        return found

    # -- the API ---------------------------------------------------------------------
    def create_session(self, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Exchange:
        return self.request("POST", "/v1/account_sessions", params, **kwargs)

    def create_account(self, params: Mapping[str, Any], **kwargs: Any) -> Exchange:
        return self.request("POST", "/v1/accounts", params, **kwargs)

    def retrieve_account(self, account_id: str) -> Exchange:
        return self.request("GET", f"/v1/accounts/{account_id}")

    def delete_account(self, account_id: str) -> Exchange:
        return self.request("DELETE", f"/v1/accounts/{account_id}")


class _Slow(Exception):
    """An answer that did not arrive whole within the timeout."""


def _route(path: str) -> str:
    """``/v1/accounts/acct_123`` -> ``/v1/accounts/{id}``: requests counted by endpoint."""
    parts = path.split("?", 1)[0].split("/")
    if len(parts) > 3 and parts[1] == "v1" and parts[3]:
        parts[3] = "{id}"
    return "/".join(parts[:4])
