"""The generated suites: their strategies, their encoding, their budgets, their teeth."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from conformance.forms import decode_form
from conformance.fuzz import MUTATIONS, invalid_cases, valid_cases
from conformance.fuzz.schema import bracket_serializer
from conformance.mock import create_app
from conformance.oracle import ExpectedError, ExpectedSession, Oracle, flat_controller

from .faults import FAULTS

QUICK = settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def world(committed):
    accounts = {
        f"acct_{a}": flat_controller({"controller": s["controller"]}) for a, s in committed.archetypes.items()
    }
    return Oracle(committed), accounts


def test_valid_cases_are_valid_and_reach_everything(committed, world):
    oracle, accounts = world
    seen: set[tuple[str, str]] = set()

    @QUICK
    @given(valid_cases(committed))
    def check(case):
        expected = oracle.expect(decode_form(case.form(f"acct_{case.archetype}")), accounts, livemode=False)
        assert isinstance(expected, ExpectedSession), (case, expected)
        seen.update((case.archetype, c) for c in case.params["components"])

    check()
    assert {a for a, _ in seen} == set(committed.archetypes)
    assert len({c for _, c in seen}) == len(committed.components)


def test_invalid_cases_are_refused_with_the_intended_param(committed, world):
    oracle, accounts = world
    kinds: set[str] = set()

    @QUICK
    @given(invalid_cases(committed))
    def check(case):
        expected = oracle.expect(decode_form(case.form(f"acct_{case.archetype}")), accounts, livemode=False)
        assert isinstance(expected, ExpectedError) and expected.names(case.param), (case, expected)
        kinds.add(case.mutation)

    check()
    assert kinds == set(MUTATIONS)


def test_spellings_decode_the_same(committed):
    from conformance.fuzz.strategies import Case

    params = {
        "account": "{account}",
        "components": {
            "payments": {"enabled": True, "features": {"refund_management": False}},
            "documents": {"enabled": False},
        },
    }
    plain = Case("full", params).form("acct_1")
    assert plain == (
        "account=acct_1&components[payments][enabled]=true&components[payments][features]"
        "[refund_management]=false&components[documents][enabled]=false"
    )
    for order, escaped in ((7, False), (0, True), (3, True)):
        odd = Case("full", params, order=order, escaped=escaped).form("acct_1")
        assert odd != plain and decode_form(odd) == decode_form(plain)


def test_bracket_serializer_exact_body():
    body = {
        "account": "acct_1",
        "components": {"payments": {"enabled": True, "features": {"refund_management": False}}},
    }
    assert bracket_serializer(None, body) == (
        b"account=acct_1&components[payments][enabled]=true"
        b"&components[payments][features][refund_management]=false"
    )


def test_schemathesis_sends_bracket_forms(committed, serve):
    """schemathesis's cases, as they arrive at a server: nested brackets, never the
    flattened `components=payments` its own encoder would send."""
    import requests

    from conformance.fuzz.schema import _operation

    received: list[bytes] = []

    async def capture(request: Request) -> JSONResponse:
        received.append(await request.body())
        return JSONResponse({"error": {"type": "invalid_request_error", "message": "x"}}, status_code=400)

    url = serve(Starlette(routes=[Route("/v1/account_sessions", capture, methods=["POST"])]))
    operation = _operation(committed.directory / "openapi.yaml")
    sent = []

    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy())
    def send(case):
        if isinstance(case.body, dict) and case.body.get("components"):
            case.call(base_url=url, session=requests.Session())
            sent.append(case.body)

    send()
    assert sent and len(received) == len(sent)
    for body, raw in zip(sent, received, strict=True):
        text = raw.decode()
        assert "components[" in text and "components=" not in text
        wire = decode_form(text)
        assert set(wire["components"]) == set(body["components"])
        for name, conf in body["components"].items():
            assert wire["components"][name]["enabled"] == str(conf["enabled"]).lower()


def test_budgets_and_case_count(committed, serve, cli):
    url = serve(create_app(committed))
    run = cli("run", "--base-url", url, "-m", "fuzz", "-k", "requests", "--max-examples", "8")
    assert run.code == 0, run.stdout[-2000:]
    assert run.summary["fuzz_cases"] == 16 and run.summary["seed"] is not None
    schema = cli("run", "--base-url", url, "-m", "schemathesis", "--max-examples", "8")
    assert schema.code == 0 and schema.summary["fuzz_cases"] == 16  # 8 a mode, as asked
    dev = cli("run", "--base-url", url, "-m", "fuzz", "--profile", "dev")
    assert (
        dev.code == 0 and 0 < dev.summary["fuzz_cases"] < 400
    )  # the state machine counts its steps' cases too


def test_same_seed_same_minimal_case(committed, serve, cli):
    from .faults import FUZZ_ONLY_FAULTS

    url = serve(FUZZ_ONLY_FAULTS[1].build(committed))

    def minimal():
        # seed 4: its failure shrinks in ~1 s of CPU; seed 99, the first one used, took ~3 s
        run = cli("run", "--base-url", url, "-m", "fuzz", "-k", "test_valid_requests", "--seed", "4")
        assert run.code == 1
        failed = [c for c in run.summary["checks"] if c["outcome"] == "failed"]
        return [e["exchange"]["request"]["body"].split("&", 1)[1] for e in failed[0]["evidence"]]

    assert minimal() == minimal()


@pytest.mark.parametrize(
    ("fault", "rule", "seed"),
    [
        ("client_secret_reused", "session.client_secret_unique", "5"),
        ("idempotency_ignored", "idempotency.replay", "3"),  # 0.5 s of CPU to shrink; seed 5: 1.2 s
    ],
)
def test_state_machine_catches(fault, rule, seed, committed, serve, cli):
    url = serve(next(f for f in FAULTS if f.name == fault).build(committed))
    run = cli("run", "--base-url", url, "-m", "fuzz", "-k", "state_machine", "--seed", seed)
    assert run.code == 1, run.stdout[-2000:]
    assert rule in run.failed_rules()


@pytest.mark.parametrize(
    ("fault", "check", "mode", "seed"),
    [
        ("validation_500", "not_a_server_error", "negative", "3"),  # a required parameter left out
        ("missing_component", "response_schema_conformance", "positive", "1"),  # a session's answer
    ],
)
def test_schemathesis_catches(fault, check, mode, seed, committed, serve, cli):
    """Each fault in the cases that meet it (the other mode's would only add time). The
    seeds are those of the quickest shrinks among the first few (2 and 1 s of CPU; 2-7 s
    for others): a failure shrinks for as long as hypothesis wants."""
    url = serve(next(f for f in FAULTS if f.name == fault).build(committed))
    run = cli("run", "--base-url", url, "-m", "schemathesis", "-k", mode, "--seed", seed)
    assert run.code == 1, run.stdout[-2000:]
    assert f"schemathesis.{check}" in run.failed_rules()


def test_throttling_is_retried_not_reported(committed, serve, cli):
    """A target that answers every third request with a 429: the suite backs off and
    still conforms (the 429s counted as retries, never against the target)."""
    from .hostile import Hostile, throttle

    throttled = []

    async def every_third(request):
        if request.number % 3:
            return False
        throttled.append(request.method)
        return await throttle(request, "0.05")

    server = Hostile(committed, every_third)
    # the state machine left out: its steps go one by one, each 429 a wait of its own (8 s
    # in all); the generated cases go in batches, several requests in flight
    picked = ["-m", "fuzz or idempotency", "-k", "not state_machine", "--max-examples", "20"]
    run = cli("run", "--base-url", serve(server), *picked)
    assert run.code == 0, run.stdout[-3000:]
    summary = run.summary
    assert summary["counts"]["failed"] == 0
    # every 429 was retried, and counted as such (the clean-up's own deletes aside)
    assert len(throttled) >= summary["retries"]["429"] >= len([m for m in throttled if m != "DELETE"]) > 10
    assert "429" not in json.dumps(summary["checks"])


def test_pipelined_answers_come_in_order_and_none_is_left_running():
    """A quick target gets a few requests in flight while one answer is judged: the answers
    still come in the cases' order, and a failure judged early leaves no request running."""
    import threading
    import time
    from contextlib import closing
    from types import SimpleNamespace

    from conformance.fuzz.runner import PIPELINE, FuzzRunner

    check = SimpleNamespace(target=SimpleNamespace(client=SimpleNamespace(slow=False)))
    runner = FuzzRunner(check, "dev", None, 1, concurrency=8)
    running, most, lock = set(), [0], threading.Lock()

    def send(n: int) -> int:
        with lock:
            running.add(n)
            most[0] = max(most[0], len(running))
        time.sleep(0.02 * (8 - n))  # the later ones answer first
        with lock:
            running.discard(n)
        return n

    try:
        assert list(runner.pipelined(send, range(8))) == list(range(8))
        assert 1 < most[0] <= PIPELINE  # in flight together, no more than a quick target gets
        with pytest.raises(AssertionError), closing(runner.pipelined(send, range(8))) as answers:
            for n in answers:
                raise AssertionError(f"case {n} failed")
        assert not running  # every request sent was waited for before the failure went on
    finally:
        runner.close()
