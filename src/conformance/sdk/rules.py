"""The rules an SDK keeps: what it sends for a create, and what it makes of the answer."""

from __future__ import annotations

from conformance.oracle import Rule

__all__ = ["RULES"]

_WIRE = ("STRIPE_WIRE.md#wire-protocol",)
_CREATE = ("create_account_session.md#parameters", "STRIPE_WIRE.md#wire-protocol")
_OBJECT = ("account_session_object.md#attributes", "create_account_session.md#example")


def _rule(rule_id: str, says: str, sources: tuple[str, ...] = _WIRE, *, free: bool = False) -> Rule:
    return Rule(rule_id, "convention", sources, says, free)


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        _rule(
            "sdk.request.once", "one create call sends exactly one request (the adapter asks for no retries)"
        ),
        _rule(
            "sdk.request.endpoint", "a create is POST /v1/account_sessions with the parameters in the body"
        ),
        _rule("sdk.request.content_type", "the body is sent as application/x-www-form-urlencoded"),
        _rule(
            "sdk.request.params",
            "every parameter given is sent at its bracket path with its value, and nothing else",
            _CREATE,
        ),
        _rule("sdk.request.booleans", "booleans travel as the strings true and false"),
        _rule("sdk.request.auth", "the key is sent as the HTTP Basic user name or as Authorization: Bearer"),
        _rule(
            "sdk.request.idempotency_key", "an idempotency key given is sent as the Idempotency-Key header"
        ),
        _rule("sdk.request.stripe_version", "an API version given is sent as the Stripe-Version header"),
        _rule(
            "sdk.parsed", "the SDK's object holds every field of the answer, with the value received", _OBJECT
        ),
        _rule(
            "sdk.parsed.extra",
            "a field the SDK adds that the answer did not have is drift, not a fault",
            _OBJECT,
        ),
        _rule("sdk.error", "the SDK's error carries the status, error type and param of the answer"),
        _rule("sdk.error.code", "the SDK's error carries the error code of the answer", free=True),
        _rule(
            "sdk.case",
            "the target answers the request the way the case needs (a session, or the error it is about)",
            ("STRIPE_WIRE.md#account-sessions-rules",),
        ),
    )
}
