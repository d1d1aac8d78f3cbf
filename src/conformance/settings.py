"""What the user asked for, built once from the option values and checked before
anything is sent: a bad setting is one line and exit 2, never a run."""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.baseline import Baseline, load_baseline
from conformance.errors import SettingsError
from conformance.options import OPTIONS, RECORD_MODES

__all__ = ["DEFAULT_MOCK_KEY", "LIVE_PREFIXES", "Settings", "check_key"]

DEFAULT_MOCK_KEY = "sk_test_conformance"
LIVE_PREFIXES = ("sk_live_", "rk_live_")


@dataclass(frozen=True)
class Settings:
    base_url: str | None = None
    api_key: str | None = None
    api_version: str | None = None
    allow_livemode: bool = False
    contracts: str | None = None
    report_dir: str = "reports"
    rate: float | None = None
    timeout: float = 15.0
    max_duration: float = 1800.0
    concurrency: int = 8
    keep_accounts: bool = False
    baseline: str | None = None  # accepted deviations (conformance.baseline)
    baseline_update: str | None = None  # where this run's failures are written as entries
    profile: str = "ci"
    max_examples: int | None = None
    seed: int | None = None
    record_mode: str | None = None  # none | once | new_episodes | all: cassettes in use
    cassettes: str | None = None  # the cassette set's name (default: the target's)
    cassette_dir: str | None = None  # where sets live (default: ./cassettes)
    dry_run: bool = False  # run against the embedded mock, list what would be sent to the target
    adapter: str | None = None  # the SDK adapter, for the sdk checks

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Settings:
        """From option values by option name (``"base-url"``); missing ones take their defaults."""
        given: dict[str, Any] = {}
        for option in OPTIONS:
            value = values.get(option.name)
            if value is None and option.env:
                value = os.environ.get(option.env) or None
            if value is None:
                continue
            given[option.name.replace("-", "_")] = value
        return cls(**given)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def replaying(self) -> bool:
        return self.record_mode == "none"

    @property
    def key_given(self) -> bool:
        return bool(self.api_key)

    def resolved_key(self) -> str:
        return self.api_key or DEFAULT_MOCK_KEY

    def check(self) -> None:
        """Every local input, before any request: one :class:`SettingsError` line each."""
        check_key(self.resolved_key(), allow_livemode=self.allow_livemode)
        if self.base_url is not None:
            check_base_url(self.base_url)
        limits = (("rate", self.rate), ("timeout", self.timeout), ("max-duration", self.max_duration))
        for name, value in limits:
            if value is not None and (not math.isfinite(value) or value <= 0):
                raise SettingsError(f"--{name} must be a positive number, not {value}")
        if self.record_mode is not None:
            if self.record_mode not in RECORD_MODES:
                raise SettingsError(
                    f"unknown record mode {self.record_mode!r}: use one of {', '.join(RECORD_MODES)}"
                )
            if self.dry_run:
                raise SettingsError("--dry-run sends nothing: it cannot record or replay cassettes")
        self.accepted()
        if self.baseline_update is not None:
            writable_dir(Path(self.baseline_update).resolve().parent, "--baseline-update's file")

    def accepted(self) -> Baseline | None:
        """The baseline of accepted deviations, read and checked (None without --baseline)."""
        return None if self.baseline is None else load_baseline(self.baseline)

    def check_report_dir(self) -> Path:
        """The report directory, created and proven writable now rather than after the run."""
        return writable_dir(Path(self.report_dir), "the reports")


def check_key(key: str, *, allow_livemode: bool) -> None:
    """A key a request can carry: no whitespace or control character (a key read from
    a file keeps its newline), and no live-mode prefix anywhere unless allowed."""
    if not key:
        raise SettingsError("the API key is empty")
    if any(ch.isspace() or not ch.isprintable() for ch in key):
        raise SettingsError(
            "the API key holds whitespace or a control character (a trailing newline from a file?);"
            " strip it and try again"
        )
    if any(prefix in key for prefix in LIVE_PREFIXES) and not allow_livemode:
        raise SettingsError(
            "refusing a live-mode API key: the suite creates and deletes accounts;"
            " use a test key, or pass --allow-livemode if you mean it"
        )


def check_base_url(url: str) -> str:
    """An http(s) URL with a host, a valid port, and no API path: the suite adds ``/v1/...``."""
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"--base-url must start with http:// or https://, not {url!r}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SettingsError(f"--base-url {url!r} is not a valid URL: {exc}") from exc
    host = parts.hostname or ""
    if not host:
        raise SettingsError(f"--base-url {url!r} names no host")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise SettingsError(f"--base-url {url!r} is not a valid URL: {exc}") from exc
    if port == 0:
        raise SettingsError(f"--base-url {url!r} names port 0")
    if "v1" in parts.path.split("/"):
        raise SettingsError(
            f"--base-url {url!r} already holds the API path: give the server's root"
            f" ({parts.scheme}://{parts.netloc}), the suite adds /v1/..."
        )
    if parts.query or parts.fragment:
        raise SettingsError(f"--base-url {url!r} has a query or fragment: give the server's root")
    return url


def writable_dir(directory: Path, what: str) -> Path:
    """``directory``, created if needed; a :class:`SettingsError` unless a file can be written in it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
            pass
    except OSError as exc:
        detail = f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else str(exc)
        raise SettingsError(f"cannot write {what} to {directory}: {detail}") from exc
    return directory
