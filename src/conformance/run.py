"""One run against a target, from its first probe to its last delete.

:meth:`Run.open` starts the embedded mock when there is no URL, makes the client,
learns the target profile (which makes the run's accounts) and handles SIGINT
and SIGTERM; :meth:`Run.close` deletes every account the run made, exactly
once, through a fresh connection, whatever happened in between. A run that
spans processes (pytest-xdist) writes a context file the workers read, and a
ledger they add the accounts they make to.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.client import Client, Exchange, Limits, is_loopback
from conformance.contracts.model import Contract
from conformance.profile import TargetProfile, learn_profile
from conformance.redact import mask
from conformance.settings import LIVE_PREFIXES, Settings
from conformance.target import Account, Ledger, Target, delete_accounts

__all__ = ["DEFAULT_LIVE_RATE", "Cleanup", "Run", "worker_target"]

DEFAULT_LIVE_RATE = 20.0  # requests per second: under the test-mode limit of about 25
Around = Callable[[], AbstractContextManager[Any] | None]  # None: nothing to replay there


@dataclass
class Cleanup:
    made: int = 0
    deleted: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # could not be deleted (or kept)
    kept: bool = False
    scheme: str = "basic"  # how the run sent its key (for the curl lines of what is left)

    def as_dict(self) -> dict[str, Any]:
        return {"made": self.made, "deleted": len(self.deleted), "left": self.left, "kept": self.kept}


def _name(settings: Settings, mode: str, base_url: str) -> str:
    return {
        "embedded": "embedded mock",
        "dry-run": f"dry run for {settings.base_url or 'the embedded mock'}",
        "replay": f"replay of {settings.cassettes or base_url}",
    }.get(mode, base_url)


class Run:
    def __init__(
        self,
        settings: Settings,
        contract: Contract,
        *,
        recorded_url: str | None = None,
        run_dir: Path | None = None,
        replay_errors: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.settings = settings
        self.contract = contract
        self.recorded_url = recorded_url
        self.run_dir = run_dir
        self.replay_errors = replay_errors  # what a cassette raises for a request it cannot answer
        self.started = time.time()
        self.server: Any = None
        self.calls: list[tuple[str, str, str]] | None = [] if settings.dry_run else None
        self.target: Target | None = None
        self.cleanup: Cleanup | None = None
        self.sent: Counter[str] = Counter()  # requests the run itself sent (profile, clean-up)
        self.retried: Counter[str] = Counter()  # ... and retried
        self._restore: Callable[[], None] = lambda: None

    @property
    def deadline(self) -> float:
        return self.started + self.settings.max_duration

    def open(self, around_setup: Around | None = None) -> Target:
        """Everything before the first check; raises SettingsError for a refused key."""
        from conformance import stop

        settings = self.settings
        settings.check()
        key = settings.resolved_key()
        stop.clear()
        self._restore = stop.install()
        if settings.replaying:
            base_url, mode, rate = (
                settings.base_url or self.recorded_url or "http://replay.invalid",
                "replay",
                None,
            )
        elif settings.base_url and not settings.dry_run:
            base_url, mode = settings.base_url, "url"
            rate = settings.rate or (None if is_loopback(base_url) else DEFAULT_LIVE_RATE)
        else:
            from conformance.mock import EmbeddedServer, create_app

            app = create_app(self.contract, calls=self.calls)
            self.server = EmbeddedServer(app).start()
            base_url, mode, rate = (
                self.server.url,
                "dry-run" if settings.dry_run else "embedded",
                settings.rate,
            )
        limits = _limits(settings, self.deadline)
        client = Client(base_url, key, api_version=settings.api_version, rate=rate, limits=limits)
        client.replay_errors = self.replay_errors
        ledger = Ledger(self.run_dir / "ledger.jsonl" if self.run_dir else None)
        livemode = key.startswith(LIVE_PREFIXES)
        target = Target(
            _name(settings, mode, base_url),
            base_url,
            mode,
            client,
            self.contract,
            livemode,
            ledger,
            keep_accounts=settings.keep_accounts,
        )
        self.target = target
        around = around_setup() if around_setup else contextlib.nullcontext()
        if around is None:  # replaying what has no profile (the docs' own exchange)
            target.profile = TargetProfile(mask(key), not settings.key_given, sessions="implemented")
        else:
            with around:
                target.profile = learn_profile(target, default_key=not settings.key_given)
        self.sent.update(client.sent)  # the profile's requests; the checks count their own
        self.retried.update(client.retried)
        if self.run_dir is not None:
            (self.run_dir / "context.json").write_text(json.dumps(self.context(rate)), encoding="utf-8")
        return target

    def context(self, rate: float | None) -> dict[str, Any]:
        """What a worker process needs to judge checks against the same target and accounts
        (no key, no client secret: it is written to a private temporary file)."""
        target = self.target
        assert target is not None and target.profile is not None
        redactor = target.client.redactor
        profile = target.profile
        return {
            "name": target.name,
            "base_url": target.base_url,
            "mode": target.mode,
            "livemode": target.livemode,
            "rate": rate,
            "deadline": self.deadline,
            "accounts": {a: acc.to_dict(redactor) for a, acc in target.accounts.made.items()},
            "failed": target.accounts.failed,
            "profile": {
                **{k: v for k, v in vars(profile).items() if k != "lifecycle"},
                "lifecycle": {k: ex.to_dict(redactor) for k, ex in profile.lifecycle.items()},
            },
        }

    def close(self, around_teardown: Around | None = None) -> Cleanup:
        """Delete every account the run made and is not gone yet (once each); stop the mock."""
        cleanup = Cleanup()
        target = self.target
        try:
            if target is not None:
                target.ledger.load()
                pending = target.ledger.pending()
                cleanup.made = target.ledger.count
                if self.settings.keep_accounts:
                    cleanup.left, cleanup.kept = list(pending), True
                elif pending:
                    with (around_teardown() if around_teardown else None) or contextlib.nullcontext():
                        cleanup.deleted, cleanup.left = delete_accounts(
                            pending,
                            target.base_url,
                            target.client.api_key,
                            api_version=self.settings.api_version,
                            scheme=target.client.scheme,
                        )
                    cleanup.scheme = target.client.scheme
                    for account_id in cleanup.deleted:
                        target.ledger.gone(account_id)
                    self.sent["DELETE /v1/accounts/{id}"] += len(pending)
                target.client.close()
        finally:
            if self.server is not None:
                self.server.stop()
            self._restore()
        self.cleanup = cleanup
        return cleanup


def _limits(settings: Settings, deadline: float) -> Limits:
    """A request's timeout, the run's deadline, and waiting on a throttling target
    bounded by a quarter of the run (at most two minutes)."""
    return Limits(
        timeout=settings.timeout, deadline=deadline, throttle_budget=min(120.0, settings.max_duration / 4)
    )


def worker_target(context: dict[str, Any], settings: Settings, contract: Contract, workers: int) -> Target:
    """The target of a run another process opened: same URL, same accounts, same profile."""
    key = settings.resolved_key()
    rate = context["rate"] / workers if context.get("rate") else None  # the cap is for the run
    limits = _limits(settings, context["deadline"])
    client = Client(context["base_url"], key, api_version=settings.api_version, rate=rate, limits=limits)
    target = Target(
        context["name"],
        context["base_url"],
        context["mode"],
        client,
        contract,
        context["livemode"],
        keep_accounts=settings.keep_accounts,
    )
    for archetype, data in context["accounts"].items():
        target.accounts.made[archetype] = Account.from_dict(data, key)
    target.accounts.failed.update(context["failed"])
    profile_data = dict(context["profile"])
    lifecycle = {k: Exchange.from_dict(v, key) for k, v in profile_data.pop("lifecycle").items()}
    target.profile = TargetProfile(**profile_data, lifecycle=lifecycle)
    return target
