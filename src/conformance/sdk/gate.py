"""The SDK gate for ``suites/test_sdk.py``: a recording proxy in front of the target,
an adapter pointed at the proxy, and one :meth:`Gate.verify` per case.

Each call spawns the adapter once, or, when it serves (``"serve": true``), sends one
line to the process it started at the first call; the proxy's records since the call
began are what the SDK sent. The adapter talks only to the proxy, the suite's own client
(accounts) talks to the target directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.catalogue import catalogue
from conformance.checks import Checker
from conformance.client import Exchange
from conformance.compare import FAILURE, Outcome
from conformance.contracts.model import Contract
from conformance.errors import CheckSkipped, RunAborted, TargetUnreachable
from conformance.oracle import ExpectedError
from conformance.proxy import Proxy, Recorded, create_proxy
from conformance.sdk.adapter import Adapter, AdapterError, Answer, resolve
from conformance.sdk.cases import Case, fuzzed_cases
from conformance.sdk.judge import judge_answer, judge_request
from conformance.target import Target

__all__ = ["AdapterCrashed", "Call", "Gate", "open_gate"]

_SHOWN_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "Stripe-Version")
_REQUEST_RULES = [
    "sdk.request.once",
    "sdk.request.endpoint",
    "sdk.request.content_type",
    "sdk.request.params",
    "sdk.request.booleans",
    "sdk.request.auth",
]


class AdapterCrashed(RunAborted):
    """The adapter crashed or broke the protocol: the run cannot judge the SDK (exit 2)."""

    verdict = "error"


@dataclass(frozen=True)
class Call:
    case: Case
    description: dict[str, Any]
    answer: Answer
    records: list[Recorded]

    @property
    def record(self) -> Recorded | None:
        return self.records[-1] if self.records else None


class Gate:
    def __init__(
        self, adapter: Adapter, proxy: Proxy, url: str, target: Target, api_version: str | None
    ) -> None:
        self.adapter = adapter
        self.proxy = proxy
        self.url = url
        self.target = target
        self.api_version = api_version  # --api-version: sent with every case
        self.info = adapter.describe()
        served = self.info.get("serve") is True
        self._served = adapter.serve(url, target.client.api_key) if served else None
        self._fuzzed: dict[tuple[int, int | None], list[Case]] = {}

    @property
    def sdk_api_version(self) -> str | None:
        """The API version to ask for explicitly: the run's, else the SDK's own (if it says)."""
        version = self.api_version or self.info.get("api_version")
        return str(version) if version else None

    def call(self, case: Case, account: str) -> Call:
        description = case.description(account)
        mark = self.proxy.count
        try:
            if self._served is not None:
                answer = self._served.call(description)
            else:
                answer = self.adapter.call(description, self.url, self.target.client.api_key)
        except AdapterError as exc:
            problem = self.target.client.redactor.text(str(exc))
            raise AdapterCrashed(f"the SDK adapter could not be run: {problem}") from exc
        records = self.proxy.since(mark)
        for record in records:
            if record.upstream_error:
                raise TargetUnreachable(record.upstream_error)
            self.target.client.redactor.learn(record.response_json())
        self.target.client.redactor.learn(answer.output)
        return Call(case, description, answer, records)

    def close(self) -> None:
        if self._served is not None:
            self._served.close()

    def verify(self, check: Checker, case: Case) -> Call:
        """Send ``case`` through the SDK and judge the request, the answer and the error."""
        if self.api_version and not case.api_version:
            case = dataclasses.replace(case, api_version=self.api_version)
        account = check.account(case.archetype).id
        intended = case.wire(account)
        if case.error_param is not None:
            expected = check.oracle.expect(
                intended, self.target.accounts.known, livemode=self.target.livemode
            )
            if not (isinstance(expected, ExpectedError) and expected.names(case.error_param)):
                raise AssertionError(
                    f"the oracle does not read {case.name} as the refusal it is about: {expected}"
                )
        call = self.call(case, account)
        catalog = catalogue(self.target.contract)
        outcome = judge_request(call.records, intended, call.description, self.target.client.api_key, catalog)
        outcome.extend(judge_answer(call.answer, call.record, catalog))
        outcome.extend(_as_meant(case, call.record, catalog))
        rules = [*_REQUEST_RULES, "sdk.case", "sdk.error" if case.error_param else "sdk.parsed"]
        rules += [
            r
            for o, r in (
                ("idempotency_key", "sdk.request.idempotency_key"),
                ("api_version", "sdk.request.stripe_version"),
            )
            if call.description.get(o)
        ]
        check.conclude(outcome, self.exchange(call), rules)
        return call

    def exchange(self, call: Call) -> Exchange | None:
        """The SDK's request and its answer, as evidence (the key is never kept)."""
        record = call.record
        if record is None:
            return None
        shown = {name: record.header(name) for name in _SHOWN_HEADERS}
        return Exchange(
            record.method,
            self.target.base_url.rstrip("/") + record.path + (f"?{record.query}" if record.query else ""),
            record.path,
            record.body.decode("utf-8", "replace"),
            {k: v for k, v in shown.items() if v is not None},
            record.status,
            httpx.Headers(list(record.response_headers)),
            record.response_body,
            record.started,
            record.elapsed,
        )

    def fuzzed(self, contract: Contract, index: int, count: int, seed: Any) -> Case:
        """The ``index``-th fuzzed case; skips when the fuzz strategies are not available."""
        key = (count, _int_seed(seed))
        try:
            if key not in self._fuzzed:
                self._fuzzed[key] = fuzzed_cases(contract, *key)
            cases = self._fuzzed[key]
        except (ImportError, AttributeError) as exc:
            raise CheckSkipped(
                f"no fuzzed requests: the fuzz strategies (conformance.fuzz) are not available ({exc})"
            ) from exc
        if index >= len(cases):
            raise CheckSkipped(f"the fuzz strategies gave only {len(cases)} distinct requests")
        return cases[index]


def _int_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    try:
        return int(seed)
    except (TypeError, ValueError):
        return abs(hash(str(seed))) % 2**31


def _as_meant(case: Case, record: Recorded | None, rules: Any) -> Outcome:
    """The target must answer the way the case needs, or the case proves nothing."""
    out = Outcome()
    if record is None:
        return out
    body = record.response_json()
    error = body.get("error") if isinstance(body, dict) else None
    param = error.get("param") if isinstance(error, dict) else None
    if case.error_param is None and record.status != 200:
        got = {"status": record.status, "param": param}
        out.add(FAILURE, "status", "status", rules["sdk.case"], 200, got)
    elif case.error_param is not None and (record.status != 400 or param != case.error_param):
        got = {"status": record.status, "param": param}
        out.add(
            FAILURE, "status", "status", rules["sdk.case"], {"status": 400, "param": case.error_param}, got
        )
    return out


@contextmanager
def open_gate(spec: str, target: Target, api_version: str | None) -> Iterator[Gate]:
    """A proxy in front of ``target`` on a free loopback port, and the adapter ``spec``."""
    from conformance.mock.server import EmbeddedServer

    try:
        adapter = resolve(spec)
    except AdapterError as exc:
        raise AdapterCrashed(str(exc)) from exc
    proxy = create_proxy(target.base_url, redactor=target.client.redactor)
    with EmbeddedServer(proxy) as server:
        try:
            gate = Gate(adapter, proxy, server.url, target, api_version)
        except AdapterError as exc:
            raise AdapterCrashed(str(exc)) from exc
        try:
            yield gate
        finally:
            gate.close()
