"""One request and its answer, as the suite sent and got them: what a check judges,
what evidence shows, and what crosses to another process (xdist workers)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.evidence import NotJSON, Recipe, curl_line, excerpt, json_depth
from conformance.redact import Redactor

__all__ = ["Exchange"]

_UNSET: Any = object()


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
    size: int = -1  # bytes the answer had (more than len(content) when it was not kept whole)
    key: str | None = None  # the API key the request carried (for the curl line; never written)
    max_depth: int = 64
    sent_body: bytes | None = None  # the bytes sent, when they were not the form's UTF-8
    _json: Any = field(default=_UNSET, repr=False)

    @property
    def raw(self) -> bytes:
        """The request body as it went on the wire."""
        return self.sent_body if self.sent_body is not None else self.form.encode()

    @property
    def truncated(self) -> bool:
        return self.size > len(self.content)

    @property
    def json(self) -> Any:
        if self._json is _UNSET:
            self._json = self._parse()
        return self._json

    def _parse(self) -> Any:
        text = self.content[:4000].decode("utf-8", "replace")
        if self.truncated:
            size = f"{self.size:,} bytes or more"
            return NotJSON("", f"an answer of {size}, larger than the {len(self.content):,} the suite reads")
        try:
            parsed = json.loads(self.content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return NotJSON(text)
        except RecursionError:
            return NotJSON(text[:200], f"JSON nested deeper than {self.max_depth} levels")
        nesting = self.content.count(b"{") + self.content.count(b"[")
        if nesting > self.max_depth and json_depth(parsed, self.max_depth) > self.max_depth:
            return NotJSON(text[:200], f"JSON nested deeper than {self.max_depth} levels")
        return parsed

    def curl(self, redactor: Redactor, accounts: Mapping[str, Recipe] | None = None) -> str:
        """A shell line that replays the request (see :func:`conformance.evidence.curl_line`)."""
        return curl_line(self, redactor, accounts)

    def evidence(self, redactor: Redactor, accounts: Mapping[str, Recipe] | None = None) -> dict[str, Any]:
        """Request and response, keys and secrets redacted, bounded, for reports."""
        body = self.json
        return {
            "request": {
                "method": self.method,
                "path": self.path,
                "body": redactor.text(self.form[:4000]),
                "headers": {
                    k: redactor.text(v)[:200] for k, v in self.request_headers.items() if k != "Authorization"
                },
            },
            "response": {
                "status": self.status,
                "size": self.size,
                "headers": {
                    k: redactor.text(v)[:200]
                    for k, v in self.headers.items()
                    if k.lower() in ("content-type", "request-id", "idempotent-replayed", "stripe-version")
                },
                "body": excerpt(body, redactor),
            },
            "curl": self.curl(redactor, accounts),
        }

    # -- shipping an exchange to another process (xdist workers) -----------------------
    def to_dict(self, redactor: Redactor) -> dict[str, Any]:
        """As JSON-able data with secrets and keys redacted (the key itself is not kept)."""
        content = redactor.text(self.content.decode("utf-8", "replace")).encode()
        return {
            "method": self.method,
            "url": self.url,
            "path": self.path,
            "form": redactor.text(self.form),
            "request_headers": {
                k: v for k, v in self.request_headers.items() if k.lower() != "authorization"
            },
            "auth": self.request_headers.get("Authorization", "").partition(" ")[0],
            "status": self.status,
            "headers": [[k, redactor.text(v)] for k, v in self.headers.multi_items()],
            "content": base64.b64encode(content).decode(),
            "sent_at": self.sent_at,
            "elapsed": self.elapsed,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], key: str) -> Exchange:
        headers = dict(data["request_headers"])
        if data.get("auth") == "Basic":
            headers["Authorization"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        elif data.get("auth") == "Bearer":
            headers["Authorization"] = f"Bearer {key}"
        return cls(
            data["method"],
            data["url"],
            data["path"],
            data["form"],
            headers,
            int(data["status"]),
            httpx.Headers([(k, v) for k, v in data["headers"]]),
            base64.b64decode(data["content"]),
            float(data["sent_at"]),
            float(data["elapsed"]),
            int(data.get("size", -1)),
            key if data.get("auth") else None,
        )
