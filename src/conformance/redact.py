"""Keep API keys and client secrets out of everything written down.

A :class:`Redactor` knows the run's API key and every ``client_secret`` the
run has seen; :meth:`Redactor.text` and :meth:`Redactor.data` replace them
wherever they occur. Anything that looks like a Stripe key is masked too.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["KEY_PATTERN", "Redactor", "client_secrets", "key_in", "mask"]

KEY_PATTERN = re.compile(r"\b([sr]k_(?:test|live)_)[A-Za-z0-9]+")


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


def client_secrets(data: Any) -> Iterator[str]:
    """Every non-empty ``client_secret`` value inside parsed JSON."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "client_secret" and isinstance(value, str) and value:
                yield value
            else:
                yield from client_secrets(value)
    elif isinstance(data, list):
        for item in data:
            yield from client_secrets(item)


class Redactor:
    def __init__(self, *keys: str | None) -> None:
        self._keys = {k for k in keys if k}
        self._secrets: dict[str, str] = {}
        self._lock = threading.Lock()

    def add_key(self, key: str | None) -> None:
        if key:
            self._keys.add(key)

    def secret(self, value: str) -> str:
        """Register a client secret; return its stable placeholder."""
        with self._lock:
            if value not in self._secrets:
                self._secrets[value] = f"<client_secret:{len(self._secrets) + 1}>"
            return self._secrets[value]

    def learn_answer(self, content: bytes, data: Any) -> None:
        """Register the secrets of an answer; a session's one secret without a full walk."""
        count = content.count(b'"client_secret"')
        if count == 1 and isinstance(data, dict) and isinstance(data.get("client_secret"), str):
            if data["client_secret"]:
                self.secret(data["client_secret"])
        elif count:
            self.learn(data)

    def learn(self, data: Any) -> None:
        """Register every ``client_secret`` value inside parsed JSON."""
        for value in client_secrets(data):
            self.secret(value)

    def text(self, text: str) -> str:
        for key in sorted(self._keys, key=len, reverse=True):
            text = text.replace(key, mask(key))
        with self._lock:
            pairs = sorted(self._secrets.items(), key=lambda kv: len(kv[0]), reverse=True)
        for value, placeholder in pairs:
            text = text.replace(value, placeholder)
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
