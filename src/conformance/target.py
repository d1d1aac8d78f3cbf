"""The server under test: its settings, its client, and the accounts made on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from conformance.client import Client, Exchange, NotJSON, is_loopback
from conformance.contracts.model import Contract
from conformance.errors import AccountSetupError
from conformance.oracle import flat_controller
from conformance.settings import Settings

__all__ = [
    "Account",
    "AccountSetupError",
    "Accounts",
    "Target",
    "open_target",
]

DEFAULT_LIVE_RATE = 20.0  # requests per second: under the test-mode limit of about 25


@dataclass
class Account:
    id: str
    archetype: str
    controller: dict[str, str]  # flat: what the oracle computes defaults from
    requested: dict[str, str]
    exchange: Exchange


@dataclass
class Target:
    name: str
    base_url: str
    mode: str  # embedded, url, replay or dry-run
    client: Client
    contract: Contract
    livemode: bool
    accounts: Accounts = field(init=False)
    leftovers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.accounts = Accounts(self)


class Accounts:
    """Creates one account per archetype on demand, and deletes them all at the end."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.made: dict[str, Account] = {}
        self.extra: list[str] = []  # other accounts tests made, deleted at the end too
        self.failed: dict[str, str] = {}

    @property
    def known(self) -> dict[str, dict[str, str] | None]:
        """Account id -> controller: what the oracle may assume exists."""
        return {a.id: a.controller for a in self.made.values()}

    def get(self, archetype: str) -> Account:
        if archetype in self.made:
            return self.made[archetype]
        if archetype in self.failed:
            raise AccountSetupError(self.failed[archetype])
        try:
            account = self._create(archetype)
        except AccountSetupError as exc:
            self.failed[archetype] = str(exc)
            raise
        self.made[archetype] = account
        return account

    def _create(self, archetype: str) -> Account:
        conv = self.target.contract.conventions
        spec = conv["archetypes"][archetype]
        extra: dict[str, Any] = {}
        if self.target.livemode:
            live = conv["live_account_params"]
            extra["country"] = live["country"]
            if archetype in live["capabilities_for"]:
                extra["capabilities"] = {c: {"requested": True} for c in live["capabilities"]}
        requested = flat_controller({"controller": spec["controller"]})
        client = self.target.client
        attempts = [
            ("controller", {"controller": spec["controller"], **extra}),
            ("type", {"type": spec["legacy_type"], **extra}),
        ]
        answers = []
        for via, params in attempts:
            exchange = client.create_account(params)
            body = exchange.json
            if exchange.status == 200 and isinstance(body, dict) and isinstance(body.get("id"), str):
                controller = {**requested, **flat_controller(body)}
                return Account(body["id"], archetype, controller, requested, exchange)
            answers.append(f"{via}: HTTP {exchange.status} {_brief(body)}")
        raise AccountSetupError(
            f"the target could not create a {spec['label']} account ({'; '.join(answers)})"
        )

    def close(self) -> list[str]:
        """Delete every account made; return the ids that could not be deleted."""
        left = []
        for account_id in [a.id for a in self.made.values()] + self.extra:
            try:
                exchange = self.target.client.delete_account(account_id)
            except Exception:  # the target may be gone: list what is left
                left.append(account_id)
                continue
            if exchange.status not in (200, 404):
                left.append(account_id)
        self.made.clear()
        self.extra.clear()
        return left


def _brief(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return f"{err.get('type')} param={err.get('param')}: {err.get('message')}"
    if isinstance(body, NotJSON):
        return repr(body)
    return ""


@contextmanager
def open_target(
    settings: Settings, contract: Contract, *, recorded_url: str | None = None
) -> Iterator[Target]:
    """The target of ``settings``: its URL, or the embedded mock on a free loopback port.
    Replaying cassettes, nothing is started and nothing is reached: vcrpy answers.
    A dry run talks to the embedded mock and lists what it would have sent."""
    settings.check()
    key = settings.resolved_key()
    live = key.startswith(tuple(contract.conventions["keys"]["live_prefixes"]))
    server = None
    if settings.replaying:
        base_url = settings.base_url or recorded_url or "http://replay.invalid"
        mode, rate = "replay", None
    elif settings.base_url and not settings.dry_run:
        base_url, mode = settings.base_url, "url"
        rate = settings.rate if settings.rate else (None if is_loopback(base_url) else DEFAULT_LIVE_RATE)
    else:
        from conformance.mock import EmbeddedServer, create_app

        server = EmbeddedServer(create_app(contract)).start()
        base_url, mode, rate = server.url, "dry-run" if settings.dry_run else "embedded", settings.rate
    client = Client(base_url, key, api_version=settings.api_version, rate=rate)
    if settings.dry_run:
        client.calls = []
    name = {
        "embedded": "embedded mock",
        "dry-run": f"dry run for {settings.base_url or 'the embedded mock'}",
        "replay": f"replay of {settings.cassettes or base_url}",
    }.get(mode, base_url)
    target = Target(name, base_url, mode, client, contract, live)
    try:
        yield target
    finally:
        target.leftovers = target.accounts.close()
        client.close()
        if server is not None:
            server.stop()
