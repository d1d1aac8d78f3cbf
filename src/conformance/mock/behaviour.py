"""What the embedded mock answers, one overridable method per decision.

The HTTP plumbing lives in :mod:`conformance.mock.app`; this class decides.
It answers Account Sessions through the oracle (the one place that knows the
expected response), and keeps the connected accounts. Fault-injected variants
(``tests/faults.py``) subclass it and override a single method.
"""

from __future__ import annotations

import copy
import os
import string
import threading
import time
from collections.abc import Mapping
from typing import Any

from conformance.contracts.model import Contract
from conformance.forms import bracket_path
from conformance.mock.state import AccountStore
from conformance.oracle import ExpectedError, ExpectedSession, Oracle, flat_controller
from conformance.redact import mask

__all__ = ["Behaviour", "Reply"]

Reply = tuple[int, dict[str, Any]]
_ALNUM = string.ascii_letters + string.digits
_CONTROLLER_CHOICES = {
    ("fees", "payer"): ("account", "application"),
    ("losses", "payments"): ("application", "stripe"),
    ("requirement_collection",): ("application", "stripe"),
    ("stripe_dashboard", "type"): ("express", "full", "none"),
}
_ACCOUNT_PARAMS = {
    "type",
    "controller",
    "country",
    "email",
    "capabilities",
    "metadata",
    "business_type",
    "expand",
}


# Tokens are letters and digits from os.urandom, as secrets.choice gave them, but
# drawn 4 KiB at a time instead of one system call a character (that was a third
# of the mock's time). A byte maps to _ALNUM[byte % 62]; the top 8 values
# (256 % 62) are dropped so that every character stays equally likely.
_TO_ALNUM = (_ALNUM * 4).encode().ljust(256, b"\0")
_DROP = bytes(range(248, 256))
_pool = bytearray()
_pool_lock = threading.Lock()


def _token(length: int) -> str:
    with _pool_lock:
        while len(_pool) < length:
            _pool.extend(os.urandom(4096).translate(_TO_ALNUM, _DROP))
        token = _pool[:length].decode()
        del _pool[:length]
    return token


def _forget_pool() -> None:  # a forked child must not hand out its parent's next tokens
    global _pool_lock
    _pool.clear()
    _pool_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


class Behaviour:
    session_lifetime = 1800
    idempotency = True  # honour Idempotency-Key (replay and conflict)
    media_type = "application/json"

    def answer_headers(self) -> dict[str, str]:
        """Headers every answer carries."""
        return {"Request-Id": "req_" + _token(14)}

    # -- idempotency (the app keeps the answers; these decide) -----------------------------
    def stores(self, status: int) -> bool:
        """Whether an answer is kept for replay: successes only."""
        return 200 <= status < 300

    def replays(self, first: str, again: str) -> bool:
        """Whether a request with a used key replays (same parameters) or conflicts."""
        return first == again

    def replay_headers(self) -> dict[str, str]:
        return {"Idempotent-Replayed": "true"}

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.oracle = Oracle(contract)
        self.accounts = AccountStore()
        conv = contract.conventions
        self.live_prefixes = tuple(conv["keys"]["live_prefixes"])
        self.well_formed = tuple(conv["keys"]["well_formed_prefixes"])
        self.archetypes: dict[str, dict[str, Any]] = conv["archetypes"]

    # -- errors ------------------------------------------------------------------
    def error(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
    ) -> Reply:
        error: dict[str, Any] = {"type": type_, "message": message}
        if code:
            error["code"] = code
            error["doc_url"] = f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}"
        if param is not None:
            error["param"] = param
        return status, {"error": error}

    def expected_error(self, expected: ExpectedError, params: Mapping[str, Any]) -> Reply:
        return self.error(
            expected.status,
            expected.type,
            self.message(expected, params),
            param=expected.param,
            code=expected.code,
        )

    def message(self, expected: ExpectedError, params: Mapping[str, Any]) -> str:
        param = expected.param or ""
        rule = expected.rule.id
        if rule == "validation.parameter_missing":
            return f"Missing required param: {param}."
        if rule == "validation.parameter_unknown":
            return f"Received unknown parameter: {param}"
        if rule == "validation.invalid_boolean":
            return f"Invalid boolean for {param}: use true or false."
        if rule == "validation.resource_missing":
            return f"No such account: '{params.get('account')}'"
        if rule.startswith("constraint:"):
            return f"Invalid value for {param}: {expected.rule.says.split(' (of ')[0]}."
        if expected.code == "parameter_invalid_empty":
            return f"Invalid empty value for {param}: it cannot be empty."
        return f"Invalid value for {param}."

    # -- authentication ------------------------------------------------------------
    def authenticate(self, key: str | None) -> Reply | None:
        """None when the key is acceptable; else the 401 to answer."""
        if not key:
            return self.error(
                401,
                "invalid_request_error",
                "You did not provide an API key: send it as HTTP Basic user name or as a Bearer token.",
            )
        prefix = next((p for p in self.well_formed if key.startswith(p)), None)
        if prefix is None or not key[len(prefix) :].isalnum() or not key.isascii():
            return self.error(401, "invalid_request_error", f"Invalid API Key provided: {mask(key)}")
        return None

    def scheme_refused(self, scheme: str | None) -> Reply | None:
        """None when the key may come this way (HTTP Basic or Bearer: both are taken)."""
        return None

    def livemode(self, key: str) -> bool:
        return key.startswith(self.live_prefixes)

    # -- account sessions ------------------------------------------------------------
    def create_session(self, params: Mapping[str, Any], key: str) -> Reply:
        expected = self.oracle.expect(params, self.accounts, livemode=self.livemode(key))
        if isinstance(expected, ExpectedError):
            return self.expected_error(expected, params)
        return 200, self.session_body(expected)

    def session_body(self, expected: ExpectedSession) -> dict[str, Any]:
        return {
            "object": "account_session",
            "account": expected.account,
            "client_secret": self.client_secret(),
            "expires_at": int(time.time()) + self.session_lifetime,
            "livemode": expected.livemode,
            "components": expected.components,
        }

    def client_secret(self) -> str:
        return "_" + _token(48)

    # -- connected accounts ----------------------------------------------------------
    def create_account(self, params: Mapping[str, Any], key: str) -> Reply:
        for name in params:
            if name not in _ACCOUNT_PARAMS:
                return self.error(
                    400,
                    "invalid_request_error",
                    f"Received unknown parameter: {name}",
                    param=name,
                    code="parameter_unknown",
                )
        legacy = params.get("type")
        archetype = "full"
        if legacy is not None:
            matches = [a for a, info in self.archetypes.items() if info["legacy_type"] == legacy]
            if not matches:
                return self.error(
                    400,
                    "invalid_request_error",
                    f"Invalid value for type: {legacy}.",
                    param="type",
                    code="parameter_invalid",
                )
            archetype = matches[0]
        given = params.get("controller") or {}
        if not isinstance(given, Mapping):
            return self.error(
                400, "invalid_request_error", "Invalid value for controller.", param="controller"
            )
        dashboard = (
            (given.get("stripe_dashboard") or {}).get("type")
            if isinstance(given.get("stripe_dashboard"), Mapping)
            else None
        )
        if legacy is None and dashboard is not None:
            archetype = next(
                (
                    a
                    for a, i in self.archetypes.items()
                    if i["controller"]["stripe_dashboard"]["type"] == dashboard
                ),
                archetype,
            )
        controller = copy.deepcopy(self.archetypes[archetype]["controller"])
        problem = self._apply_controller(controller, given, ("controller",))
        if problem is not None:
            return problem
        controller["is_controller"] = True
        controller["type"] = "account" if legacy == "standard" else "application"
        account = {
            "id": "acct_1" + _token(15),
            "object": "account",
            "type": self.archetypes[archetype]["legacy_type"] if legacy is None else legacy,
            "controller": controller,
            "country": params.get("country", "US"),
            "created": int(time.time()),
            "livemode": self.livemode(key),
        }
        self.accounts.add(account, flat_controller(account))
        return 200, account

    def _apply_controller(
        self, into: dict[str, Any], given: Mapping[str, Any], where: tuple[str, ...]
    ) -> Reply | None:
        for name, value in given.items():
            path = (*where, name)
            rel = path[1:]
            if isinstance(value, Mapping):
                if not any(k[: len(rel)] == rel for k in _CONTROLLER_CHOICES):
                    return self._unknown(path)
                problem = self._apply_controller(into.setdefault(name, {}), value, path)
                if problem is not None:
                    return problem
            elif rel in _CONTROLLER_CHOICES:
                if value not in _CONTROLLER_CHOICES[rel]:
                    return self.error(
                        400,
                        "invalid_request_error",
                        f"Invalid value for {bracket_path(path)}: {value}.",
                        param=bracket_path(path),
                        code="parameter_invalid",
                    )
                into[name] = value
            else:
                return self._unknown(path)
        return None

    def _unknown(self, path: tuple[str, ...]) -> Reply:
        param = bracket_path(path)
        return self.error(
            400,
            "invalid_request_error",
            f"Received unknown parameter: {param}",
            param=param,
            code="parameter_unknown",
        )

    def retrieve_account(self, account_id: str) -> Reply:
        account = self.accounts.get_account(account_id)
        if account is None:
            return self._no_such_account(account_id)
        return 200, account

    def delete_account(self, account_id: str) -> Reply:
        if not self.accounts.remove(account_id):
            return self._no_such_account(account_id)
        return 200, {"id": account_id, "object": "account", "deleted": True}

    def _no_such_account(self, account_id: str) -> Reply:
        return self.error(
            404,
            "invalid_request_error",
            f"No such account: '{account_id}'",
            param="account",
            code="resource_missing",
        )
