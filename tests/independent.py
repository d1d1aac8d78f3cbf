"""A second, independent implementation of the Account Sessions API, for tests.

Written from the API reference pages and STRIPE_WIRE.md without any of the
toolkit's code (no contracts, no oracle, no form decoder): if the suites only
passed because the embedded mock shares their code, this server would fail
them. It also differs from the embedded mock wherever the rules leave room:
its client secrets, its expiry window, its error wording and codes, its key
order and Request-Id format.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# feature defaults, read off the docs: True/False, "loss" (true when Stripe owns
# losses), or "not_eac" (the opposite of external_account_collection)
AUTH = {"disable_stripe_user_authentication": "not_eac", "external_account_collection": True}
PAYOUT = {"edit_payout_schedule": "loss", "instant_payouts": "loss", "standard_payouts": "loss"}
PAYMENT = {
    "capture_payments": True,
    "destination_on_behalf_of_charge_management": False,
    "dispute_management": True,
    "refund_management": True,
}
ISSUING = {
    "card_management": False,
    "card_spend_dispute_management": False,
    "cardholder_management": False,
    "spend_control_management": False,
}
COMPONENTS = {
    "account_management": dict(AUTH),
    "account_onboarding": dict(AUTH),
    "balances": {**AUTH, **PAYOUT},
    "disputes_list": dict(PAYMENT),
    "documents": {},
    "financial_account": {**AUTH, "send_money": False, "transfer_balance": False},
    "financial_account_transactions": {"card_spend_dispute_management": False},
    "instant_payouts_promotion": {**AUTH, "instant_payouts": "loss"},
    "issuing_card": dict(ISSUING),
    "issuing_cards_list": {**ISSUING, "disable_stripe_user_authentication": False},
    "notification_banner": dict(AUTH),
    "payment_details": dict(PAYMENT),
    "payment_disputes": {k: v for k, v in PAYMENT.items() if k != "capture_payments"},
    "payments": dict(PAYMENT),
    "payout_details": {},
    "payouts": {**AUTH, **PAYOUT},
    "payouts_list": {},
    "tax_registrations": {},
    "tax_settings": {},
}
RESPONSE_ONLY = {"financial_account": {"money_movement": False}}
KINDS = {  # legacy type -> (dashboard, fees payer, losses, requirement collection)
    "standard": ("full", "account", "stripe", "stripe"),
    "express": ("express", "application", "application", "stripe"),
    "custom": ("none", "application", "application", "application"),
}


class Bad(Exception):
    def __init__(self, status: int, kind: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.param = status, kind, message, param


def parse(body: bytes) -> dict:
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body), errors="strict"
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise Bad(400, "invalid_request_error", f"Could not read the form: {exc}") from exc
    out: dict = {}
    for key, value in pairs:
        m = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        if not m:
            raise Bad(400, "invalid_request_error", f"Bad key {key}")
        path = [m.group(1), *re.findall(r"\[([^\[\]]*)\]", m.group(2))]
        node = out
        for i, part in enumerate(path[:-1]):
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise Bad(
                    400,
                    "invalid_request_error",
                    "Conflict",
                    path[0] + "".join(f"[{p}]" for p in path[1 : i + 1]),
                )
            node = nxt
        if path[-1] in node:
            raise Bad(400, "invalid_request_error", "Duplicate", key)
        node[path[-1]] = value
    return out


def boolean(value, param: str) -> bool:
    if value == "true":
        return True
    if value == "false":
        return False
    raise Bad(400, "invalid_request_error", f"'{value}' is not a boolean.", param)


class Server:
    def __init__(self) -> None:
        self.accounts: dict[str, dict] = {}
        self.replays: dict[tuple[str, str], tuple[str, int, bytes]] = {}

    def session(self, p: dict, key: str) -> dict:
        for name in p:
            if name not in ("account", "components", "expand"):
                raise Bad(400, "invalid_request_error", f"Unknown parameter {name}", name)
        if "account" not in p:
            raise Bad(400, "invalid_request_error", "account is required", "account")
        if "components" not in p:
            raise Bad(400, "invalid_request_error", "components is required", "components")
        comps = p["components"]
        if not isinstance(comps, dict):
            raise Bad(400, "invalid_request_error", "components must be a hash", "components")
        asked: dict = {}
        for name, conf in comps.items():
            where = f"components[{name}]"
            if name not in COMPONENTS:
                raise Bad(400, "invalid_request_error", f"Unknown parameter {where}", where)
            if not isinstance(conf, dict):
                raise Bad(400, "invalid_request_error", f"{where} must be a hash", where)
            if "enabled" not in conf:
                raise Bad(
                    400,
                    "invalid_request_error",
                    f"{where}[enabled] is required",
                    f"{where}[enabled]",
                )
            enabled = boolean(conf["enabled"], f"{where}[enabled]")
            features = conf.get("features", {})
            if not isinstance(features, dict):
                raise Bad(400, "invalid_request_error", "features must be a hash", f"{where}[features]")
            given = {}
            for feat, value in features.items():
                fwhere = f"{where}[features][{feat}]"
                if feat not in COMPONENTS[name]:
                    raise Bad(400, "invalid_request_error", f"Unknown parameter {fwhere}", fwhere)
                given[feat] = boolean(value, fwhere)
            for k in conf:
                if k not in ("enabled", "features"):
                    raise Bad(400, "invalid_request_error", "Unknown parameter", f"{where}[{k}]")
            asked[name] = (enabled, given)
        account = self.accounts.get(p["account"]) if isinstance(p["account"], str) else None
        if account is None:
            raise Bad(400, "invalid_request_error", f"No such account: {p['account']}", "account")
        _dashboard, _payer, losses, collection = account["kind"]
        for name, (_enabled, given) in asked.items():
            where = f"components[{name}][features]"
            if collection != "application":
                if given.get("disable_stripe_user_authentication") is True:
                    raise Bad(
                        400,
                        "invalid_request_error",
                        "Not allowed for this account.",
                        f"{where}[disable_stripe_user_authentication]",
                    )
                if given.get("external_account_collection") is False:
                    raise Bad(
                        400,
                        "invalid_request_error",
                        "Not allowed for this account.",
                        f"{where}[external_account_collection]",
                    )
        components = {}
        for name in sorted(COMPONENTS, reverse=True):
            enabled, given = asked.get(name, (False, {}))
            features = {}
            eac = given.get("external_account_collection", True)
            for feat, default in COMPONENTS[name].items():
                if feat in given:
                    features[feat] = given[feat]
                elif default == "loss":
                    features[feat] = losses == "stripe"
                elif default == "not_eac":
                    features[feat] = not eac
                else:
                    features[feat] = default
            features.update(RESPONSE_ONLY.get(name, {}))
            components[name] = {"features": features, "enabled": enabled}
        return {
            "livemode": key.startswith(("sk_live_", "rk_live_")),
            "components": components,
            "expires_at": int(time.time()) + 600,
            "client_secret": f"accs_secret__{uuid.uuid4().hex}",
            "account": p["account"],
            "object": "account_session",
        }

    def create_account(self, p: dict) -> dict:
        kind = KINDS["standard"]
        if "type" in p:
            if p["type"] not in KINDS:
                raise Bad(400, "invalid_request_error", "Bad type", "type")
            kind = KINDS[p["type"]]
        c = p.get("controller")
        if isinstance(c, dict):
            dash = (c.get("stripe_dashboard") or {}).get("type", "full")
            base = next(k for k in KINDS.values() if k[0] == dash)
            kind = (
                dash,
                (c.get("fees") or {}).get("payer", base[1]),
                (c.get("losses") or {}).get("payments", base[2]),
                c.get("requirement_collection", base[3]),
            )
        acct = f"acct_{secrets.token_hex(8)}"
        self.accounts[acct] = {"kind": kind}
        return self.account_body(acct)

    def account_body(self, acct: str) -> dict:
        dash, payer, losses, collection = self.accounts[acct]["kind"]
        return {
            "id": acct,
            "object": "account",
            "controller": {
                "type": "application",
                "is_controller": True,
                "losses": {"payments": losses},
                "fees": {"payer": payer},
                "requirement_collection": collection,
                "stripe_dashboard": {"type": dash},
            },
        }


def make_app() -> Starlette:
    server = Server()

    def reply(status: int, body: dict | bytes, **headers: str) -> Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return Response(
            raw,
            status,
            media_type="application/json",
            headers={"Request-Id": f"req_{uuid.uuid4().hex[:20]}", **headers},
        )

    def error(exc: Bad) -> Response:
        err = {"message": exc.message, "type": exc.kind}
        if exc.param:
            err["param"] = exc.param
        return reply(exc.status, {"error": err})

    def key_of(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            key = auth[7:]
        elif auth.startswith("Basic "):
            import base64

            try:
                key = base64.b64decode(auth[6:]).decode().split(":")[0]
            except Exception:
                key = ""
        else:
            raise Bad(401, "invalid_request_error", "No API key provided.")
        if not key.startswith(("sk_", "rk_")):
            raise Bad(401, "invalid_request_error", "Invalid API Key provided: ***")
        return key

    async def handle(request: Request) -> Response:
        try:
            key = key_of(request)
            body = await request.body()
            if body and "x-www-form-urlencoded" not in request.headers.get("content-type", ""):
                raise Bad(400, "invalid_request_error", "Form bodies only.")
            params = parse(body)
            path = request.url.path
            idem = request.headers.get("idempotency-key")
            if idem and request.method == "POST":
                seen = server.replays.get((key, idem))
                fingerprint = json.dumps([path, params], sort_keys=True)
                if seen:
                    if seen[0] != fingerprint:
                        raise Bad(400, "idempotency_error", "Key reused with other parameters.")
                    return reply(seen[1], seen[2], **{"Idempotent-Replayed": "true"})
            if path == "/v1/account_sessions" and request.method == "POST":
                result = server.session(params, key)
            elif path == "/v1/accounts" and request.method == "POST":
                result = server.create_account(params)
            elif path.startswith("/v1/accounts/"):
                acct = path.rsplit("/", 1)[1]
                if acct not in server.accounts:
                    raise Bad(404, "invalid_request_error", "No such account", "id")
                if request.method == "DELETE":
                    del server.accounts[acct]
                    result = {"deleted": True, "id": acct, "object": "account"}
                else:
                    result = server.account_body(acct)
            else:
                raise Bad(404, "invalid_request_error", "Unknown URL")
            raw = json.dumps(result).encode()
            if idem and request.method == "POST":
                server.replays[(key, idem)] = (fingerprint, 200, raw)
            return reply(200, raw)
        except Bad as exc:
            return error(exc)

    methods = ["GET", "POST", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", handle, methods=methods)])
