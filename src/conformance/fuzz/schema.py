"""schemathesis over ``contracts/openapi.yaml``, with Stripe's bracket form encoding.

OpenAPI's ``deepObject`` style defines one level of nesting, and
schemathesis's own form encoder hands a dict to ``requests`` (which flattens
``{"components": {...}}`` to ``components=payments``). So the suite registers
its own serializer for ``application/x-www-form-urlencoded``: the same
:func:`conformance.forms.encode_form` the rest of the suite sends with.

Each generated case is sent through the suite's own client (positive cases get a
real account of the target's, so that they can succeed) and judged by what went
on the wire, not by what was generated: the oracle's expectation for that form
(the encoding can turn a schema violation -- the string ``"true"`` where a
boolean belongs -- into a valid request, and a valid-looking one into an
invalid one), then schemathesis's checks of the answer itself. So a case judges
the same way when it is replayed from a cassette, where only the wire is known.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conformance.client import Exchange
from conformance.compare import FAILURE, Outcome, json_type
from conformance.forms import FormError, decode_form, encode_form
from conformance.fuzz.runner import FuzzRunner
from conformance.fuzz.strategies import Case

__all__ = ["CHECKS", "MEDIA_TYPE", "SchemaCases", "bracket_serializer", "register_serializer"]

MEDIA_TYPE = "application/x-www-form-urlencoded"
# what schemathesis checks of an answer, whatever was generated: the oracle judges the rest
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
_PATH, _METHOD = "/v1/account_sessions", "POST"


def bracket_serializer(ctx: Any, value: Any) -> bytes:
    """A generated body in Stripe's bracket form; anything not an object as text."""
    if isinstance(value, dict):
        return encode_form(value).encode()
    if isinstance(value, bytes):
        return value
    return b"" if value is None else str(value).encode()


@cache
def register_serializer() -> None:
    schemathesis.serializer(MEDIA_TYPE)(bracket_serializer)


@cache
def _operation(openapi: Path) -> Any:
    register_serializer()
    return schemathesis.openapi.from_path(str(openapi))[_PATH][_METHOD]


class SchemaCases:
    """Sends schemathesis cases through the suite's own client (its pacing, retries,
    timeouts and redaction) and judges them with schemathesis's checks and ours."""

    def __init__(self, runner: FuzzRunner, openapi: Path, archetype: str = "express") -> None:
        self.runner = runner
        self.operation = _operation(openapi)
        self.archetype = archetype

    def strategy(self, mode: str) -> st.SearchStrategy[Any]:
        return self.operation.as_strategy(GenerationMode(mode))

    def send(self, case: Any) -> Exchange:
        positive = case.meta is None or not case.meta.generation.mode.is_negative
        if positive and isinstance(case.body, dict) and "account" in case.body:
            case.body["account"] = self.runner.check.account(self.archetype).id
        client = self.runner.check.target.client
        body = bracket_serializer(None, case.body)
        media = case.media_type or MEDIA_TYPE
        return (
            client.request("POST", _PATH, raw=body, content_type=media)
            if body
            else client.request("POST", _PATH)
        )

    def judge(self, case: Any, exchange: Exchange) -> None:
        positive = case.meta is None or not case.meta.generation.mode.is_negative
        self.judge_exchange(exchange, "positive" if positive else "negative")

    def judge_exchange(self, exchange: Exchange, mode: str = "recorded") -> None:
        """One sent case, judged the same way whether it was just generated or is replayed
        from a cassette: what went on the wire, by the oracle (a body that is not a form
        must be refused with a 4xx), then schemathesis's checks of the answer itself."""
        label = f"a schemathesis {mode} case for POST {_PATH}"
        case = Case(self.archetype, {}, label=label)
        try:
            wire = decode_form(exchange.form) if _is_form(exchange) else None
        except FormError:
            wire = None
        rule_ids = [f"schemathesis.{c.__name__}" for c in CHECKS]
        if wire is None:
            outcome = self._refused(exchange)
            rule_ids += ["schemathesis.negative_data_rejection", "error.shape"]
            self.runner.cases += 1
        else:
            outcome = self.runner.assess(case, exchange, self.runner.expect(exchange.form))
        sent = {k: v for k, v in exchange.request_headers.items() if k.lower() != "authorization"}
        request = httpx.Request(exchange.method, exchange.url, headers=sent, content=exchange.raw)
        response = httpx.Response(
            exchange.status, headers=exchange.headers, content=exchange.content, request=request
        )
        response.elapsed = dt.timedelta(seconds=exchange.elapsed)
        try:
            self.operation.Case(body=wire, media_type=MEDIA_TYPE).validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            outcome.extend(self._findings(group))
        self.runner.judge_outcome(
            case, exchange, outcome, rule_ids, count=False, judged=f"schemathesis:{mode}"
        )

    def _refused(self, exchange: Exchange) -> Outcome:
        """A body that is not a form: a 4xx with a Stripe error."""
        rules = self.runner.check.rules
        outcome = Outcome()
        error = exchange.json.get("error") if isinstance(exchange.json, dict) else None
        if not 400 <= exchange.status < 500:
            rule = rules["schemathesis.negative_data_rejection"]
            outcome.add(FAILURE, "status", "status", rule, "a 4xx", exchange.status)
        elif not (isinstance(error, dict) and error.get("type") and error.get("message")):
            outcome.add(
                FAILURE, "shape", "error", rules["error.shape"], "a Stripe error", json_type(exchange.json)
            )
        return outcome

    def _findings(self, group: FailureGroup) -> Outcome:
        rules = self.runner.check.rules
        outcome = Outcome()
        for failure in group.exceptions:
            name = (type(failure).checks or (type(failure).__name__,))[0]
            rule = rules.get(f"schemathesis.{name}", rules["schemathesis.not_a_server_error"])
            found = self.runner.check.redactor.text(f"{failure.title}: {failure.message}")
            outcome.add(FAILURE, "schemathesis", name, rule, "the check passes", found[:500])
        return outcome


def _is_form(exchange: Exchange) -> bool:
    ctype = exchange.request_headers.get("Content-Type", MEDIA_TYPE)
    return ctype.split(";")[0].strip().lower() == MEDIA_TYPE
