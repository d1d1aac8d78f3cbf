"""SDK builds broken on purpose, one fault each (``python -m tests.sdk_faults FAULT``),
for the mutation catalogue's SDK rules. The request-level faults are a plain HTTP
client speaking the adapter protocol; the others are the shipped Python adapter
with what it prints changed."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import httpx

from conformance.forms import encode_form
from tests.sdk_broken import run

RAW = ("sends_twice", "wrong_endpoint", "json_body", "no_key", "forgets_key", "forgets_version")


def _raw(description: dict[str, Any], fault: str) -> dict[str, Any]:
    params = {k: v for k, v in description.items() if k not in ("idempotency_key", "api_version")}
    headers = {} if fault == "no_key" else {"Authorization": f"Bearer {os.environ['CONFORMANCE_API_KEY']}"}
    if description.get("idempotency_key") and fault != "forgets_key":
        headers["Idempotency-Key"] = description["idempotency_key"]
    if description.get("api_version") and fault != "forgets_version":
        headers["Stripe-Version"] = description["api_version"]
    path = "/v1/account_session" if fault == "wrong_endpoint" else "/v1/account_sessions"
    url = os.environ["CONFORMANCE_BASE_URL"].rstrip("/") + path
    if fault == "json_body":
        send = {"json": params}
    else:
        send = {
            "content": encode_form(params),
            "headers": {**headers, "Content-Type": "application/x-www-form-urlencoded"},
        }
    send.setdefault("headers", headers)
    answer = httpx.post(url, **send)
    if fault == "sends_twice":
        answer = httpx.post(url, **send)
    body = answer.json()
    if answer.status_code >= 400:
        error = body.get("error") or {}
        keep = ("type", "param", "code")
        return {
            "error": {"class": "APIError", "status": answer.status_code, **{k: error.get(k) for k in keep}}
        }
    return body


def _after(fault: str) -> Any:
    def change(printed: dict[str, Any]) -> dict[str, Any]:
        error = printed.get("error")
        if fault == "adds_field" and not error:
            printed["x_sdk_only"] = True
        elif fault == "error_without_param" and isinstance(error, dict):
            error["param"] = None
        elif fault == "error_other_code" and isinstance(error, dict):
            error["code"] = "x_other_code"
        return printed

    return change


def main(argv: list[str]) -> int:
    fault = argv[1]
    if fault not in RAW:
        sys.argv = [argv[0], *argv[2:]]
        return run(after=_after(fault))
    if argv[2:3] == ["--version"]:
        print(
            json.dumps(
                {
                    "name": f"raw-httpx (broken on purpose: {fault})",
                    "version": "0",
                    "language": "python",
                    "api_version": "2025-01-27.acacia",
                }
            )
        )
        return 0
    print(json.dumps(_raw(json.loads(sys.stdin.read()), fault)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
