"""Run generated cases against the target and turn the shrunk failure into evidence.

Each example: fill in the archetype's account, send the form, ask the oracle,
compare (canonical equality first; deepdiff only on a mismatch). A failing
example raises :class:`FuzzFailure`; hypothesis shrinks it and raises it
again for the minimal case, which :meth:`FuzzRunner.explore` records with the
seed and a ``curl`` line to replay it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import closing
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyFailure

from conformance.checks import Checker
from conformance.client import Exchange
from conformance.compare import FAILURE, Outcome, compare_error
from conformance.forms import decode_form
from conformance.fuzz.failures import saved_case
from conformance.fuzz.strategies import Case
from conformance.oracle import Expected, ExpectedError
from conformance.outcomes import FAILING_CASE
from conformance.redact import Redactor

__all__ = ["BATCH", "PROFILES", "FuzzFailure", "FuzzRunner", "StrategyError", "lists_of"]
# examples per fuzz test, per schemathesis mode (its cases cost 5 to 30 times one of
# ours to draw), runs of the state machine (each step a round trip: its steps are what a
# remote target makes a run wait for) and steps a run, by budget; --max-examples sets
# the first three (a run of the state machine for every 20 examples, at least 5)
PROFILES: dict[str, dict[str, int]] = {
    "dev": {"max_examples": 30, "schemathesis_examples": 30, "stateful_runs": 5, "stateful_steps": 15},
    "ci": {"max_examples": 200, "schemathesis_examples": 100, "stateful_runs": 5, "stateful_steps": 20},
    "nightly": {
        "max_examples": 4000,
        "schemathesis_examples": 1000,
        "stateful_runs": 200,
        "stateful_steps": 60,
    },
}


PIPELINE = 4  # requests in flight at once to a quick target: answered while earlier ones are judged
BATCH = 8  # generated cases per hypothesis example, sent together (up to --concurrency at once)
Sent = TypeVar("Sent")


class FuzzFailure(AssertionError):
    """A generated case broke a rule. Its message is redacted: hypothesis prints it.
    ``judged`` says how the one request can be judged again on its own (``oracle``,
    ``schemathesis:<mode>``); None: only with the requests before it (a state machine's)."""

    def __init__(
        self,
        case: Case,
        outcome: Outcome,
        exchange: Exchange,
        redactor: Redactor,
        judged: str | None = None,
    ) -> None:
        super().__init__(redactor.text("; ".join(f.line() for f in outcome.failures)))
        self.case, self.outcome, self.exchange, self.judged = case, outcome, exchange, judged


class StrategyError(AssertionError):
    """The suite generated a case the oracle does not read as intended: a suite bug."""


Replayer = Callable[["FuzzRunner"], None]


class FuzzRunner:
    def __init__(
        self,
        check: Checker,
        profile: str,
        max_examples: int | None,
        seed: Any,
        replay: Replayer | None = None,
        concurrency: int = 1,
    ) -> None:
        self.check = check
        self.concurrency = concurrency  # requests in flight at once
        self._pool: ThreadPoolExecutor | None = None
        self._pool_width = 0
        self._decoded: dict[str, dict[str, Any]] = {}
        self.replay = replay  # re-judges a recorded cassette instead of generating cases
        self.budget = PROFILES[profile]
        self.max_examples = max_examples or self.budget["max_examples"]
        self.schemathesis_examples = max_examples or self.budget["schemathesis_examples"]
        self.stateful_runs = max(5, max_examples // 20) if max_examples else self.budget["stateful_runs"]
        self.seed = seed
        self.cases = 0
        self.rules: set[str] = set()
        self.cells: set[tuple[str, str, str]] = set()
        self.kept: dict[tuple[str, str], Any] = {}  # warnings and notes, once each

    def settings(self) -> settings:
        return settings(
            max_examples=self.max_examples,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            print_blob=False,
            report_multiple_bugs=False,  # one minimal failure, found and shrunk sooner
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        )

    def expect(self, form: str, accounts: Mapping[str, Mapping[str, str] | None] | None = None) -> Expected:
        """What the oracle expects for a form, given the known accounts (default: the run's)."""
        known = self.check.target.accounts.known if accounts is None else accounts
        return self.check.oracle.expect(self._wire(form), known, livemode=self.check.target.livemode)

    def _wire(self, form: str) -> dict[str, Any]:
        """The decoded form (the last few kept: a case is decoded to expect, then to judge)."""
        found = self._decoded.get(form)
        if found is None:
            if len(self._decoded) > 64:
                self._decoded.clear()
            found = self._decoded[form] = decode_form(form)
        return found

    def send(self, case: Case) -> tuple[Exchange, Expected]:
        account = self.check.account(case.archetype)
        exchange = self.check.send(form=case.form(account.id))
        return exchange, self.expect(exchange.form)

    def send_all(self, send: Callable[[Any], Sent], items: Sequence[Any]) -> list[Sent]:
        """``send`` each item, up to ``concurrency`` at once; answers in the items' order
        (so judging, shrinking and cassettes stay in a deterministic order)."""
        if self.concurrency <= 1 or len(items) <= 1 or not self.check.target.client.slow:
            return [send(item) for item in items]  # a quick target: threads would only add work
        with closing(self.pipelined(send, items)) as answers:  # every one waited for
            return list(answers)

    def pipelined(self, send: Callable[[Any], Sent], items: Sequence[Any]) -> Generator[Sent, None, None]:
        """``send`` each item, answers yielded in the items' order as they come: the caller
        judges one while the next are in flight (PIPELINE at once on a quick target,
        ``concurrency`` on a slow one). Every request is waited for before this returns or
        raises: none is left running behind a failure."""
        width = self.concurrency if self.check.target.client.slow else min(self.concurrency, PIPELINE)
        if width <= 1 or len(items) <= 1:
            yield from (send(item) for item in items)
            return
        futures = [self._pool_of(width).submit(send, item) for item in items]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()
            wait(futures)

    def _pool_of(self, width: int) -> ThreadPoolExecutor:
        if self._pool is None or self._pool_width != width:
            self.close()
            self._pool = ThreadPoolExecutor(width, thread_name_prefix="conformance-send")
            self._pool_width = width
        return self._pool

    def valid(self, case: Case, sent: tuple[Exchange, Expected]) -> None:
        exchange, expected = sent
        self.judge(case, exchange, expected)

    def invalid(self, case: Case, sent: tuple[Exchange, Expected]) -> None:
        exchange, expected = sent
        if not isinstance(expected, ExpectedError) or not expected.names(case.param):
            raise StrategyError(f"the oracle reads {case.describe()} as {expected}")
        self.judge(case, exchange, expected)

    def judge(self, case: Case, exchange: Exchange, expected: Expected | None = None) -> Expected:
        """The one judgement of a generated, replayed, schemathesis or stateful case:
        the answer against ``expected`` (default: the oracle's for the form sent);
        raises :class:`FuzzFailure` on a broken rule. Returns what was expected."""
        given, expected = expected, self.expect(exchange.form) if expected is None else expected
        outcome = self.assess(case, exchange, expected)
        # judged alone by the oracle (saved for replay-failures) unless told to expect otherwise
        alone = given is None or (bool(outcome.failures) and given == self.expect(exchange.form))
        self.conclude_case(case, exchange, outcome, judged="oracle" if alone else None)
        return expected

    def assess(self, case: Case, exchange: Exchange, expected: Expected) -> Outcome:
        """The findings of :meth:`judge`, counted but not concluded (a caller adds its own)."""
        self.cases += 1
        if isinstance(expected, ExpectedError):
            outcome = compare_error(exchange.status, exchange.json, expected, self.check.rules)
            self.rules.add(expected.rule.id)
        else:
            outcome = self.check.compare(
                exchange.status, exchange.json, expected, sent_at=exchange.sent_at, fields=True
            )
            self.rules.update(r.id for r in expected.rules.values())
            asked = self._wire(exchange.form).get("components")
            for comp, conf in (asked if isinstance(asked, dict) else {}).items():
                self.cells.add((case.archetype, comp, "enabled"))
                features = conf.get("features") if isinstance(conf, dict) else None
                self.cells.update((case.archetype, comp, f) for f in (features or {}))
        return outcome

    def judge_outcome(
        self,
        case: Case,
        exchange: Exchange,
        outcome: Outcome,
        rule_ids: list[str],
        *,
        count: bool = True,
        judged: str | None = None,
    ) -> None:
        """A case judged by other means (a replay, a conflict, schemathesis's checks):
        count it (unless it was counted already) and conclude it."""
        self.cases += count
        self.rules.update(rule_ids)
        self.conclude_case(case, exchange, outcome, judged=judged)

    def conclude_case(
        self, case: Case, exchange: Exchange, outcome: Outcome, *, judged: str | None = None
    ) -> None:
        """Keep a case's warnings, notes and inconclusive findings for the check's record
        (once each); raise on a failure of a rule this check judges."""
        outcome = self.check.attribute(outcome)
        for finding in outcome.findings:
            if finding.severity != FAILURE:
                self.kept.setdefault((finding.path, finding.rule.id), finding)
        if outcome.failures:
            raise FuzzFailure(case, outcome, exchange, self.check.redactor, judged)

    def fail_unless(
        self, ok: bool, case: Case, exchange: Exchange, rule_id: str, path: str, expected: Any, actual: Any
    ) -> None:
        if not ok:
            outcome = Outcome()
            outcome.add(FAILURE, "value", path, self.check.rules[rule_id], expected, actual)
            raise FuzzFailure(case, outcome, exchange, self.check.redactor)

    def explore(
        self,
        batches: Callable[[int], st.SearchStrategy[list[Any]]],
        send: Callable[[Any], Sent],
        judge: Callable[[Any, Sent], None],
        *,
        batch: int = BATCH,
        examples: int | None = None,
    ) -> None:
        """Send and judge the cases ``batches(n)`` draws ``n`` at a time (``lists_of`` a
        strategy of single cases will do); record and fail with the minimal failing case.

        Cases come in batches of :data:`BATCH` per hypothesis example, sent together
        (up to ``concurrency`` requests in flight: a round trip is paid once a batch,
        not once a case) and judged in order: the engine's own cost is per example and
        per draw, and dwarfs making one more case (a failing batch shrinks like any
        other: the cases that do not fail shrink to the simplest). A strategy that often
        rejects what it drew wastes a whole batch each time: give it a smaller one.
        ``examples``: the cases to send (default: ``max_examples``)."""
        examples = examples or self.max_examples
        batch = batch if examples >= batch else 1

        @settings(self.settings(), max_examples=max(1, -(-examples // batch)))
        @given(batches(batch))
        def run(cases: list[Any]) -> None:
            with closing(self.pipelined(send, cases)) as answers:
                for case, sent in zip(cases, answers, strict=True):
                    judge(case, sent)

        try:
            self.run(run)
        finally:
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def run(self, search: Callable[[], None]) -> None:
        """Run a hypothesis search (a ``@given`` function or a state machine test) and
        turn its final, shrunk :class:`FuzzFailure` into a recorded failure."""
        failure: FuzzFailure | None = None
        flaky = False
        try:
            if self.replay is not None:
                self.replay(self)
            else:
                search()
        except FuzzFailure as caught:
            failure = caught
        except BaseExceptionGroup as group:  # FlakyFailure, or several bugs at once
            found, rest = group.split(FuzzFailure)
            if rest is not None or found is None:
                raise
            failure = _first(found)
            flaky = isinstance(group, FlakyFailure)
        if failure is not None:  # outside the except block: no chained traceback in the message
            self._fail(failure, flaky=flaky)
        outcome = Outcome(findings=list(self.kept.values()))
        self.check.conclude(
            outcome, None, sorted(self.rules), cells=sorted(self.cells), extra={"cases": self.cases}
        )

    def _fail(self, failure: FuzzFailure, *, flaky: bool = False) -> None:
        case, outcome = failure.case, failure.outcome
        found = "replayed from its cassette" if self.replay else "minimal failing case after shrinking"
        context = [
            f"{found}: {case.describe()}"
            + (" (did not fail every time: the target may be non-deterministic)" if flaky else ""),
            f"seed: {self.seed}; reproduce: {self.check.reproduce or self.check.name}",
        ]
        extra: dict[str, Any] = {"cases": self.cases}
        if self.replay is None:  # a cassette's cases are its own; a live run's are kept to re-send
            extra[FAILING_CASE] = saved_case(self, failure)
        self.check.conclude(
            outcome,
            failure.exchange,
            sorted({f.rule.id for f in outcome.findings}),
            context=context,
            extra=extra,
        )
        raise AssertionError("unreachable: conclude raises on failures")  # pragma: no cover


def lists_of(strategy: st.SearchStrategy[Any]) -> Callable[[int], st.SearchStrategy[list[Any]]]:
    """``n`` draws of ``strategy`` a batch, for :meth:`FuzzRunner.explore`."""
    return lambda n: st.lists(strategy, min_size=n, max_size=n)


def _first(group: BaseExceptionGroup[FuzzFailure]) -> FuzzFailure:
    first = group.exceptions[0]
    return first if isinstance(first, FuzzFailure) else _first(first)
