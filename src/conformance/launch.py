"""How ``conformance run`` starts the suites: the settings checked, pytest's
arguments built from the option table, the category names of ``-m`` mapped to the
plugin's markers, and the checks spread over workers when the target is slow."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import sys
from pathlib import Path
from typing import Any

from conformance.errors import SettingsError

__all__ = ["UsageError", "run_suites"]

USAGE_ERROR = 2


class UsageError(SettingsError):
    """Bad input from the user: reported in one line, exit 2."""


def _values(args: argparse.Namespace) -> dict[str, Any]:
    """The table's options as the command line parsed them, by option name."""
    from conformance.options import OPTIONS

    return {o.name: getattr(args, o.dest) for o in OPTIONS if hasattr(args, o.dest)}


SLOW = 0.02  # seconds a round trip takes past which the checks spread over workers


MAX_WORKERS = 4


def _workers(settings: Any, rest: list[str]) -> int:
    """How many pytest-xdist workers: one, unless the target is slow to answer (a real
    API, a proxy far away), then up to ``--concurrency`` (at most 4), so that requests
    are in flight together while the rate cap holds for the run. Never when pytest's
    own -n is given, nor with cassettes (one order) or a dry run."""
    if settings.base_url is None or settings.record_mode or settings.dry_run or settings.concurrency <= 1:
        return 1
    if any(a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist" for a in rest):
        return 1  # the user chose
    rtt = _round_trip(settings.base_url, min(3.0, settings.timeout))
    return min(settings.concurrency, MAX_WORKERS) if rtt is not None and rtt > SLOW else 1


def _round_trip(base_url: str, timeout: float) -> float | None:
    """The quicker of two round trips to the target, to its first line of an answer (a
    POST without a key: a 401; the body is not waited for); None when it did not answer
    within ``timeout`` seconds (at most --timeout: a hanging target costs no more here
    than a request of the run would)."""
    import http.client
    import time
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    best = None
    for _ in range(2):
        conn = kind(parts.hostname or "", parts.port, timeout=timeout)
        try:
            conn.connect()
            started = time.monotonic()
            conn.request("POST", parts.path.rstrip("/") + "/v1/account_sessions")
            conn.getresponse()
            took = time.monotonic() - started
            best = took if best is None else min(best, took)
        except (OSError, http.client.HTTPException):
            return best
        finally:
            conn.close()
    return best


def _markers(expression: str) -> str:
    """``-m "shape or validation"`` in the plugin's marker names; any other name is refused."""
    from conformance.pytest.collection import marker
    from conformance.results import CATEGORIES

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        if word in ("and", "or", "not"):
            return word
        if word not in CATEGORIES:
            raise UsageError(f"unknown category {word!r} in -m: use {', '.join(CATEGORIES)}")
        return marker(word)

    return re.sub(r"[A-Za-z_][A-Za-z0-9_]*", swap, expression)


def run_suites(args: argparse.Namespace, rest: list[str], *, markexpr: str | None = None) -> int:
    import pytest

    import conformance
    from conformance.options import cli_flags
    from conformance.settings import Settings

    values = _values(args)
    if "seed" in values and values["seed"] is None:
        values["seed"] = random.randrange(2**31)  # every run has a seed, printed and kept
    settings = Settings.from_values(values)
    settings.check()
    settings.check_report_dir()
    contract = load(settings.contracts)
    values["contracts"] = str(contract.directory)
    if values.get("api-key"):  # by environment, not argv: xdist workers inherit it, `ps` does not show it
        os.environ["STRIPE_API_KEY"] = values["api-key"]
    package = Path(conformance.__file__).resolve().parent
    pytest_args = [
        "-c",
        str(package / "suites" / "pytest.ini"),
        "--rootdir",
        str(package),
        "--pyargs",
        "conformance.suites",
        *cli_flags(values),
    ]
    expression = markexpr or getattr(args, "markexpr", None)
    if expression:
        pytest_args += ["-m", _markers(expression)]
    workers = _workers(settings, rest)
    if workers > 1:
        pytest_args += ["-n", str(workers), "--dist", "worksteal"]
    if not any(a.startswith(("-v", "--verbose", "--tb", "-r")) for a in rest):
        # the conformance section groups failures by broken rule; -v shows every check's block
        pytest_args += ["--tb=no", "-rN"]
    held = io.StringIO()  # pytest's usage errors come as several lines: keep one
    from conformance import stop

    quiet = stop.quiet_interrupts()  # for the whole command: a late Ctrl-C may land in a gc callback
    try:
        with contextlib.redirect_stderr(held):
            code = int(pytest.main([*pytest_args, *rest]))
    finally:
        quiet()
    errors = held.getvalue()
    if code == 4:
        lines = [ln for ln in errors.splitlines() if "error:" in ln.lower()] or ["error: bad arguments"]
        raise UsageError(re.split("error:", lines[-1], maxsplit=1, flags=re.I)[-1].strip())
    sys.stderr.write(errors)
    if code in (0, 1):
        return code
    if code == 5:
        raise UsageError("no checks selected (see -m and -k)")
    return USAGE_ERROR


def load(option: str | None) -> Any:
    """The contract of ``--contracts`` (else the installed one); a usage error if unreadable."""
    from conformance.contracts.model import load_contract
    from conformance.paths import contracts_dir

    directory = Path(option).resolve() if option else contracts_dir()
    try:
        return load_contract(directory)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot load contracts from {directory}: {exc}") from exc
