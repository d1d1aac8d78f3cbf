"""Fault-injected variants of the embedded mock: each breaks one documented or
conventional rule, and names the rule the suites must report for it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from conformance.contracts.model import Contract
from conformance.mock import Behaviour, create_app
from conformance.oracle import ExpectedError, ExpectedSession


@dataclass(frozen=True)
class Fault:
    name: str
    rule: str  # a rule id (or prefix ending in ':') the suites must name
    build: Callable[[Contract], Starlette]


def _with(behaviour: type[Behaviour]) -> Callable[[Contract], Starlette]:
    return lambda contract: create_app(contract, behaviour(contract))


class WrongDefault(Behaviour):
    """payouts.instant_payouts answers the opposite of its documented default."""

    def session_body(self, expected: ExpectedSession) -> dict[str, Any]:
        body = super().session_body(expected)
        if expected.rules[("payouts", "features", "instant_payouts")].id.startswith("default:"):
            features = body["components"]["payouts"]["features"]
            features["instant_payouts"] = not features["instant_payouts"]
        return body


class MissingComponent(Behaviour):
    def session_body(self, expected: ExpectedSession) -> dict[str, Any]:
        body = super().session_body(expected)
        del body["components"]["tax_settings"]
        return body


class ValidationAnswers500(Behaviour):
    def create_session(self, params: Mapping[str, Any], key: str) -> tuple[int, dict[str, Any]]:
        expected = self.oracle.expect(params, self.accounts, livemode=False)
        if isinstance(expected, ExpectedError) and expected.rule.id == "validation.parameter_missing":
            return self.error(500, "api_error", "Something went wrong.")
        return super().create_session(params, key)


class EnabledIgnored(Behaviour):
    def session_body(self, expected: ExpectedSession) -> dict[str, Any]:
        body = super().session_body(expected)
        for component in body["components"].values():
            component["enabled"] = False
        return body


class SecretReused(Behaviour):
    def client_secret(self) -> str:
        return "_always_the_same_secret"


class FalseReadAsTrue(Behaviour):
    def create_session(self, params: Mapping[str, Any], key: str) -> tuple[int, dict[str, Any]]:
        status, body = super().create_session(params, key)
        if status == 200:
            for name, given in (params.get("components") or {}).items():
                for feat, value in (given.get("features") or {}).items():
                    if value == "false":
                        body["components"][name]["features"][feat] = True
        return status, body


class ShortParam(Behaviour):
    """Errors name the last bracket segment instead of the full bracket path."""

    def create_session(self, params: Mapping[str, Any], key: str) -> tuple[int, dict[str, Any]]:
        status, body = super().create_session(params, key)
        if status == 400 and isinstance(body["error"].get("param"), str):
            body["error"]["param"] = body["error"]["param"].rstrip("]").split("[")[-1]
        return status, body


class LivemodeWrong(Behaviour):
    def livemode(self, key: str) -> bool:
        return True


class NoAuth(Behaviour):
    def authenticate(self, key: str | None) -> tuple[int, dict[str, Any]] | None:
        return None


class NoIdempotency(Behaviour):
    idempotency = False


class PairDropsEnabled(Behaviour):
    """Only when issuing_card and tax_settings come together: tax_settings is answered disabled."""

    def create_session(self, params: Mapping[str, Any], key: str) -> tuple[int, dict[str, Any]]:
        status, body = super().create_session(params, key)
        asked = params.get("components") or {}
        if status == 200 and {"issuing_card", "tax_settings"} <= set(asked):
            body["components"]["tax_settings"]["enabled"] = False
        return status, body


class NoDashboardDisabledEcho(Behaviour):
    """Only for accounts whose platform collects requirements: a component requested
    disabled has its explicit features answered at their defaults."""

    def create_session(self, params: Mapping[str, Any], key: str) -> tuple[int, dict[str, Any]]:
        status, body = super().create_session(params, key)
        controller = self.accounts.get(str(params.get("account"))) or {}
        if status != 200 or controller.get("controller.requirement_collection") != "application":
            return status, body
        for name, given in (params.get("components") or {}).items():
            if given.get("enabled") == "false" and given.get("features"):
                defaults = self.contract.effective_features(name, {}, controller)
                for feat in given["features"]:
                    body["components"][name]["features"][feat] = defaults[feat]
        return status, body


# Faults no hand-written case of the core suites catches: only generated cases do.
FUZZ_ONLY_FAULTS = [
    Fault("pair_drops_enabled", "session.enabled", _with(PairDropsEnabled)),
    Fault("no_dashboard_disabled_echo", "session.feature_echo", _with(NoDashboardDisabledEcho)),
]


def _no_constraints(contract: Contract) -> Starlette:
    return create_app(dataclasses.replace(contract, constraints=()))


FAULTS = [
    Fault("wrong_default", "default:payouts.instant_payouts", _with(WrongDefault)),
    Fault("unenforced_constraint", "constraint:", _no_constraints),
    Fault("missing_component", "session.components", _with(MissingComponent)),
    Fault("validation_500", "validation.parameter_missing", _with(ValidationAnswers500)),
    Fault("enabled_ignored", "session.enabled", _with(EnabledIgnored)),
    Fault("client_secret_reused", "session.client_secret_unique", _with(SecretReused)),
    Fault("false_read_as_true", "session.feature_echo", _with(FalseReadAsTrue)),
    Fault("short_error_param", "validation.parameter_unknown", _with(ShortParam)),
    Fault("livemode_wrong", "session.livemode", _with(LivemodeWrong)),
    Fault("auth_not_enforced", "auth.no_key", _with(NoAuth)),
    Fault("idempotency_ignored", "idempotency.replay", _with(NoIdempotency)),
]
