"""What a suite test calls: send a request, ask the oracle, compare, record, fail.

A check failure is raised with :func:`pytest.fail` (no Python traceback: the
message names the rule, its grade and source, expected and received, the
request and a ``curl`` to replay it). Warnings (additive drift) and notes
(example-only differences) do not fail the test; they are recorded in the
test's ``user_properties`` for the report, which survive pytest-xdist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from conformance.client import Exchange
from conformance.compare import FAILURE, Outcome, compare_error, compare_session
from conformance.forms import FormError, decode_form
from conformance.oracle import Expected, ExpectedError, ExpectedSession, Oracle
from conformance.redact import Redactor
from conformance.results import RECORD
from conformance.target import Account, Target

__all__ = ["Checker"]


class Checker:
    def __init__(self, node: pytest.Item, target: Target | None, oracle: Oracle) -> None:
        self.node = node
        self._target = target
        self.oracle = oracle
        self.rules = oracle.rules
        self.conv = oracle.contract.conventions
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
        self.judge(
            exchange,
            self.expected(exchange),
            focus=focus,
            fields=fields,
            values=values,
            cells=cells,
        )
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
        if isinstance(expected, ExpectedError):
            outcome = compare_error(exchange.status, exchange.json, expected, self.rules)
            rule_ids = [expected.rule.id]
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
            rule_ids = (
                self._rules_exercised(expected, focus, fields)
                if values
                else ["session.components", "session.fields"]
            )
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
        window = self.conv["expires_at"]
        return compare_session(
            status,
            body,
            expected,
            self.rules,
            sent_at=sent_at,
            focus=focus,
            fields=fields,
            values=values,
            max_ahead=window["max_seconds_ahead"],
            skew=window["clock_skew_seconds"],
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

    # -- recording ---------------------------------------------------------------------
    def conclude(
        self,
        outcome: Outcome,
        exchange: Exchange | None,
        rule_ids: Iterable[str],
        *,
        cells: Iterable[tuple[str, str, str]] = (),
        context: Iterable[str] = (),
    ) -> Outcome:
        """Record the outcome for the report; fail the test if anything broke a rule.
        ``context`` lines (a fuzz case's seed, say) go into the record and the message."""
        redactor = self.redactor
        notes = [redactor.text(line) for line in context]
        failing = {f.path for f in outcome.failures}
        record: dict[str, Any] = {
            "rules": list(rule_ids),
            "findings": [redactor.data(f.as_dict()) for f in outcome.findings],
            "cells": [[arch, comp, col, _cell(comp, col, failing, outcome)] for arch, comp, col in cells],
        }
        if notes:
            record["context"] = notes
        if exchange is not None and outcome.findings:
            record["exchange"] = exchange.evidence(redactor)
            record["explanation"] = redactor.text(outcome.explanation)
        self.node.user_properties.append((RECORD, record))
        if outcome.failures:
            pytest.fail(self._message(outcome, exchange, notes), pytrace=False)
        return outcome

    def _message(self, outcome: Outcome, exchange: Exchange | None, context: list[str]) -> str:
        redactor = self.redactor
        lines = [f"{len(outcome.failures)} rule(s) broken:"]
        lines += [f"  - {redactor.text(f.line())}" for f in outcome.failures]
        lines += [f"  {line}" for line in context]
        if exchange is not None:
            lines.append(f"  request: {exchange.method} {exchange.path} {redactor.text(exchange.form)}")
            lines.append(f"  replay:  {exchange.curl(redactor)}")
        if outcome.explanation:
            lines.append("  deepdiff (expected -> received):")
            lines += [f"    {line}" for line in redactor.text(outcome.explanation).splitlines()[:20]]
        return "\n".join(lines)


def _cell(comp: str, col: str, failing: set[str], outcome: Outcome) -> str:
    path = f"components.{comp}.{col}" if col == "enabled" else f"components.{comp}.features.{col}"
    whole = {"status", "body", "components", f"components.{comp}", f"components.{comp}.features"}
    if path in failing or failing & whole:
        return "failed"
    if any(f.path == path for f in outcome.warnings):
        return "warning"
    return "passed"
