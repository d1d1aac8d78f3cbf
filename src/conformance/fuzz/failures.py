"""The failing generated cases of a run, kept to be sent again: ``failures.json``.

A failed fuzz, schemathesis or state machine check keeps its minimal failing
case in its record (:data:`conformance.outcomes.FAILING_CASE`): the request as
it went on the wire (redacted: no key, no client secret), the accounts of the
run it names and the request that made each (to make one like it again), how
it was judged, the rules it broke and a digest of the oracle's expected answer.
At the end of the run the report directory gets them all in one file, written
whole or not at all; a run without such a failure removes the file, so that
``conformance replay-failures`` never re-sends the cases of an older run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.errors import SettingsError
from conformance.forms import FormError, decode_form
from conformance.oracle import Expected, ExpectedError

if TYPE_CHECKING:
    from conformance.client import Exchange
    from conformance.fuzz.runner import FuzzFailure, FuzzRunner
    from conformance.target import Target

__all__ = [
    "FILE",
    "JUDGES",
    "Saved",
    "expectation",
    "fingerprint",
    "read_failures",
    "saved_case",
    "target_facts",
    "write_failures",
]

FILE = "failures.json"
SCHEMA, VERSION = "conformance-failures", 1
JUDGES = ("oracle", "schemathesis", "sequence")  # "schemathesis:<mode>"; sequence: judged with its steps
_FORM = "application/x-www-form-urlencoded"
_ENCODING = ("utf-8", "surrogateescape")  # any bytes survive the trip through JSON text


def expectation(runner: FuzzRunner, exchange: Exchange) -> Expected | None:
    """The oracle's expected answer to what went on the wire; None for a body that is not a form."""
    ctype = exchange.request_headers.get("Content-Type", _FORM).split(";")[0].strip().lower()
    if ctype != _FORM:
        return None
    try:
        decode_form(exchange.form)
    except FormError:
        return None
    return runner.expect(exchange.form)


def fingerprint(expected: Expected | None) -> dict[str, str] | None:
    """What the oracle expected, in short, and a digest of all of it but the account's id:
    the same request for an account of the same kind must be expected the same way."""
    if expected is None:
        return None
    if isinstance(expected, ExpectedError):
        summary = f"{expected.status} {expected.type}" + (
            f" naming {expected.param}" if expected.param else ""
        )
        data: dict[str, Any] = {
            "error": [expected.status, expected.type, expected.param, expected.code, expected.rule.id],
            "alternatives": [list(expected.alternatives), list(expected.deeper), expected.deeper_ok],
        }
    else:
        summary = f"200 account_session with {len(expected.components)} components"
        data = {
            "livemode": expected.livemode,
            "components": expected.components,
            "rules": {"/".join(path): rule.id for path, rule in expected.rules.items()},
            "fields": [[n, t, "{account}" if w == expected.account else w] for n, t, w in expected.fields],
            "undecided": [[u.param, u.rule.id, list(u.unknown)] for u in expected.undecided],
            "unknown": {"/".join(k): list(v) for k, v in expected.unknown.items()},
        }
    text = json.dumps(data, sort_keys=True, default=str)
    return {"summary": summary, "digest": hashlib.sha256(text.encode()).hexdigest()[:24]}


def saved_case(runner: FuzzRunner, failure: FuzzFailure) -> dict[str, Any]:
    """A failing case as it is kept: JSON-able, redacted, self-contained."""
    check, exchange = runner.check, failure.exchange
    redactor = check.redactor
    sent = exchange.raw.decode(*_ENCODING)
    body = redactor.text(sent)
    made = check.target.accounts.made.values()
    headers = {
        k: redactor.text(v)
        for k, v in exchange.request_headers.items()
        if k.lower() not in ("authorization", "content-type", "idempotency-key", "stripe-version")
    }
    return {
        "category": str(check.category) if check.category else None,
        "judge": failure.judged or "sequence",
        "case": redactor.text(failure.case.describe()),
        "archetype": failure.case.archetype,
        "request": {
            "method": exchange.method,
            "path": exchange.path,
            "content_type": exchange.request_headers.get("Content-Type"),
            "body": body,
            "exact": body == sent,  # False: a secret was redacted out of it
            "idempotency_key": "Idempotency-Key" in exchange.request_headers,
            "headers": headers,
        },
        "accounts": {
            a.id: {
                "archetype": a.archetype,
                "recipe": {"path": "/v1/accounts", "form": a.recipe},
                "requested": a.requested,
                "controller": a.controller,
            }
            for a in made
            if a.id in sent
        },
        "status": exchange.status,
        "rules": sorted({f.rule.id for f in failure.outcome.failures}),
        "findings": [redactor.text(f.line()) for f in failure.outcome.failures[:10]],
        "expected": fingerprint(expectation(runner, exchange)),
        "seed": runner.seed,
        "reproduce": check.reproduce,
    }


def target_facts(target: Target) -> dict[str, Any]:
    """What a replay needs to know of the run's target (no key: it is read again then)."""
    redactor = target.client.redactor
    return {
        "name": redactor.text(target.name),
        "base_url": redactor.text(target.base_url),
        "mode": target.mode,
        "livemode": target.livemode,
        "scheme": target.client.scheme,
        "api_version": target.client.api_version,
    }


def write_failures(
    directory: Path,
    cases: Iterable[dict[str, Any]],
    target: dict[str, Any] | None,
    *,
    seed: Any,
    contracts: Path,
) -> Path | None:
    """``directory/failures.json`` with ``cases`` (written whole, then renamed into
    place); none kept, or no target known: the file of an older run is removed."""
    path = directory / FILE
    kept = list(cases)
    if not kept or target is None:
        path.unlink(missing_ok=True)
        return None
    data = {
        "schema": SCHEMA,
        "version": VERSION,
        "written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "target": target,
        "contracts": str(contracts),
        "cases": kept,
    }
    partial = path.with_name(f".{FILE}.partial")
    partial.write_text(json.dumps(data, indent=2, ensure_ascii=True) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


@dataclass(frozen=True)
class Saved:
    path: Path
    seed: Any
    target: dict[str, Any]
    contracts: str
    cases: list[dict[str, Any]]


def body_bytes(case: dict[str, Any]) -> bytes:
    return str(case["request"]["body"]).encode(*_ENCODING)


def read_failures(where: Path) -> Saved:
    """The saved cases of ``where`` (a report directory, or the file itself); a
    :class:`SettingsError` naming the problem for anything missing or malformed."""
    path = where / FILE if where.is_dir() else where
    if not path.is_file():
        raise SettingsError(
            f"no saved failures at {path}: a run keeps its failing generated cases there"
            " (none failed, or no run wrote to this directory)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read {path}: {exc}") from exc
    problem = _problem(data)
    if problem:
        raise SettingsError(f"malformed {path}: {problem}")
    return Saved(path, data.get("seed"), data["target"], data["contracts"], data["cases"])


def _problem(data: Any) -> str | None:
    """What is wrong with a failures file, in a few words; None when nothing is."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return f"not a {SCHEMA} file"
    if data.get("version") != VERSION:
        return f"version {data.get('version')!r}, this conformance reads version {VERSION}"
    target, cases = data.get("target"), data.get("cases")
    if not isinstance(target, dict) or not str(target.get("base_url")).startswith(("http://", "https://")):
        return "no target base_url (http:// or https://)"
    if not isinstance(data.get("contracts"), str):
        return "no contracts directory"
    if not isinstance(cases, list) or not cases:
        return "no cases"
    for index, case in enumerate(cases, 1):
        wrong = _case_problem(case)
        if wrong:
            return f"case {index}: {wrong}"
    return None


def _case_problem(case: Any) -> str | None:
    if not isinstance(case, dict):
        return "not an object"
    if str(case.get("judge", "")).split(":", 1)[0] not in JUDGES:
        return f"unknown judge {case.get('judge')!r}"
    request = case.get("request")
    fields = ("method", "path", "body")
    if not isinstance(request, dict) or not all(isinstance(request.get(f), str) for f in fields):
        return "no request (method, path, body)"
    if not str(request["path"]).startswith("/"):
        return f"a request path {request['path']!r}"
    if not isinstance(case.get("rules"), list) or not isinstance(case.get("findings"), list):
        return "no rules or findings"
    accounts = case.get("accounts")
    if not isinstance(accounts, dict):
        return "no accounts"
    for account_id, account in accounts.items():
        recipe = account.get("recipe") if isinstance(account, dict) else None
        if not isinstance(recipe, dict) or not all(isinstance(recipe.get(k), str) for k in ("path", "form")):
            return f"account {account_id}: no recipe (path, form)"
        if not isinstance(account.get("archetype"), str):
            return f"account {account_id}: no archetype"
    expected = case.get("expected")
    if expected is not None and not (isinstance(expected, dict) and isinstance(expected.get("digest"), str)):
        return "an expected answer without a digest"
    return None
