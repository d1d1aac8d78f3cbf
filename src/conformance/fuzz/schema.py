"""schemathesis over ``contracts/openapi.yaml``, with Stripe's bracket form encoding.

OpenAPI's ``deepObject`` style defines one level of nesting, and
schemathesis's own form encoder hands a dict to ``requests`` (which flattens
``{"components": {...}}`` to ``components=payments``). So the suite registers
its own serializer for ``application/x-www-form-urlencoded``: the same
:func:`conformance.forms.encode_form` the rest of the suite sends with.

Each generated case is sent (positive cases get a real account of the
target's, so that they can succeed), then schemathesis's built-in checks run
on the answer; their failures become conformance findings. A
``negative_data_rejection`` failure counts only if the request, as it went on
the wire, is one the oracle refuses: the form encoding can turn a schema
violation (the string ``"true"`` where a boolean belongs) into a valid request.
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from conformance.client import Exchange, retry_delay
from conformance.compare import FAILURE, Outcome
from conformance.errors import UnplayedRequest
from conformance.forms import FormError, decode_form, encode_form
from conformance.fuzz.runner import FuzzRunner
from conformance.fuzz.strategies import Case

__all__ = ["CHECKS", "MEDIA_TYPE", "SchemaCases", "bracket_serializer", "register_serializer"]

MEDIA_TYPE = "application/x-www-form-urlencoded"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
_PATH, _METHOD = "/v1/account_sessions", "POST"
_KEPT_HEADERS = ("authorization", "content-type", "stripe-version", "idempotency-key")


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
    """Sends schemathesis cases through a :class:`FuzzRunner` and judges them."""

    def __init__(self, runner: FuzzRunner, openapi: Path, archetype: str = "express") -> None:
        self.runner = runner
        self.operation = _operation(openapi)
        self.archetype = archetype
        target = runner.check.target
        self.base_url = target.base_url
        self.session = requests.Session()
        self.session.auth = (target.client.api_key, "")
        if target.client.api_version:
            self.session.headers["Stripe-Version"] = target.client.api_version

    def strategy(self, mode: str) -> st.SearchStrategy[Any]:
        return self.operation.as_strategy(GenerationMode(mode))

    def send(self, case: Any) -> requests.Response:
        client = self.runner.check.target.client
        for attempt in range(6):
            client.pace()
            try:
                response = case.call(base_url=self.base_url, session=self.session, timeout=15)
            except client.replay_errors as exc:
                body = bracket_serializer(None, case.body).decode("utf-8", "replace")
                raise UnplayedRequest(f"no recorded answer for POST {_PATH} {body[:300]}") from exc
            if response.status_code != 429:
                return response
            retry_after = httpx.Headers(_header_pairs(response.headers)).get("retry-after")
            time.sleep(retry_delay(retry_after, attempt))
        return response

    def judge(self, case: Any) -> None:
        positive = case.meta is None or not case.meta.generation.mode.is_negative
        if positive and isinstance(case.body, dict) and "account" in case.body:
            case.body["account"] = self.runner.check.account(self.archetype).id
        started = time.time()
        response = self.send(case)
        exchange = _exchange(response, started)
        outcome = Outcome()
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            outcome = self._findings(group, exchange)
        mode = "positive" if positive else "negative"
        label = f"a schemathesis {mode} case for POST {_PATH}"
        rule_ids = [f"schemathesis.{c.__name__}" for c in CHECKS]
        self.runner.judge_outcome(Case(self.archetype, {}, label=label), exchange, outcome, rule_ids)

    def _findings(self, group: FailureGroup, exchange: Exchange) -> Outcome:
        rules = self.runner.check.rules
        outcome = Outcome()
        for failure in group.exceptions:
            name = (type(failure).checks or (type(failure).__name__,))[0]
            if name == "negative_data_rejection" and self._valid_on_the_wire(exchange):
                continue  # the encoding made it valid: nothing for the server to refuse
            rule = rules.get(f"schemathesis.{name}", rules["schemathesis.not_a_server_error"])
            found = self.runner.check.redactor.text(f"{failure.title}: {failure.message}")
            outcome.add(FAILURE, "schemathesis", name, rule, "the check passes", found[:500])
        return outcome

    def _valid_on_the_wire(self, exchange: Exchange) -> bool:
        try:
            wire = decode_form(exchange.form)
        except FormError:
            return False
        return self.runner.check.oracle.validate(wire, self.runner.check.target.accounts.known) is None


def _exchange(response: requests.Response, started: float) -> Exchange:
    request = response.request
    body = request.body or b""
    form = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    path = request.path_url.split("?", 1)[0]
    kept = {k: str(v) for k, v in request.headers.items() if k.lower() in _KEPT_HEADERS}
    return Exchange(
        str(request.method),
        str(request.url),
        path,
        form,
        kept,
        response.status_code,
        httpx.Headers(_header_pairs(response.headers)),
        response.content,
        started,
        time.time() - started,
    )


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    """schemathesis answers with headers as lists of values; requests as strings."""
    pairs: list[tuple[str, str]] = []
    for name, value in headers.items():
        pairs += [(name, v) for v in value] if isinstance(value, list) else [(name, str(value))]
    return pairs
