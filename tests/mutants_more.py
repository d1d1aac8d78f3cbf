"""Mutants made from the catalogue itself, so that every rule has one that breaks it:

- every documented default, answered the other way wherever it applies (a rule
  graded example-only gives a note, not a failure: its mutant is a *note* mutant);
- every constraint, unenforced, and enforced where it does not apply;
- the conventions the hand-written catalogue (tests/mutants.py) does not reach;
- the SDK gate's rules, each broken by an adapter of its own (tests/sdk_*.py).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

from starlette.applications import Starlette

from conformance.catalogue import Grade, catalogue
from conformance.contracts.model import Contract
from conformance.forms import FormError, decode_form
from conformance.mock import Behaviour, create_app
from conformance.oracle import ExpectedSession

Reply = tuple[int, dict[str, Any]]
Build = Callable[[Contract], Starlette]


def _app(behaviour: type[Behaviour]) -> Build:
    return lambda contract: create_app(contract, behaviour(contract))


def flipped_default(component: str, feature: str) -> Build:
    """``feature`` of ``component`` answered the other way wherever it is at its default."""

    class Flipped(Behaviour):
        def session_body(self, expected: ExpectedSession) -> dict[str, Any]:
            body = super().session_body(expected)
            rule = expected.rules.get((component, "features", feature))
            features = body["components"][component]["features"]
            if (
                rule is not None
                and rule.id.startswith("default:")
                and isinstance(features.get(feature), bool)
            ):
                features[feature] = not features[feature]
            return body

    return _app(Flipped)


def unenforced(constraint_id: str) -> Build:
    def build(contract: Contract) -> Starlette:
        kept = tuple(c for c in contract.constraints if c.id != constraint_id)
        return create_app(dataclasses.replace(contract, constraints=kept))

    return build


def over_enforced(component: str, feature: str, value: bool) -> Build:
    """``feature=value`` of ``component`` refused for every account, as if forbidden to all."""

    class Refusing(Behaviour):
        def create_session(self, params: Mapping[str, Any], key: str) -> Reply:
            comps = params.get("components")
            conf = comps.get(component) if isinstance(comps, dict) else None
            features = conf.get("features") if isinstance(conf, dict) else None
            if isinstance(features, dict) and features.get(feature) == str(value).lower():
                param = f"components[{component}][features][{feature}]"
                return self.error(400, "invalid_request_error", "Not allowed.", param=param)
            return super().create_session(params, key)

    return _app(Refusing)


class OneSchemeOnly(Behaviour):
    """Accepts the key as a Bearer token only (HTTP Basic refused)."""

    def scheme_refused(self, scheme: str | None) -> Reply | None:
        return self.error(401, "invalid_request_error", "Use a Bearer token.") if scheme == "basic" else None


class BasicOnly(Behaviour):
    def scheme_refused(self, scheme: str | None) -> Reply | None:
        return self.error(401, "invalid_request_error", "Use HTTP Basic.") if scheme == "bearer" else None


class ObjectsTakenAsValues(Behaviour):
    """An object or a list where a value belongs is read as its first value."""

    def create_session(self, params: Mapping[str, Any], key: str) -> Reply:
        def flatten(value: Any) -> Any:
            if isinstance(value, dict):
                if set(value) <= {"enabled", "features"} and value:
                    return {k: flatten(v) for k, v in value.items()}
                return next(iter(value.values()), "") if value else ""
            return value[0] if isinstance(value, list) and value else value

        comps = params.get("components")
        if isinstance(comps, dict):
            params = {
                **params,
                "components": {
                    name: {k: (v if k == "features" else flatten(v)) for k, v in conf.items()}
                    if isinstance(conf, dict)
                    else conf
                    for name, conf in comps.items()
                },
            }
        return super().create_session(params, key)


class SometimesRefused(Behaviour):
    """A valid request for an express account refused as if invalid (no param)."""

    def create_session(self, params: Mapping[str, Any], key: str) -> Reply:
        status, body = super().create_session(params, key)
        account = self.accounts.get(str(params.get("account"))) or {}
        if status == 200 and account.get("controller.stripe_dashboard.type") == "express":
            return self.error(400, "invalid_request_error", "Not today.")
        return status, body


class BareErrors(Behaviour):
    """Refusals whose body is not a Stripe error: ``{"message": ...}``."""

    def error(self, status: int, type_: str, message: str, **kw: Any) -> Reply:
        return status, {"message": message}


class OtherCodes(Behaviour):
    """Error codes of its own (a free detail: a note)."""

    def error(self, status: int, type_: str, message: str, **kw: Any) -> Reply:
        if kw.get("code"):
            kw["code"] = "x_" + kw["code"]
        return super().error(status, type_, message, **kw)


class UnreadableBodies:
    """ASGI wrapper: a POST body that is not a bracket form (``=``, ``[0]=x``) answered
    with ``status`` and ``body`` instead of the mock's 400."""

    def __init__(self, app: Starlette, status: int, body: dict[str, Any]) -> None:
        self.app, self.status, self.body = app, status, json.dumps(body).encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        try:
            decode_form(raw.decode("utf-8", "replace"))
        except FormError:
            headers = [(b"content-type", b"application/json"), (b"request-id", b"req_unreadable")]
            await send({"type": "http.response.start", "status": self.status, "headers": headers})
            return await send({"type": "http.response.body", "body": self.body})

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        return await self.app(scope, replay, send)


def unreadable_bodies(status: int, body: dict[str, Any]) -> Build:
    return lambda contract: UnreadableBodies(create_app(contract), status, body)


def sdk_adapter(module: str) -> str:
    """The command of a broken adapter: a module of its own, or a fault of tests/sdk_faults.py."""
    if module in ("booleans_as_python", "drops_features", "loses_field"):
        return f"{sys.executable} -m tests.sdk_{module}"
    return f"{sys.executable} -m tests.sdk_faults {module}"


def generated(contract: Contract) -> list[dict[str, Any]]:
    """The catalogue-made mutants, as the keyword arguments of a Mutant."""
    rules = catalogue(contract)
    made: list[dict[str, Any]] = []
    for comp in contract.components.values():
        for feat in comp.features.values():
            if feat.default is None:
                continue
            rule = rules[f"default:{comp.name}.{feat.name}"]
            made.append(
                {
                    "name": f"default_flipped:{comp.name}.{feat.name}",
                    "kind": "fault" if rule.grade != Grade.EXAMPLE_ONLY else "note",
                    "rules": (rule.id,),
                    "build": flipped_default(comp.name, feat.name),
                    "select": "defaults or shape",
                }
            )
    for c in contract.constraints:
        for how, build in (
            ("unenforced", unenforced(c.id)),
            ("over_enforced", over_enforced(c.component, c.feature, c.value)),
        ):
            made.append(
                {
                    "name": f"constraint_{how}:{c.id}",
                    "kind": "fault",
                    "rules": (f"constraint:{c.id}",),
                    "build": build,
                    "select": "validation",
                }
            )
    return made


CONVENTIONS: list[dict[str, Any]] = [
    {"name": "bearer_only", "rules": ("auth.basic",), "build": _app(OneSchemeOnly), "select": "auth"},
    {"name": "basic_only", "rules": ("auth.bearer",), "build": _app(BasicOnly), "select": "auth"},
    {
        "name": "objects_taken_as_values",
        "rules": ("validation.invalid_value",),
        "build": _app(ObjectsTakenAsValues),
        "select": "validation",
    },
    {
        "name": "valid_requests_refused",
        "rules": ("session.created",),
        "build": _app(SometimesRefused),
        "select": "shape or defaults",
    },
    {"name": "bare_errors", "rules": ("error.shape",), "build": _app(BareErrors), "select": "validation"},
    {
        "name": "other_error_codes",
        "kind": "note",
        "rules": ("error.code",),
        "build": _app(OtherCodes),
        "select": "validation",
    },
    {
        "name": "teapot_for_unreadable_bodies",
        "rules": ("schemathesis.status_code_conformance",),
        "build": unreadable_bodies(418, {"error": {"type": "invalid_request_error", "message": "Teapot."}}),
        "select": "schemathesis",
    },
    {
        "name": "unreadable_bodies_accepted",
        "rules": ("schemathesis.negative_data_rejection",),
        "build": unreadable_bodies(200, {"object": "account_session"}),
        "select": "schemathesis",
    },
]

# SDK adapters broken on purpose: (module, the rules it breaks, -k, the kind of mutant)
SDK: list[tuple[str, tuple[str, ...], str, str]] = [
    ("booleans_as_python", ("sdk.request.booleans",), "every_feature and payments", "fault"),
    ("drops_features", ("sdk.request.params",), "every_feature and payments", "fault"),
    ("loses_field", ("sdk.parsed",), "example", "fault"),
    ("sends_twice", ("sdk.request.once",), "example", "fault"),
    ("wrong_endpoint", ("sdk.request.endpoint", "sdk.case"), "example", "fault"),
    ("json_body", ("sdk.request.content_type",), "example", "fault"),
    ("no_key", ("sdk.request.auth",), "example", "fault"),
    ("forgets_key", ("sdk.request.idempotency_key",), "idempotency_key", "fault"),
    ("forgets_version", ("sdk.request.stripe_version",), "idempotency_key", "fault"),
    ("adds_field", ("sdk.parsed.extra",), "example", "benign"),
    ("error_without_param", ("sdk.error",), "error and account_missing", "fault"),
    ("error_other_code", ("sdk.error.code",), "error and account_missing", "note"),
]
