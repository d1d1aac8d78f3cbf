"""What the user asked for: target, key, version, rate. Checked before anything is sent."""

from __future__ import annotations

import os
from dataclasses import dataclass

from conformance.contracts.model import Contract
from conformance.errors import SettingsError

__all__ = ["DEFAULT_MOCK_KEY", "Settings"]

DEFAULT_MOCK_KEY = "sk_test_conformance"


@dataclass(frozen=True)
class Settings:
    base_url: str | None = None
    api_key: str | None = None
    api_version: str | None = None
    rate: float | None = None
    allow_livemode: bool = False
    record_mode: str | None = None  # none | once | new_episodes | all: cassettes in use
    cassettes: str | None = None  # the cassette set's name (default: the target's)
    cassette_dir: str | None = None  # where sets live (default: the project's cassettes/)
    dry_run: bool = False  # run against the embedded mock, list what would be sent to the target

    @property
    def replaying(self) -> bool:
        return self.record_mode == "none"

    def resolved_key(self) -> str:
        return self.api_key or os.environ.get("STRIPE_API_KEY") or DEFAULT_MOCK_KEY

    def check(self, contract: Contract) -> None:
        key = self.resolved_key()
        live = tuple(contract.conventions["keys"]["live_prefixes"])
        if key.startswith(live) and not self.allow_livemode:
            raise SettingsError(
                "refusing a live-mode API key: the suite creates and deletes accounts;"
                " use a test key, or pass --allow-livemode if you mean it"
            )
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise SettingsError(f"--base-url must start with http:// or https://, not {self.base_url!r}")
        if self.rate is not None and self.rate <= 0:
            raise SettingsError("--rate must be a positive number of requests per second")
        if self.record_mode is not None:
            from conformance.cassettes import check_mode

            check_mode(self.record_mode)
            if self.dry_run:
                raise SettingsError("--dry-run sends nothing: it cannot record or replay cassettes")
