"""The check engine: send a request, ask the oracle, compare, record, and fail by
raising :class:`ConformanceFailure` -- no test framework involved.

A :class:`Checker` belongs to one check. What it concludes goes to its ``sink``
as a plain record (rules exercised, findings, matrix cells, evidence), which
the pytest layer keeps in the test's ``user_properties`` (they survive
pytest-xdist) and any other caller may keep as it likes. Findings of another
category's rule are kept as notes: a validation check fails only on validation
rules (and on the prerequisites nothing can be judged without).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from conformance.catalogue import Category, Severity
from conformance.client import Exchange
from conformance.compare import FAILURE, INCONCLUSIVE, NOTE, Outcome, compare_error, compare_session
from conformance.errors import ConformanceFailure
from conformance.evidence import Recipe
from conformance.forms import FormError, decode_form
from conformance.oracle import Expected, ExpectedError, ExpectedSession, Oracle
from conformance.redact import Redactor
from conformance.target import Account, Target

__all__ = ["Checker", "ConformanceFailure", "Sink"]

Sink = Callable[[dict[str, Any]], None]


class Checker:
    def __init__(
        self,
        target: Target | None,
        oracle: Oracle,
        *,
        category: Category | str | None = None,
        sink: Sink | None = None,
        name: str = "",
        reproduce: str = "",
        recipes: Mapping[str, Recipe] | None = None,
    ) -> None:
        self._target = target
        self.oracle = oracle
        self.rules = oracle.rules
        self.conv = oracle.contract.conventions
        self.category = Category(category) if category else None
        self.records: list[dict[str, Any]] = []
        self._sink = sink
        self.name = name  # the check's name, for reproduce lines
        self.reproduce = reproduce  # the command line that runs this check again
        self.recipes = recipes  # account id -> the request that made it (curl snippets)
        self.redactor = target.client.redactor if target else Redactor()

    @property
    def target(self) -> Target:
        if self._target is None:
            raise RuntimeError("this check runs without a target")
        return self._target

    # -- requests ----------------------------------------------------------------------
    def account(self, archetype: str) -> Account:
        return self.target.accounts.get(archetype)

    def send(self, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Exchange:
        return self.target.client.create_session(params, **kwargs)

    def expected(self, exchange: Exchange) -> Expected:
        """The oracle's answer to exactly what went over the wire."""
        try:
            wire = decode_form(exchange.form)
        except FormError as exc:
            raise AssertionError(f"the suite sent a malformed form: {exc}") from exc
        return self.oracle.expect(wire, self.target.accounts.known, livemode=self.target.livemode)

    def session(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        focus: Iterable[str] | None = None,
        fields: bool = False,
        values: bool = True,
        cells: Iterable[tuple[str, str, str]] = (),
        **kwargs: Any,
    ) -> Exchange:
        """Send, then judge the answer against the oracle (session or error)."""
        exchange = self.send(params, **kwargs)
        self.judge(exchange, self.expected(exchange), focus=focus, fields=fields, values=values, cells=cells)
        return exchange

    def judge(
        self,
        exchange: Exchange,
        expected: Expected,
        *,
        focus: Iterable[str] | None = None,
        fields: bool = False,
        values: bool = True,
        cells: Iterable[tuple[str, str, str]] = (),
    ) -> Outcome:
        focus = list(focus) if focus is not None else None
        if isinstance(expected, ExpectedError):
            outcome = compare_error(exchange.status, exchange.json, expected, self.rules)
        else:
            outcome = self.compare(
                exchange.status,
                exchange.json,
                expected,
                sent_at=exchange.sent_at,
                focus=focus,
                fields=fields,
                values=values,
            )
        if isinstance(expected, ExpectedError):
            rule_ids = [expected.rule.id]
        elif values:
            rule_ids = self._rules_exercised(expected, focus, fields)
        else:
            rule_ids = ["session.components", "session.fields"]
        return self.conclude(outcome, exchange, rule_ids, cells=cells)

    def compare(
        self,
        status: int,
        body: Any,
        expected: ExpectedSession,
        *,
        sent_at: float,
        focus: Iterable[str] | None = None,
        fields: bool = False,
        values: bool = True,
    ) -> Outcome:
        """The findings for one session answer, nothing recorded."""
        return compare_session(
            status, body, expected, self.rules, sent_at=sent_at, focus=focus, fields=fields, values=values
        )

    def _rules_exercised(
        self, expected: ExpectedSession, focus: Iterable[str] | None, fields: bool
    ) -> list[str]:
        names = set(focus) if focus is not None else None
        ids = {r.id for path, r in expected.rules.items() if names is None or (path and path[0] in names)}
        if fields:
            ids |= {
                "session.object",
                "session.account",
                "session.livemode",
                "session.client_secret",
                "session.expires_at",
                "session.fields",
            }
        return sorted(ids)

    # -- hand-made findings ------------------------------------------------------------
    def require(
        self,
        ok: bool,
        rule_id: str,
        path: str,
        expected: Any,
        actual: Any,
        exchange: Exchange | None = None,
    ) -> None:
        """Fail with ``rule_id`` unless ``ok``."""
        outcome = Outcome()
        if not ok:
            outcome.add(FAILURE, "value", path, self.rules[rule_id], expected, actual)
        self.conclude(outcome, exchange, [rule_id])

    def undecided(self, rule_id: str, path: str, why: str, exchange: Exchange | None = None) -> None:
        """Record that ``rule_id`` could not be judged here, and why: the check is inconclusive."""
        outcome = Outcome()
        outcome.add(INCONCLUSIVE, "value", path, self.rules[rule_id], why)
        self.conclude(outcome, exchange, [rule_id])

    # -- recording ---------------------------------------------------------------------
    def attribute(self, outcome: Outcome) -> Outcome:
        """Failures of another category's rule become notes (that category's checks judge them)."""
        if self.category is None or all(f.rule.judged_by(self.category) for f in outcome.failures):
            return outcome
        findings = [
            dataclasses.replace(f, severity=NOTE)
            if f.severity == FAILURE and not f.rule.judged_by(self.category)
            else f
            for f in outcome.findings
        ]
        return Outcome(findings, outcome.explanation)

    def conclude(
        self,
        outcome: Outcome,
        exchange: Exchange | None,
        rule_ids: Iterable[str],
        *,
        cells: Iterable[tuple[str, str, str]] = (),
        context: Iterable[str] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """Record the outcome; raise :class:`ConformanceFailure` if a rule is broken.
        ``context`` lines (a fuzz case's seed, say) go into the record and the message."""
        outcome = self.attribute(outcome)
        redactor = self.redactor
        notes = [redactor.text(line) for line in context]
        failing = {f.path for f in outcome.failures}
        record: dict[str, Any] = {
            "rules": list(rule_ids),
            "findings": [redactor.data(f.as_dict()) for f in outcome.findings],
            "cells": [[arch, comp, col, _cell(comp, col, failing, outcome)] for arch, comp, col in cells],
            **(extra or {}),
        }
        if notes:
            record["context"] = notes
        if outcome.failures and self.reproduce:
            record["reproduce"] = self.reproduce
        if exchange is not None and outcome.findings:
            record["exchange"] = exchange.evidence(redactor, self.recipes)
            record["explanation"] = redactor.text(outcome.explanation)
        self.records.append(record)
        if self._sink is not None:
            self._sink(record)
        if outcome.failures:
            raise ConformanceFailure(self._message(outcome, exchange, notes), outcome)
        return outcome

    def _message(self, outcome: Outcome, exchange: Exchange | None, context: list[str]) -> str:
        redactor = self.redactor
        lines = [f"{len(outcome.failures)} rule(s) broken:"]
        lines += [f"  - {redactor.text(f.line())}" for f in outcome.failures]
        lines += [f"  {line}" for line in context]
        if exchange is not None:
            lines.append(f"  request: {exchange.method} {exchange.path} {redactor.text(exchange.form)}")
            lines.append(f"  replay:  {exchange.curl(redactor, self.recipes)}")
        if outcome.explanation:
            lines.append("  deepdiff (expected -> received):")
            lines += [f"    {line}" for line in redactor.text(outcome.explanation).splitlines()[:20]]
        return "\n".join(lines)

    @property
    def inconclusive(self) -> list[dict[str, Any]]:
        """The inconclusive findings recorded so far."""
        return [
            f for r in self.records for f in r.get("findings", []) if f["severity"] == Severity.INCONCLUSIVE
        ]


def _cell(comp: str, col: str, failing: set[str], outcome: Outcome) -> str:
    path = f"components.{comp}.{col}" if col == "enabled" else f"components.{comp}.features.{col}"
    whole = {"status", "body", "components", f"components.{comp}", f"components.{comp}.features"}
    if path in failing or failing & whole:
        return "failed"
    if any(f.path == path for f in outcome.inconclusive):
        return "inconclusive"
    if any(f.path == path for f in outcome.warnings):
        return "warning"
    return "passed"
