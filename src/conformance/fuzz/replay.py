"""Replaying a generated check: judge what was recorded, not what would be generated now.

Hypothesis cannot promise to generate the same cases in another process (its
search adapts as it goes), so a replay does not regenerate: it walks the
check's cassette in order, sends each recorded request again (vcrpy answers)
and judges the answer as the check did when it recorded it, with today's oracle
and contract -- which is what makes a replay report drift. ``Idempotency-Key``
reuse is judged as a replay or a conflict; every fresh ``client_secret`` must be new.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import yaml

from conformance.compare import FAILURE, Outcome, compare_error, compare_replay
from conformance.errors import SettingsError
from conformance.forms import FormError, decode_form
from conformance.fuzz.strategies import Case

if TYPE_CHECKING:
    from conformance.client import Exchange
    from conformance.fuzz.runner import FuzzRunner

__all__ = ["replay_cassette"]

# libyaml's safe loader when PyYAML has it, as vcrpy reads the same cassettes: the
# pure-Python one took most of a replay's time (a generated check's cassette is large)
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _interactions(path: Any) -> list[dict[str, Any]]:
    try:
        data = yaml.load(path.read_text(), Loader=_SAFE_LOADER)
        items = data["interactions"]
        assert isinstance(items, list)
        return items
    except (OSError, yaml.YAMLError, KeyError, TypeError, AssertionError) as exc:
        raise SettingsError(f"broken cassette {path}: {exc}") from exc


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _header(headers: dict[str, Any], name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return _text(value[0] if isinstance(value, list) else value)
    return None


def replay_cassette(
    runner: FuzzRunner, path: Any, judge_session: Callable[[Exchange], None] | None = None
) -> None:
    """Judge every recorded request of a generated check, in the order recorded, as the
    check judged it when it was recorded (``judge_session``: a check's own judgement of
    one session answer; by default the oracle's)."""
    check = runner.check
    client = check.target.client
    keyed: dict[str, tuple[str, Any]] = {}  # Idempotency-Key -> (body, first answer)
    secrets: set[str] = set()
    case = Case("recorded", {}, label="a recorded request, replayed")
    judge = judge_session or (lambda exchange: _judge_session(runner, case, exchange))
    for item in _interactions(path):
        request = item["request"]
        method, body = str(request["method"]), request.get("body")
        raw = body if isinstance(body, bytes) else _text(body).encode()
        route = "/" + str(request["uri"]).split("/", 3)[-1].split("?", 1)[0]
        headers = request.get("headers", {})
        key = _header(headers, "Idempotency-Key")
        ctype = _header(headers, "Content-Type") or "application/x-www-form-urlencoded"
        exchange = client.request(method, route, raw=raw, content_type=ctype, idempotency_key=key)
        if route != "/v1/account_sessions":
            continue
        if key in keyed:
            _judge_reuse(runner, case, exchange, exchange.form, keyed[key])
            continue
        judge(exchange)
        if exchange.status == 200 and isinstance(exchange.json, dict):
            if key:
                keyed[key] = (exchange.form, exchange)
            secret = exchange.json.get("client_secret")
            if isinstance(secret, str):
                runner.fail_unless(
                    secret not in secrets,
                    case,
                    exchange,
                    "session.client_secret_unique",
                    "client_secret",
                    "a secret not issued before",
                    "a secret issued before",
                )
                secrets.add(secret)


def _judge_session(runner: FuzzRunner, case: Case, exchange: Exchange) -> None:
    try:
        decode_form(exchange.form)
    except FormError:  # a malformed body: any 4xx will do
        rule = runner.check.rules["schemathesis.negative_data_rejection"]
        outcome = Outcome()
        if not 400 <= exchange.status < 500:
            outcome.add(FAILURE, "status", "status", rule, "a 4xx", exchange.status)
        runner.judge_outcome(case, exchange, outcome, [rule.id])
        return
    runner.judge(case, exchange)


def _judge_reuse(runner: FuzzRunner, case: Case, exchange: Any, body: str, first: tuple[str, Any]) -> None:
    first_body, first_exchange = first
    try:
        same = decode_form(first_body) == decode_form(body)
    except FormError:
        same = first_body == body
    if not same:
        expected = runner.check.oracle.error("idempotency_conflict", None, "idempotency.conflict")
        outcome = compare_error(exchange.status, exchange.json, expected, runner.check.rules)
        rule_ids = [expected.rule.id]
    else:
        outcome = compare_replay(
            (first_exchange.status, first_exchange.json, first_exchange.content),
            (exchange.status, exchange.json, exchange.content),
            exchange.headers.get("idempotent-replayed"),
            runner.check.rules,
        )
        rule_ids = ["idempotency.replay", "idempotency.replay_header"]
    runner.judge_outcome(case, exchange, outcome, rule_ids)
