"""Evidence a person can act on: a ``curl`` line that replays a request, and bounded,
redacted excerpts of answers; and what an answer that is not usable JSON is."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from conformance.client import Exchange
    from conformance.redact import Redactor

__all__ = ["MAX_EXCERPT", "NotJSON", "curl_line", "excerpt", "json_depth"]

MAX_EXCERPT = 16 * 1024  # characters of an answer kept as evidence
_FORM = "application/x-www-form-urlencoded"
_ID = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"id\"])'"


@dataclass(frozen=True)
class NotJSON:
    """A body that could not be taken as JSON: not JSON, too large, or nested too deeply."""

    text: str
    reason: str = "not JSON"

    def __repr__(self) -> str:
        return f"({self.reason}: {self.text[:60]!r})"


def json_depth(value: Any, limit: int) -> int:
    """How deep ``value`` nests, counting up to ``limit + 1`` (no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _base(exchange: Exchange) -> str:
    url = exchange.url
    at = url.find("/v1/")
    return url[:at] if at >= 0 else url.rsplit(exchange.path, 1)[0]


class Recipe(NamedTuple):
    """How an account the run made was made: for a snippet that makes another like it."""

    path: str
    form: str
    scheme: str  # how the run sent its key: basic or bearer


def key_auth(scheme: str) -> list[str]:
    """curl's arguments that send the run's key (from the environment) the way the run did."""
    if scheme == "bearer":
        return ["-H", '"Authorization: Bearer $STRIPE_API_KEY"']
    return ["-u", '"$STRIPE_API_KEY:"']


def _auth(exchange: Exchange, redactor: Redactor) -> list[str]:
    auth = exchange.request_headers.get("Authorization", "")
    key = exchange.key
    if not auth:
        return []
    # the run's key comes from the environment, never written; a key the check chose
    # (a malformed one) is shown as it was sent
    shown = "$STRIPE_API_KEY" if key is None or redactor.is_key(key) else key
    if auth.startswith("Bearer "):
        return [
            "-H",
            f'"Authorization: Bearer {shown}"'
            if shown.startswith("$")
            else shlex.quote(f"Authorization: Bearer {shown}"),
        ]
    return ["-u", f'"{shown}:"' if shown.startswith("$") else shlex.quote(f"{shown}:")]


def curl_line(exchange: Exchange, redactor: Redactor, accounts: Mapping[str, Recipe] | None = None) -> str:
    """A shell line that sends the request again; the key comes from ``$STRIPE_API_KEY``.

    ``accounts`` maps account ids the run made (and deletes at its end) to the request
    that made them: a form naming one gets a snippet that makes a new account of the
    same kind first, uses it, and deletes it."""
    auth = _auth(exchange, redactor)
    parts = ["curl", "-sS", "-X", exchange.method, shlex.quote(exchange.url), *auth]
    for name, value in exchange.request_headers.items():
        if name not in ("Authorization", "Content-Type"):
            parts += ["-H", shlex.quote(redactor.text(f"{name}: {value}"))]
    form = redactor.text(exchange.form)
    made = next((a for a in (accounts or {}) if a and a in form), None)
    if form:
        ctype = exchange.request_headers.get("Content-Type", _FORM)
        if ctype != _FORM:
            parts += ["-H", shlex.quote(f"Content-Type: {ctype}")]
        if made is None:
            parts += ["--data-raw", shlex.quote(form)]
        else:
            parts += ["--data-raw", '"$acct"'.join(shlex.quote(p) if p else "" for p in form.split(made))]
    line = " ".join(parts)
    if made is None or accounts is None:
        return line
    recipe = accounts[made]
    base = _base(exchange)
    own = key_auth(recipe.scheme)  # the account is made and deleted with the run's key, as the run sent it
    create = " ".join(
        [
            "curl",
            "-sS",
            "-X",
            "POST",
            shlex.quote(base + recipe.path),
            *own,
            "--data-raw",
            shlex.quote(recipe.form),
        ]
    )
    delete = " ".join(["curl", "-sS", "-o", "/dev/null", "-X", "DELETE", f'"{base}/v1/accounts/$acct"', *own])
    return f"acct=$({create} | {_ID}) && {line}; {delete}"


def excerpt(body: Any, redactor: Redactor) -> Any:
    """An answer as evidence: redacted, and at most :data:`MAX_EXCERPT` characters."""
    if isinstance(body, NotJSON):
        text = redactor.text(body.text[:2000])
        return text if body.reason == "not JSON" else f"({body.reason}) {text}".rstrip()
    data = redactor.data(body)
    text = json.dumps(data, ensure_ascii=False)
    if len(text) <= MAX_EXCERPT:
        return data
    return f"{text[:MAX_EXCERPT]}... ({len(text):,} characters in all)"
