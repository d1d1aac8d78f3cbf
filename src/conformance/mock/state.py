"""The mock's memory: connected accounts and stored idempotent responses, both bounded
in entries and in bytes: the oldest go first."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["AccountStore", "IdempotencyStore", "StoredResponse"]


class AccountStore(Mapping[str, Mapping[str, str] | None]):
    """Accounts by id; as a mapping it is what the oracle needs: id -> flat controller."""

    def __init__(self, limit: int = 100_000, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._accounts: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._controllers: dict[str, dict[str, str]] = {}
        self._sizes: dict[str, int] = {}
        self._limit = limit
        self._max_bytes = max_bytes
        self.bytes = 0

    def add(self, account: dict[str, Any], controller: dict[str, str]) -> None:
        size = len(json.dumps(account)) + 64 * len(controller)
        while self._accounts and (len(self._accounts) >= self._limit or self.bytes + size > self._max_bytes):
            old, _ = self._accounts.popitem(last=False)
            self._controllers.pop(old, None)
            self.bytes -= self._sizes.pop(old, 0)
        self._accounts[account["id"]] = account
        self._controllers[account["id"]] = controller
        self._sizes[account["id"]] = size
        self.bytes += size

    def get_account(self, account_id: str) -> dict[str, Any] | None:
        return self._accounts.get(account_id)

    def remove(self, account_id: str) -> bool:
        self._controllers.pop(account_id, None)
        self.bytes -= self._sizes.pop(account_id, 0)
        return self._accounts.pop(account_id, None) is not None

    def __getitem__(self, account_id: str) -> Mapping[str, str] | None:
        return self._controllers[account_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._controllers)

    def __len__(self) -> int:
        return len(self._controllers)

    def __contains__(self, account_id: object) -> bool:
        return account_id in self._controllers


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str  # method, path and canonical parameters of the first request
    status: int
    body: bytes
    headers: dict[str, str]


class IdempotencyStore:
    """Successful responses by (API key, Idempotency-Key); least recently used goes first."""

    def __init__(self, limit: int = 10_000, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._items: OrderedDict[tuple[str, str], StoredResponse] = OrderedDict()
        self._limit = limit
        self._max_bytes = max_bytes
        self.bytes = 0

    @staticmethod
    def _size(slot: tuple[str, str], response: StoredResponse) -> int:
        return len(slot[1]) + len(response.fingerprint) + len(response.body) + 128

    @staticmethod
    def scope(api_key: str) -> str:
        return hashlib.sha256(api_key.encode()).hexdigest()[:16]

    def get(self, api_key: str, key: str) -> StoredResponse | None:
        slot = (self.scope(api_key), key)
        stored = self._items.get(slot)
        if stored is not None:
            self._items.move_to_end(slot)
        return stored

    def put(self, api_key: str, key: str, response: StoredResponse) -> None:
        slot = (self.scope(api_key), key)
        if slot in self._items:
            self.bytes -= self._size(slot, self._items.pop(slot))
        self._items[slot] = response
        self.bytes += self._size(slot, response)
        while len(self._items) > self._limit or (self.bytes > self._max_bytes and len(self._items) > 1):
            old, gone = self._items.popitem(last=False)
            self.bytes -= self._size(old, gone)
