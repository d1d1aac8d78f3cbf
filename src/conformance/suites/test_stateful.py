"""A state machine over the API, with the run's accounts of each archetype: sessions
are created, Idempotency-Keys are replayed and reused with other parameters.

Invariants: every client_secret is new unless the answer is a replay; a replay
is the first answer again (JSON-equal; byte-identical, or a note says not)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from conformance.compare import compare_replay
from conformance.forms import decode_form
from conformance.fuzz import valid_cases

pytestmark = pytest.mark.conformance_fuzz

BATCH = 4  # sessions a creating step sends together


@dataclass
class Keyed:
    key: str
    account: str
    form: str
    archetype: str
    status: int
    content: bytes
    body: Any


def machine(fuzz, contract):
    client = fuzz.check.target.client
    rules = fuzz.check.rules

    class Sessions(RuleBasedStateMachine):
        keyed = Bundle("keyed")

        def __init__(self) -> None:
            super().__init__()
            self.issued: list[tuple[str, Any]] = []  # (client_secret, exchange) of every fresh answer

        def require(
            self,
            ok: bool,
            rule_id: str,
            path: str,
            expected: Any,
            actual: Any,
            exchange,
            archetype: str = "-",
        ) -> None:
            fuzz.fail_unless(ok, _case(archetype), exchange, rule_id, path, expected, actual)

        def fresh(self, exchange) -> None:
            secret = exchange.json.get("client_secret") if isinstance(exchange.json, dict) else None
            if exchange.status == 200 and isinstance(secret, str):
                self.issued.append((secret, exchange))

        @rule(cases=st.lists(valid_cases(contract), min_size=1, max_size=BATCH))
        def create_sessions(self, cases) -> None:
            """A few sessions at once (one round trip for all)."""
            forms = [case.form(fuzz.check.account(case.archetype).id) for case in cases]
            for case, exchange in zip(
                cases, fuzz.send_all(lambda f: client.create_session(form=f), forms), strict=True
            ):
                fuzz.judge(case, exchange)
                self.fresh(exchange)

        @rule(target=keyed, cases=st.lists(valid_cases(contract), min_size=1, max_size=BATCH))
        def create_with_keys(self, cases):
            """A few sessions at once, each with an Idempotency-Key of its own."""
            sent = [
                (f"conformance-{uuid.uuid4()}", case.form(fuzz.check.account(case.archetype).id), case)
                for case in cases
            ]
            answers = fuzz.send_all(lambda s: client.create_session(form=s[1], idempotency_key=s[0]), sent)
            keyed = []
            for (key, form, case), exchange in zip(sent, answers, strict=True):
                fuzz.judge(case, exchange)
                self.fresh(exchange)
                account = decode_form(form)["account"]
                keyed.append(
                    Keyed(
                        key, account, form, case.archetype, exchange.status, exchange.content, exchange.json
                    )
                )
            return multiple(*keyed)

        @rule(entries=st.lists(keyed, min_size=1, max_size=BATCH))
        def replay(self, entries: list[Keyed]) -> None:
            """A few requests sent again with their keys, at once (one round trip for all)."""
            answers = fuzz.send_all(
                lambda e: client.create_session(form=e.form, idempotency_key=e.key), entries
            )
            for entry, again in zip(entries, answers, strict=True):
                if entry.status != 200:  # a refusal is not stored: answered afresh
                    continue
                outcome = compare_replay(
                    (entry.status, entry.body, entry.content),
                    (again.status, again.json, again.content),
                    again.headers.get("idempotent-replayed"),
                    rules,
                )
                fuzz.judge_outcome(
                    _case(entry.archetype),
                    again,
                    outcome,
                    ["idempotency.replay", "idempotency.replay_header"],
                )

        @rule(entry=keyed, case=valid_cases(contract))
        def reuse_key(self, entry: Keyed, case) -> None:
            form = case.form(entry.account)
            if decode_form(form) == decode_form(entry.form) or entry.status != 200:
                return  # the same parameters however spelled: that is a replay, not a conflict
            exchange = client.create_session(form=form, idempotency_key=entry.key)
            expected = fuzz.check.oracle.error("idempotency_conflict", None, "idempotency.conflict")
            fuzz.judge(case, exchange, expected)

        @invariant()
        def secrets_distinct_unless_replayed(self) -> None:
            """Replays are not in ``issued``: any repeat there is a reused secret."""
            seen: set[str] = set()
            for secret, exchange in self.issued:
                self.require(
                    secret not in seen,
                    "session.client_secret_unique",
                    "client_secret",
                    "a secret not issued before",
                    "a secret issued before",
                    exchange,
                )
                seen.add(secret)

    return Sessions


def _case(archetype: str):
    from conformance.fuzz.strategies import Case

    return Case(archetype, {}, label=f"a step of the state machine (steps above), for a {archetype} account")


def test_state_machine(fuzz, contract):
    Sessions = machine(fuzz, contract)
    fuzz.run(
        lambda: run_state_machine_as_test(
            Sessions,
            settings=settings(
                fuzz.settings(),
                max_examples=fuzz.stateful_runs,
                stateful_step_count=fuzz.budget["stateful_steps"],
            ),
        )
    )
