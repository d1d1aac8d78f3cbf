"""Keep API keys and client secrets out of everything written down.

A :class:`Redactor` knows the run's API key and every ``client_secret`` the
run has seen, and :meth:`Redactor.text` / :meth:`Redactor.data` replace them
wherever they occur. It knows a key in every spelling a request carries it
(as is, in HTTP Basic's base64 of ``key:``, as a Bearer token), and it learns
secrets from the raw bytes of every answer, whether or not they parse as
JSON, duplicate keys and escapes included. Anything that looks like a Stripe
key is masked too.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["KEY_PATTERN", "Redactor", "client_secrets", "key_in", "key_spellings", "mask"]

KEY_PATTERN = re.compile(r"\b([sr]k_(?:test|live)_)[A-Za-z0-9]+")
# "client_secret": "<anything up to the closing quote>", in raw bytes, however often it occurs
_SECRET_BYTES = re.compile(rb'"client_secret"\s*:\s*"((?:[^"\\]|\\.)*)"')
_PLACEHOLDER = re.compile(r"<client_secret(?::\d+)?>")


def mask(key: str) -> str:
    """``sk_test_...wxyz`` -> ``sk_test_****wxyz``; anything else -> ``****``."""
    match = KEY_PATTERN.fullmatch(key)
    if match and len(key) > len(match.group(1)) + 8:
        return f"{match.group(1)}****{key[-4:]}"
    if match:
        return f"{match.group(1)}****"
    return "****"


def key_in(authorization: str) -> str | None:
    """The API key an ``Authorization`` header carries: the Basic user name or the
    Bearer token; None when there is none or it cannot be read."""
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer":
        return credential or None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credential, validate=True).decode("utf-8").partition(":")[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def key_spellings(key: str) -> set[str]:
    """Every way a request may carry ``key``: as is, and base64 of ``key:`` or ``key``
    (standard and URL-safe, padded or not)."""
    found = {key}
    for raw in (f"{key}:", key):
        for encoded in (base64.b64encode(raw.encode()), base64.urlsafe_b64encode(raw.encode())):
            text = encoded.decode()
            found |= {text, text.rstrip("=")}
    return {s for s in found if len(s) >= 6}


def client_secrets(data: Any) -> Iterator[str]:
    """Every non-empty ``client_secret`` value inside parsed JSON (without recursion)."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "client_secret" and isinstance(value, str) and value:
                    yield value
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)


def _unescape(raw: bytes) -> set[str]:
    """A JSON string's raw bytes as they may appear in text: escaped and unescaped."""
    text = raw.decode("utf-8", "replace")
    found = {text}
    with contextlib.suppress(ValueError):
        found.add(json.loads(f'"{text}"'))
    return {s for s in found if s and not _PLACEHOLDER.fullmatch(s)}


class Redactor:
    def __init__(self, *keys: str | None) -> None:
        self._keys: dict[str, str] = {}  # a spelling of a key -> what replaces it
        self._secrets: dict[str, str] = {}
        self._lock = threading.Lock()
        for key in keys:
            self.add_key(key)

    def add_key(self, key: str | None) -> None:
        if not key:
            return
        with self._lock:
            for spelling in key_spellings(key):
                self._keys.setdefault(spelling, mask(key) if spelling == key else f"<{mask(key)}>")

    def is_key(self, value: str) -> bool:
        return value in self._keys

    def secret(self, value: str) -> str:
        """Register a client secret; return its stable placeholder."""
        with self._lock:
            if value not in self._secrets:
                self._secrets[value] = f"<client_secret:{len(self._secrets) + 1}>"
            return self._secrets[value]

    def learn_bytes(self, content: bytes) -> None:
        """Register every ``client_secret`` in an answer's raw bytes, parsed or not."""
        if b'"client_secret"' not in content:
            return
        for match in _SECRET_BYTES.finditer(content):
            for value in _unescape(match.group(1)):
                self.secret(value)

    def secrets(self) -> list[str]:
        """The client secrets learned so far (for a cassette's own placeholders)."""
        with self._lock:
            return list(self._secrets)

    def learn(self, data: Any) -> None:
        """Register every ``client_secret`` value inside parsed JSON."""
        for value in client_secrets(data):
            self.secret(value)

    def text(self, text: str) -> str:
        """``text`` with every known value replaced, the longest first where they overlap.
        Only the values that occur in it go into the pattern: a run learns a secret with
        every session, and compiling one alternation of thousands of them each time a
        new one came was most of the time a shrinking fuzz check took."""
        with self._lock:
            table = {v: r for v, r in self._secrets.items() if v in text}
            table.update((v, r) for v, r in self._keys.items() if v in text)
        if table:
            pattern = re.compile("|".join(map(re.escape, sorted(table, key=len, reverse=True))))
            text = pattern.sub(lambda m: table[m.group(0)], text)
        return KEY_PATTERN.sub(lambda m: mask(m.group(0)), text)

    def data(self, data: Any) -> Any:
        """A copy of parsed JSON with keys and secrets replaced."""
        if isinstance(data, dict):
            return {
                k: (self.secret(v) if k == "client_secret" and isinstance(v, str) and v else self.data(v))
                for k, v in data.items()
            }
        if isinstance(data, list):
            return [self.data(v) for v in data]
        if isinstance(data, str):
            return self.text(data)
        return data
