"""The server under test: its client, its connected accounts, and the ledger of every
account the run made, so that each is deleted exactly once, whatever happens."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.client import Client, Exchange, Limits, NotJSON
from conformance.contracts.model import Contract
from conformance.errors import AccountSetupError
from conformance.evidence import Recipe

if TYPE_CHECKING:
    from conformance.profile import TargetProfile

__all__ = ["Account", "Accounts", "Ledger", "Target", "brief", "delete_accounts"]


@dataclass
class Account:
    id: str
    archetype: str
    controller: dict[str, str] | None  # flat, as the target reported it; None: it reported none
    requested: dict[str, str]  # flat: the controller asked for
    via: str  # how it was made: "controller" or "type"
    exchange: Exchange  # the request that made it and its answer
    recipe: str  # that request's form, for curl snippets

    def to_dict(self, redactor: Any) -> dict[str, Any]:
        return {
            "id": self.id,
            "archetype": self.archetype,
            "controller": self.controller,
            "requested": self.requested,
            "via": self.via,
            "exchange": self.exchange.to_dict(redactor),
            "recipe": self.recipe,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], key: str) -> Account:
        return cls(
            data["id"],
            data["archetype"],
            data["controller"],
            data["requested"],
            data["via"],
            Exchange.from_dict(data["exchange"], key),
            data["recipe"],
        )


class Ledger:
    """Every account the run made and whether it is gone; kept in a file when the run
    spans processes (pytest-xdist), so that the controlling process deletes them all."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._made: dict[str, str] = {}  # id -> what it is (archetype or purpose)
        self._gone: set[str] = set()

    def _append(self, entry: dict[str, str]) -> None:
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")

    def made(self, account_id: str, what: str) -> None:
        with self._lock:
            self._made[account_id] = what
            self._append({"made": account_id, "what": what})

    def gone(self, account_id: str) -> None:
        with self._lock:
            self._gone.add(account_id)
            self._append({"gone": account_id})

    def load(self) -> None:
        """Take in what other processes wrote."""
        if self.path is None or not self.path.is_file():
            return
        with self._lock:
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if "made" in entry:
                    self._made.setdefault(entry["made"], entry.get("what", ""))
                elif "gone" in entry:
                    self._gone.add(entry["gone"])

    @property
    def count(self) -> int:
        return len(self._made)

    def pending(self) -> dict[str, str]:
        with self._lock:
            return {a: w for a, w in self._made.items() if a not in self._gone}


class Accounts:
    """The run's connected accounts, one per archetype, made once by the target profile."""

    def __init__(self) -> None:
        self.made: dict[str, Account] = {}
        self.failed: dict[str, str] = {}  # archetype -> why it could not be made

    @property
    def known(self) -> dict[str, dict[str, str] | None]:
        """Account id -> controller: what the oracle may assume exists."""
        return {a.id: a.controller for a in self.made.values()}

    def get(self, archetype: str) -> Account:
        if archetype in self.made:
            return self.made[archetype]
        raise AccountSetupError(self.failed.get(archetype, f"no {archetype} account was made"))

    def recipes(self, scheme: str) -> dict[str, Recipe]:
        """Account id -> the request that made it: for curl snippets that make another."""
        return {a.id: Recipe("/v1/accounts", a.recipe, scheme) for a in self.made.values()}


@dataclass
class Target:
    name: str
    base_url: str
    mode: str  # embedded, url, replay or dry-run
    client: Client
    contract: Contract
    livemode: bool
    ledger: Ledger = field(default_factory=Ledger)
    accounts: Accounts = field(default_factory=Accounts)
    profile: TargetProfile | None = None
    keep_accounts: bool = False

    def recipes(self) -> dict[str, Recipe]:
        """For curl snippets: kept accounts are named as they are, others made anew."""
        return {} if self.keep_accounts else self.accounts.recipes(self.client.scheme)


def brief(body: Any, limit: int = 200) -> str:
    """The server's own words in an answer: its error message, else the start of the text."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        parts = [
            f"{err.get('type')}" if err.get("type") else "",
            f"param={err.get('param')}" if err.get("param") else "",
        ]
        head = " ".join(p for p in parts if p)
        return f"{head}: {err.get('message')}"[:limit] if head else str(err.get("message"))[:limit]
    if isinstance(body, NotJSON):
        return " ".join(body.text.split())[:limit] or body.reason
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"][:limit]
    return json.dumps(body)[:limit] if body is not None else ""


def delete_accounts(
    accounts: dict[str, str],
    base_url: str,
    key: str,
    *,
    api_version: str | None = None,
    scheme: str = "basic",
    budget: float = 60.0,
) -> tuple[list[str], list[str]]:
    """Delete ``accounts`` (id -> what) through a fresh connection of their own, within
    ``budget`` seconds in all: whatever the run's client went through (a dead endpoint,
    an interrupt) does not stop the clean-up. Returns (deleted, left)."""
    deleted: list[str] = []
    left: list[str] = []
    started = time.time()
    limits = Limits(timeout=10.0, deadline=started + budget, max_connect=1, throttle_budget=budget / 2)
    client = Client(base_url, key, api_version=api_version, limits=limits)
    client.scheme = scheme
    try:
        for account_id in accounts:
            try:
                exchange = _delete(client, account_id)
            except BaseException:
                left.append(account_id)
                continue
            (deleted if exchange.status == 200 else left).append(account_id)
    finally:
        client.close()
    return deleted, left


def _delete(client: Client, account_id: str) -> Exchange:
    from conformance import stop

    reason = stop.stopped()
    stop.clear()  # an interrupted run still cleans up
    try:
        return client.delete_account(account_id)
    finally:
        if reason:
            stop.stop(reason)
