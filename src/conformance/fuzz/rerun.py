"""``conformance replay-failures``: a run's failing generated cases, sent again and
judged again, the way the run judged them, so that a server being fixed is
checked in seconds rather than by a whole run.

The saved requests named accounts the run made and deleted at its end: an
account of the same kind is made again from the request that made it (one per
kind, shared by the cases), its id put in place of the old one, and every
account made is deleted exactly once at the end, whatever happened (a failure,
Ctrl-C, SIGTERM, a dead target). The key is read again (``STRIPE_API_KEY``, else
the embedded mock's test key); with no ``--base-url`` the run's target is used,
and a run against the embedded mock gets an embedded mock of its own.

Each case is judged by what judged it in the run -- :meth:`FuzzRunner.judge`
(the oracle) or the schemathesis checks -- against the oracle's expected
answer, which must be the one the run had (its digest is kept): if it is not
(the target reports another controller, the contract changed), the case is
*inconclusive*, as is a state machine's step judged with the steps before it.
A case is never passed without being judged.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.checks import Checker
from conformance.client import Client, Exchange, Limits, is_loopback
from conformance.compare import INCONCLUSIVE
from conformance.contracts.model import Contract
from conformance.errors import SettingsError
from conformance.evidence import key_auth
from conformance.fuzz.failures import Saved, body_bytes, expectation, fingerprint
from conformance.fuzz.runner import FuzzFailure, FuzzRunner
from conformance.fuzz.strategies import Case
from conformance.oracle import Oracle, flat_controller
from conformance.redact import mask
from conformance.run import DEFAULT_LIVE_RATE
from conformance.settings import LIVE_PREFIXES
from conformance.target import Account, Ledger, Target, brief, delete_accounts

__all__ = ["Replayed", "Verdict", "replay_failures"]

PASSED, FAILS, UNJUDGED = "PASSED now", "STILL FAILS", "INCONCLUSIVE"
_FORM = "application/x-www-form-urlencoded"
SHORT = 100  # characters of a request shown in a line


@dataclass(frozen=True)
class Verdict:
    outcome: str  # PASSED, FAILS or UNJUDGED
    rules: tuple[str, ...]
    request: str  # in short, accounts named by their kind
    detail: str  # the finding, or why it could not be judged

    def line(self) -> str:
        return _printable(
            f"{self.outcome:<12}  {', '.join(self.rules) or '-'}  {self.request}  -- {self.detail}"
        )


@dataclass
class Replayed:
    base_url: str
    verdicts: list[Verdict] = field(default_factory=list)
    made: int = 0
    deleted: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(1 for v in self.verdicts if v.outcome == outcome)

    @property
    def code(self) -> int:
        """0 when every case passes now; 1 when one still fails or could not be judged."""
        return 0 if self.verdicts and self.count(PASSED) == len(self.verdicts) else 1

    def summary(self, source: str) -> str:
        return (
            f"replay-failures: {len(self.verdicts)} case(s) of {source} against {self.base_url}"
            f" in {self.seconds:.1f} s: {self.count(PASSED)} passed now, {self.count(FAILS)} still fail,"
            f" {self.count(UNJUDGED)} inconclusive; accounts: {self.made} made, {len(self.deleted)} deleted"
        )


def replay_failures(
    saved: Saved,
    contract: Contract,
    *,
    key: str,
    base_url: str | None = None,
    say: Callable[[str], None] = print,
    warn: Callable[[str], None] = print,
) -> Replayed:
    """Send every saved case again, in order, and judge it; ``say`` gets one line a case,
    ``warn`` the accounts that could not be deleted (with the curl that deletes each)."""
    from conformance import stop

    started = time.monotonic()
    stop.clear()
    restore = stop.install()
    server: Any = None
    try:
        if base_url is None and saved.target.get("mode") in ("embedded", "dry-run"):
            from conformance.mock import EmbeddedServer, create_app

            server = EmbeddedServer(create_app(contract)).start()
            base_url = server.url
        url = base_url or str(saved.target["base_url"])
        replay = _Replay(url, key, contract, saved.target)
        replayed = Replayed(url)
        try:
            for case in saved.cases:
                verdict = replay.case(case)
                replayed.verdicts.append(verdict)
                say(verdict.line())
        finally:
            replay.close(replayed, warn)
        replayed.seconds = time.monotonic() - started
        return replayed
    finally:
        if server is not None:
            server.stop()
        restore()
        stop.clear()


class _Replay:
    """The target, the accounts made for the cases, and how each case is judged."""

    def __init__(self, base_url: str, key: str, contract: Contract, recorded: dict[str, Any]) -> None:
        rate = None if is_loopback(base_url) else DEFAULT_LIVE_RATE
        client = Client(base_url, key, api_version=recorded.get("api_version"), rate=rate, limits=Limits())
        client.scheme = "bearer" if recorded.get("scheme") == "bearer" else "basic"
        livemode = key.startswith(LIVE_PREFIXES)
        self.target = Target(base_url, base_url, "url", client, contract, livemode, Ledger())
        self.oracle = Oracle(contract)
        self.contract = contract
        self.fresh: dict[tuple[str, str, str], Account | str] = {}  # (kind, path, form) -> made, or why not

    # -- accounts --------------------------------------------------------------------------
    def account(self, spec: dict[str, Any]) -> Account | str:
        """An account like the run's (made once a kind), or why the target would not make one."""
        archetype, recipe = str(spec["archetype"]), spec["recipe"]
        kind = (archetype, str(recipe["path"]), str(recipe["form"]))
        if kind not in self.fresh:
            self.fresh[kind] = self._make(archetype, kind[1], kind[2], spec.get("requested") or {})
        return self.fresh[kind]

    def _make(self, archetype: str, path: str, form: str, requested: dict[str, str]) -> Account | str:
        client = self.target.client
        exchange = client.request("POST", path, form=form)
        body = exchange.json
        if exchange.status == 401:
            raise SettingsError(
                f"the target refused the API key {mask(client.api_key)}: {exchange.status} {brief(body)}"
            )
        if exchange.status != 200 or not isinstance(body, dict) or not isinstance(body.get("id"), str):
            return f"the target could not make a {archetype} account: {exchange.status} {brief(body)}"
        account_id = body["id"]
        self.target.ledger.made(account_id, archetype)
        controller = flat_controller(body) or None
        if not controller or not set(requested) <= set(controller):  # as the run's profile learns it
            got = client.retrieve_account(account_id)
            if got.status == 200 and isinstance(got.json, dict):
                controller = {**(controller or {}), **flat_controller(got.json)} or None
        made = self.target.accounts.made
        slot = archetype if archetype not in made else f"{archetype} {len(made)}"
        made[slot] = Account(account_id, archetype, controller, requested, "replay", exchange, form)
        return made[slot]

    def close(self, replayed: Replayed, warn: Callable[[str], None]) -> None:
        """Delete every account made for the cases, once each, through a fresh connection."""
        target = self.target
        pending = target.ledger.pending()
        replayed.made = target.ledger.count
        try:
            if pending:
                client = target.client
                replayed.deleted, replayed.left = delete_accounts(
                    pending,
                    target.base_url,
                    client.api_key,
                    api_version=client.api_version,
                    scheme=client.scheme,
                )
                for account_id in replayed.deleted:
                    target.ledger.gone(account_id)
        finally:
            target.client.close()
        if replayed.left:
            warn(f"conformance: {len(replayed.left)} account(s) could not be deleted:")
            for account_id in replayed.left:
                url = f"{target.base_url}/v1/accounts/{account_id}"
                warn(" ".join(["  curl -sS -X DELETE", url, *key_auth(target.client.scheme)]))

    # -- cases -----------------------------------------------------------------------------
    def case(self, case: dict[str, Any]) -> Verdict:
        request, rules = case["request"], tuple(case["rules"])
        judge, _, mode = str(case["judge"]).partition(":")
        short = _short(request, case["accounts"])
        if judge == "sequence":
            again = case.get("reproduce") or case.get("check") or "the check"
            return Verdict(UNJUDGED, rules, short, f"judged with the requests before it; run: {again}")
        if request.get("exact") is False:
            return Verdict(UNJUDGED, rules, short, "a secret was redacted out of the saved request")
        body = body_bytes(case)
        swapped: dict[str, Account] = {}
        for old_id, spec in case["accounts"].items():
            made = self.account(spec)
            if isinstance(made, str):
                return Verdict(UNJUDGED, rules, short, f"not run: {made}")
            swapped[old_id] = made
            body = body.replace(old_id.encode(), made.id.encode())
        exchange = self.target.client.request(
            str(request["method"]),
            str(request["path"]),
            raw=body,
            content_type=str(request.get("content_type") or _FORM),
            idempotency_key=f"conformance-replay-{uuid.uuid4()}" if request.get("idempotency_key") else None,
            headers={str(k): str(v) for k, v in (request.get("headers") or {}).items()},
        )
        return self.judge(case, exchange, judge, mode, short, swapped)

    def judge(
        self,
        case: dict[str, Any],
        exchange: Exchange,
        judge: str,
        mode: str,
        short: str,
        swapped: dict[str, Account],
    ) -> Verdict:
        """The answer judged as the run judged it, against the same expected answer."""
        rules = tuple(case["rules"])
        checker = Checker(
            self.target, self.oracle, category=case.get("category"), name=str(case.get("check"))
        )
        runner = FuzzRunner(checker, "ci", None, case.get("seed"))
        now, then = fingerprint(expectation(runner, exchange)), case.get("expected")
        if (now or {}).get("digest") != (then or {}).get("digest"):
            return Verdict(UNJUDGED, rules, short, _why_not_the_same(then, now, case["accounts"], swapped))
        archetype = str(case.get("archetype") or "express")
        try:
            if judge == "oracle":
                runner.judge(Case(archetype, {}, label=str(case.get("case"))), exchange)
            else:
                from conformance.fuzz.schema import SchemaCases

                openapi = self.contract.directory / "openapi.yaml"
                SchemaCases(runner, openapi, archetype).judge_exchange(exchange, mode or "recorded")
        except FuzzFailure as failure:
            broken = failure.outcome.failures
            first = broken[0]  # its rule is named in the line already: what it says is left out
            found = first.line().removesuffix(f" -- {first.rule.says} ({first.rule.cite()})")
            more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
            detail = checker.redactor.text(found)[:300] + more
            return Verdict(FAILS, tuple(sorted({f.rule.id for f in broken})), short, detail)
        unjudged = [f for f in runner.kept.values() if f.severity == INCONCLUSIVE]
        if unjudged:
            first = unjudged[0]
            return Verdict(UNJUDGED, rules, short, f"{first.path}: {first.expected}"[:300])
        return Verdict(PASSED, rules, short, f"answered {exchange.status} as expected")


def _why_not_the_same(
    then: dict[str, str] | None,
    now: dict[str, str] | None,
    saved: dict[str, Any],
    swapped: dict[str, Account],
) -> str:
    for old_id, account in swapped.items():
        if saved[old_id].get("controller") != account.controller:
            how = "does not report the" if account.controller is None else "reports another"
            return (
                f"the target {how} controller of the {account.archetype} account now:"
                " the oracle's expected answer is not the run's"
            )
    was, is_ = (then or {}).get("summary", "none"), (now or {}).get("summary", "none")
    differ = f" (then: {was}; now: {is_})" if was != is_ else ""
    return f"the oracle's expected answer is not the run's (the contract changed?){differ}"


def _short(request: dict[str, Any], accounts: dict[str, Any]) -> str:
    """``POST /v1/account_sessions account={express}&components[...]``, cut to :data:`SHORT`."""
    body = str(request["body"])
    for account_id, spec in accounts.items():
        body = body.replace(account_id, "{" + str(spec.get("archetype")) + "}")
    text = " ".join(f"{request['method']} {request['path']} {body}".split())
    return text if len(text) <= SHORT else text[: SHORT - 3] + "..."


def _printable(text: str) -> str:
    """One line a terminal shows: bytes that were not UTF-8 and control characters as ``?``."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else "?" for ch in text)
