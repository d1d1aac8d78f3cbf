"""Every setting a user can give, declared once.

The command line (``conformance run --base-url URL``) and the pytest plugin
(``pytest --conformance-base-url URL``) are both built from :data:`OPTIONS`:
one entry, one name, one parser, one help text. :class:`conformance.settings.Settings`
is built from the parsed values by one function, whichever side parsed them.

Standard library only: the command line reads this before anything heavy loads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["OPTIONS", "PROFILES", "RECORD_MODES", "Option", "by_name", "cli_flags"]

PROFILES = ("dev", "ci", "nightly")
RECORD_MODES = ("none", "once", "new_episodes", "all")
RUN, SDK = "run", "sdk"


def positive_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a positive number, not {text!r}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"must be at least 1, not {value}")
    return value


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
        return text

    parse.__name__ = "choice"
    return parse


@dataclass(frozen=True)
class Option:
    """One setting. ``name`` is the command line's ``--name`` and the plugin's
    ``--conformance-name``; ``dest`` is where pytest keeps its value."""

    name: str
    help: str
    metavar: str | None = None
    parse: Callable[[str], Any] | None = None  # None with flag=False: the text as given
    flag: bool = False  # given or not (store_true)
    default: Any = None
    commands: tuple[str, ...] = (RUN, SDK)  # the CLI commands that take it
    env: str | None = None  # read from this environment variable when not given
    secret: bool = False  # the CLI hands it on through the environment, never argv

    @property
    def dest(self) -> str:
        return "conformance_" + self.name.replace("-", "_")

    @property
    def cli_flag(self) -> str:
        return f"--{self.name}"

    @property
    def plugin_flag(self) -> str:
        return f"--conformance-{self.name}"


OPTIONS: tuple[Option, ...] = (
    Option("base-url", "the server to test (default: the embedded mock)", "URL"),
    Option(
        "api-key",
        "API key (default: $STRIPE_API_KEY, else a test key the embedded mock accepts)",
        "KEY",
        env="STRIPE_API_KEY",
        secret=True,
    ),
    Option("api-version", "send this Stripe-Version header on every request", "VERSION"),
    Option("allow-livemode", "accept a live-mode key: the suite creates and deletes accounts", flag=True),
    Option("contracts", "the contracts directory (default: the installed contract)", "DIR"),
    Option("report-dir", "where reports go (default: ./reports)", "DIR", default="reports"),
    Option(
        "rate",
        "at most N requests per second (default: 20 off loopback, no cap on loopback)",
        "N",
        positive_float,
    ),
    Option(
        "timeout",
        "seconds a request may take, body included (default: 15)",
        "S",
        positive_float,
        default=15.0,
    ),
    Option(
        "max-duration",
        "seconds the whole run may take; past it the run stops and says so (default: 1800)",
        "S",
        positive_float,
        default=1800.0,
    ),
    Option(
        "concurrency",
        "requests in flight at once: generated cases are sent in batches, and a slow target's"
        " checks spread over as many workers (default: 8; recording cassettes: 1)",
        "N",
        positive_int,
        default=8,
    ),
    Option(
        "baseline",
        "accepted deviations (YAML: rule, reason, expires...): failures they match do not fail the verdict",
        "FILE",
    ),
    Option(
        "baseline-update",
        "write this run's failures to FILE as baseline entries (reason TODO, 30 days) for a team to edit",
        "FILE",
    ),
    Option(
        "keep-accounts",
        "do not delete the connected accounts at the end (their ids are listed, for curl replays)",
        flag=True,
    ),
    Option(
        "profile",
        "fuzzing budget: dev (quick), ci (the default), nightly (deep)",
        "NAME",
        choice(*PROFILES),
        default="ci",
        commands=(RUN,),
    ),
    Option("max-examples", "generated cases per fuzz check", "N", positive_int, commands=(RUN,)),
    Option("seed", "fuzzing seed, to reproduce a run (default: random, printed)", "N", int, commands=(RUN,)),
    Option(
        "record-mode",
        "record or replay cassettes: none (replay only, no network), once, new_episodes, all",
        "MODE",
        choice(*RECORD_MODES),
        commands=(RUN,),
    ),
    Option(
        "cassettes",
        "cassette set (default: named after the target; 'documented': the docs' examples)",
        "NAME",
        commands=(RUN,),
    ),
    Option("cassette-dir", "where cassette sets live (default: ./cassettes)", "DIR", commands=(RUN,)),
    Option(
        "dry-run",
        "send nothing to the target: run against the embedded mock and list the calls",
        flag=True,
        commands=(RUN,),
    ),
    Option(
        "adapter",
        "the SDK adapter for the sdk checks: python, node, or a command line (else: not run)",
        "ADAPTER",
        commands=(SDK,),
    ),
)

_BY_NAME = {option.name: option for option in OPTIONS}


def by_name(name: str) -> Option:
    return _BY_NAME[name]


def cli_flags(values: Mapping[str, Any]) -> list[str]:
    """The plugin's arguments for option values the command line parsed (by name);
    secrets are left out: they travel through the environment."""
    args: list[str] = []
    for name, value in values.items():
        option = _BY_NAME[name]
        if option.secret or value is None or value is False:
            continue
        if option.flag:
            args.append(option.plugin_flag)
        elif value != option.default:
            args.append(f"{option.plugin_flag}={value}")
    return args
