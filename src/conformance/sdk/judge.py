"""Judge one SDK call: the raw request it sent, and what it made of the raw answer.

Request findings name the bracket path (``components[payments][enabled]``) or
the header; answer findings name the dotted path of the field
(``components.payments.features.refund_management``), as the other suites do.
A field the SDK lost or changed is a failure; one it added is a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from conformance.catalogue import Rule
from conformance.compare import FAILURE, NOTE, WARNING, Outcome, json_type
from conformance.forms import FormError, decode_form, form_pairs
from conformance.proxy import Recorded
from conformance.redact import key_in
from conformance.sdk.adapter import Answer

__all__ = ["judge_answer", "judge_request"]

ENDPOINT = "/v1/account_sessions"
FORM = "application/x-www-form-urlencoded"
_BOOLEANS = ("true", "false")
Rules = Mapping[str, Rule]


def judge_request(
    records: Sequence[Recorded],
    intended: Mapping[str, Any],
    description: Mapping[str, Any],
    api_key: str,
    rules: Rules,
) -> Outcome:
    """The request the SDK sent against the request the case meant."""
    out = Outcome()
    if len(records) != 1:
        sent = [f"{r.method} {r.path}" for r in records]
        out.add(FAILURE, "count", "requests", rules["sdk.request.once"], 1, sent or "no request")
        if not records:
            return out
    record = records[-1]
    if record.method != "POST" or record.path != ENDPOINT or record.query:
        query = f"?{record.query}" if record.query else ""
        out.add(
            FAILURE,
            "value",
            "endpoint",
            rules["sdk.request.endpoint"],
            f"POST {ENDPOINT}",
            f"{record.method} {record.path}{query}",
        )
    ctype = record.header("content-type") or ""
    if ctype.split(";")[0].strip().lower() != FORM:
        out.add(
            FAILURE, "value", "Content-Type", rules["sdk.request.content_type"], FORM, ctype or "(absent)"
        )
    _auth(out, record, api_key, rules)
    for option, header, rule in (
        ("idempotency_key", "Idempotency-Key", "sdk.request.idempotency_key"),
        ("api_version", "Stripe-Version", "sdk.request.stripe_version"),
    ):
        given = description.get(option)
        if given and record.header(header) != given:
            out.add(FAILURE, "value", header, rules[rule], given, record.header(header) or "(absent)")
    _params(out, record.body, intended, rules)
    return out


def _auth(out: Outcome, record: Recorded, api_key: str, rules: Rules) -> None:
    header = record.header("authorization") or ""
    scheme = header.partition(" ")[0]
    sent = key_in(header)
    if sent != api_key:
        shown = f"{scheme} (another key)" if sent else (f"{scheme} (unreadable)" if header else "(absent)")
        out.add(
            FAILURE,
            "value",
            "Authorization",
            rules["sdk.request.auth"],
            "Basic or Bearer with the key",
            shown,
        )


def _params(out: Outcome, body: bytes, intended: Mapping[str, Any], rules: Rules) -> None:
    try:
        wire = decode_form(body)
    except FormError as exc:
        out.add(
            FAILURE,
            "shape",
            exc.param or "body",
            rules["sdk.request.params"],
            "a bracket form",
            f"{exc.message} ({body[:200].decode('utf-8', 'replace')})",
        )
        return
    want = dict(form_pairs(intended))
    have = dict(form_pairs(wire))
    for path, value in want.items():
        if path not in have:
            out.add(FAILURE, "missing", path, rules["sdk.request.params"], value)
        elif have[path] != value:
            boolean = value in _BOOLEANS
            rule = rules["sdk.request.booleans" if boolean else "sdk.request.params"]
            out.add(FAILURE, "value", path, rule, value, have[path])
    for path, value in have.items():
        if path not in want:
            out.add(FAILURE, "extra", path, rules["sdk.request.params"], actual=value)


def judge_answer(answer: Answer, record: Recorded | None, rules: Rules) -> Outcome:
    """What the SDK printed against the raw answer it was given."""
    out = Outcome()
    if record is None:
        return out
    raw = record.response_json()
    ok = 200 <= record.status < 300
    error = answer.error
    if ok and error is not None:
        out.add(FAILURE, "value", "sdk", rules["sdk.error"], "the parsed session", {"error": error})
    elif not ok and error is None:
        out.add(
            FAILURE,
            "value",
            "sdk",
            rules["sdk.error"],
            f"an error with status {record.status}",
            "an object" if answer.output else "nothing",
        )
    elif error is not None:
        _error(out, error, record.status, raw, rules)
    else:
        _walk(out, raw, answer.output, (), rules)
    return out


def _error(out: Outcome, error: Mapping[str, Any], status: int, raw: Any, rules: Rules) -> None:
    body = raw.get("error") if isinstance(raw, dict) else None
    body = body if isinstance(body, dict) else {}
    checks = (
        ("status", status, error.get("status"), FAILURE, "sdk.error"),
        ("type", body.get("type"), error.get("type"), FAILURE, "sdk.error"),
        ("param", body.get("param"), error.get("param"), FAILURE, "sdk.error"),
        ("code", body.get("code"), error.get("code"), NOTE, "sdk.error.code"),
    )
    for name, want, got, severity, rule in checks:
        if want != got or json_type(want) != json_type(got):
            out.add(severity, "value", f"error.{name}", rules[rule], want, got)


def _walk(out: Outcome, raw: Any, parsed: Any, path: tuple[str, ...], rules: Rules) -> None:
    where = ".".join(path) or "(the object)"
    if isinstance(raw, dict) and isinstance(parsed, dict):
        for key, value in raw.items():
            if key not in parsed:
                out.add(FAILURE, "missing", ".".join((*path, key)), rules["sdk.parsed"], value)
            else:
                _walk(out, value, parsed[key], (*path, key), rules)
        for key, value in parsed.items():
            if key not in raw:
                out.add(WARNING, "extra", ".".join((*path, key)), rules["sdk.parsed.extra"], actual=value)
    elif isinstance(raw, list) and isinstance(parsed, list) and len(raw) == len(parsed):
        for index, (a, b) in enumerate(zip(raw, parsed, strict=True)):
            _walk(out, a, b, (*path, str(index)), rules)
    elif json_type(raw) != json_type(parsed):
        out.add(FAILURE, "type", where, rules["sdk.parsed"], json_type(raw), json_type(parsed))
    elif raw != parsed:
        out.add(FAILURE, "value", where, rules["sdk.parsed"], raw, parsed)
