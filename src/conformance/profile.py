"""What the target implements, learned before any check: the target profile.

A handful of probes, which also make the run's accounts:

1. ``POST /v1/accounts`` for each archetype, with ``controller[...]`` and, if
   the target refuses that, with the legacy ``type``; whether the answer (or
   ``GET`` of the account) reports the controller. The controller the checks
   judge by is only ever the one the target reported.
2. ``POST /v1/account_sessions`` with the documented example for one of them.
3. A scratch account's life: made, retrieved, deleted, retrieved again, and a
   session asked for it once deleted. The account and lifecycle checks judge
   these exchanges; nobody makes another account for them.

A refused key is a usage error (the run cannot judge anything); a missing
endpoint is a finding: the checks that need it are *not run*, for that one reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.client import Exchange
from conformance.errors import SettingsError
from conformance.forms import encode_form
from conformance.oracle import flat_controller
from conformance.redact import mask
from conformance.target import Account, Target, brief

__all__ = ["LIFECYCLE", "TargetProfile", "learn_profile"]

LIFECYCLE = ("create", "retrieve", "delete", "after_delete", "session_after_delete")
SCRATCH = "express"  # the archetype of the scratch account


@dataclass
class TargetProfile:
    key: str  # masked
    default_key: bool  # no key was given: the embedded mock's test key was used
    scheme: str = "basic"  # how the target took the key: basic, or bearer once basic was refused
    scheme_detail: str = ""  # the refusal of the other scheme, if there was one
    accounts: str = "not probed"  # controller | type | missing | refused
    accounts_detail: str = ""
    controller_reported: bool | None = None
    sessions: str = "not probed"  # implemented | missing
    sessions_detail: str = ""
    lifecycle: dict[str, Exchange] = field(default_factory=dict)

    @property
    def missing(self) -> str | None:
        """Why the Account Sessions checks cannot run here, in one line; None if they can."""
        if self.sessions == "missing":
            return f"{self.sessions_detail}: the target does not implement Account Sessions"
        return None

    @property
    def no_accounts(self) -> str | None:
        """Why the account checks cannot run here, in one line; None if they can."""
        if self.accounts == "missing":
            return f"{self.accounts_detail}: the target does not implement connected accounts"
        return None

    def lines(self) -> list[str]:
        accounts = self.no_accounts or {
            "controller": "made with controller[...]",
            "type": "made with the legacy type (controller[...] refused)",
            "refused": f"refused for every archetype ({self.accounts_detail})",
        }.get(self.accounts, self.accounts)
        if self.accounts in ("controller", "type"):
            reported = (
                "reported"
                if self.controller_reported
                else "NOT reported: defaults that depend on it are inconclusive"
            )
            accounts += f"; controller {reported}"
        lines = [f"POST /v1/accounts            {accounts}"]
        if self.lifecycle:
            shown = ", ".join(f"{name.replace('_', ' ')} {ex.status}" for name, ex in self.lifecycle.items())
            lines.append(f"account lifecycle            {shown}")
        lines.append(f"POST /v1/account_sessions    {self.missing or self.sessions}")
        who = (
            "the embedded mock's test key (no --api-key or STRIPE_API_KEY)" if self.default_key else self.key
        )
        how = f" (as a Bearer token only; {self.scheme_detail})" if self.scheme_detail else ""
        lines.append(f"API key                      accepted: {who}{how}")
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "accounts_detail": self.accounts_detail,
            "controller_reported": self.controller_reported,
            "sessions": self.sessions,
            "sessions_detail": self.sessions_detail,
            "lifecycle": {name: ex.status for name, ex in self.lifecycle.items()},
            "key": self.key,
            "scheme": self.scheme,
            "missing": self.no_accounts or self.missing,
        }


def _status_line(exchange: Exchange) -> str:
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(exchange.status).phrase
    except ValueError:
        phrase = ""
    said = brief(exchange.json, 160)
    return f"{exchange.method} {exchange.path} → {exchange.status} {phrase}".rstrip() + (
        f" ({said!r})" if said else ""
    )


def _route_missing(exchange: Exchange) -> bool:
    """A 404/405 that is not about a parameter: the path itself is unknown there."""
    if exchange.status not in (404, 405):
        return False
    body = exchange.json
    error = body.get("error") if isinstance(body, dict) else None
    return not (isinstance(error, dict) and error.get("param"))


def _refused_key(target: Target, exchange: Exchange, profile: TargetProfile) -> SettingsError:
    hint = (
        "; no key was given, so the embedded mock's test key was sent: pass --api-key or set STRIPE_API_KEY"
        if profile.default_key
        else "; check --api-key / STRIPE_API_KEY"
    )
    return SettingsError(f"the target refused the API key {profile.key}: {_status_line(exchange)}{hint}")


def _other_scheme(
    target: Target, params: dict[str, Any], refused: Exchange, profile: TargetProfile
) -> Exchange:
    """The key refused as HTTP Basic: asked again as a Bearer token, once. If that is
    taken, the run sends the key that way (the auth checks still judge both)."""
    client = target.client
    if client.scheme != "basic" or profile.scheme_detail:
        raise _refused_key(target, refused, profile)
    client.scheme = "bearer"
    exchange = client.create_account(params)
    if exchange.status == 401:
        client.scheme = "basic"
        raise _refused_key(target, refused, profile)
    profile.scheme = "bearer"
    profile.scheme_detail = f"HTTP Basic refused: {_status_line(refused)}"
    return exchange


def _account_params(target: Target, archetype: str, via: str) -> dict[str, Any]:
    conv = target.contract.conventions
    spec = conv["archetypes"][archetype]
    params: dict[str, Any] = (
        {"controller": spec["controller"]} if via == "controller" else {"type": spec["legacy_type"]}
    )
    if target.livemode:
        live = conv["live_account_params"]
        params["country"] = live["country"]
        if archetype in live["capabilities_for"]:
            params["capabilities"] = {c: {"requested": True} for c in live["capabilities"]}
    return params


def _make(
    target: Target, archetype: str, ways: list[str], profile: TargetProfile, what: str
) -> Account | str:
    """One account of ``archetype``, made the first way the target takes; else why not."""
    spec = target.contract.conventions["archetypes"][archetype]
    answers = []
    for via in ways:
        params = _account_params(target, archetype, via)
        exchange = target.client.create_account(params)
        if exchange.status == 401:
            exchange = _other_scheme(target, params, exchange, profile)
        body = exchange.json
        if exchange.status == 200 and isinstance(body, dict) and isinstance(body.get("id"), str):
            target.ledger.made(body["id"], what)
            requested = flat_controller({"controller": spec["controller"]})
            reported = flat_controller(body) or None
            return Account(body["id"], archetype, reported, requested, via, exchange, encode_form(params))
        answers.append(_status_line(exchange))
        if _route_missing(exchange):
            profile.accounts = "missing"
            break
    return f"the target could not create a {spec['label']} account: {'; '.join(answers)}"


def learn_profile(target: Target, *, default_key: bool) -> TargetProfile:
    """Probe the target, make the run's accounts (recorded in the target's ledger)."""
    client = target.client
    profile = TargetProfile(mask(client.api_key), default_key)
    ways = ["controller", "type"]
    for archetype in target.contract.archetypes:
        made = _make(target, archetype, ways, profile, archetype)
        if isinstance(made, str):
            target.accounts.failed[archetype] = made
            if profile.accounts == "missing":
                profile.accounts_detail = made.split(": ", 1)[-1]
                reason = f"{profile.accounts_detail}: the target does not implement connected accounts"
                for other in target.contract.archetypes:
                    target.accounts.failed[other] = reason
                break
            continue
        target.accounts.made[archetype] = made
        ways = [made.via]  # the others are made the same way
    if target.accounts.made:
        first = next(iter(target.accounts.made.values()))
        profile.accounts = first.via
        _learn_controllers(target, profile)
    elif profile.accounts != "missing":
        profile.accounts = "refused"
        profile.accounts_detail = next(iter(target.accounts.failed.values()), "").split(": ", 1)[-1]
    _probe_sessions(target, profile)
    if target.accounts.made:
        _lifecycle(target, profile)
    return profile


def _learn_controllers(target: Target, profile: TargetProfile) -> None:
    """The controller of each account as the target reports it (the answer to its
    creation, else ``GET``); whether every field asked for is reported."""
    complete = True
    for account in target.accounts.made.values():
        if not account.controller or not set(account.requested) <= set(account.controller):
            got = target.client.retrieve_account(account.id)
            if got.status == 200 and isinstance(got.json, dict):
                account.controller = {**(account.controller or {}), **flat_controller(got.json)} or None
        reported = account.controller or {}
        complete = complete and set(account.requested) <= set(reported)
    profile.controller_reported = complete


def _probe_sessions(target: Target, profile: TargetProfile) -> None:
    example = dict(target.contract.examples["create_account_session.request"]["params"])
    made = target.accounts.made
    example["account"] = (
        made[SCRATCH].id
        if SCRATCH in made
        else next(iter(made.values())).id
        if made
        else "acct_1ConformanceProbe"
    )
    exchange = target.client.create_session(example)
    if exchange.status == 401:
        raise _refused_key(target, exchange, profile)
    if _route_missing(exchange):
        profile.sessions = "missing"
        profile.sessions_detail = _status_line(exchange)
    else:
        profile.sessions = "implemented"


def _lifecycle(target: Target, profile: TargetProfile) -> None:
    """A scratch account made, read, deleted, read again, and asked a session for."""
    client = target.client
    via = next(iter(target.accounts.made.values())).via
    params = _account_params(target, SCRATCH, via)
    life = profile.lifecycle
    life["create"] = client.create_account(params)
    body = life["create"].json
    if life["create"].status != 200 or not isinstance(body, dict) or not isinstance(body.get("id"), str):
        return
    account_id = body["id"]
    target.ledger.made(account_id, "lifecycle")
    life["retrieve"] = client.retrieve_account(account_id)
    life["delete"] = client.delete_account(account_id)
    if life["delete"].status == 200:
        target.ledger.gone(account_id)
    life["after_delete"] = client.retrieve_account(account_id)
    if profile.sessions == "implemented":
        example = dict(target.contract.examples["create_account_session.request"]["params"])
        life["session_after_delete"] = client.create_session({**example, "account": account_id})
