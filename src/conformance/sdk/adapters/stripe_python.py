"""SDK adapter for the official Python SDK (``stripe`` on PyPI).

The adapter protocol (see the README, "Gating an SDK build"):

- ``stripe_python.py --version`` prints ``{"name", "version", "language", "api_version"}``.
- Otherwise it reads ONE JSON request description on stdin: every key except
  ``idempotency_key`` and ``api_version`` is a create parameter, passed to the
  SDK exactly as given (a key left out stays out); it calls Account Session
  create against ``$CONFORMANCE_BASE_URL`` with ``$CONFORMANCE_API_KEY``, with no
  retries, and prints the SDK's parsed object as JSON, or on an SDK error
  ``{"error": {"class", "status", "type", "param", "code"}}``; exit status 0
  either way. Anything else (a crash) exits non-zero.
- ``stripe_python.py --serve`` does the same for one description per line, one
  answer per line, until stdin ends (``"serve": true`` in ``--version`` says so):
  the SDK is imported once for a whole run.

Standalone on purpose (the standard library and ``stripe`` only): copy it to
gate another build of the SDK.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import stripe

CONTROL = ("idempotency_key", "api_version")


def describe() -> dict[str, Any]:
    from stripe._api_version import _ApiVersion

    return {
        "name": "stripe-python",
        "version": stripe.VERSION,
        "language": "python",
        "api_version": _ApiVersion.CURRENT,
        "serve": True,
    }


def error_of(exc: stripe.StripeError) -> dict[str, Any]:
    raw = exc.error  # the SDK's parsed error object, when the body had one
    return {
        "class": type(exc).__name__,
        "status": exc.http_status,
        "type": getattr(raw, "type", None) if raw is not None else None,
        "param": getattr(exc, "param", None) if raw is None else getattr(raw, "param", None),
        "code": exc.code,
    }


def create(description: dict[str, Any]) -> dict[str, Any]:
    client = stripe.StripeClient(
        os.environ["CONFORMANCE_API_KEY"],
        base_addresses={"api": os.environ["CONFORMANCE_BASE_URL"].rstrip("/")},
        max_network_retries=0,
    )
    params: Any = {k: v for k, v in description.items() if k not in CONTROL}
    options: Any = {}
    if description.get("idempotency_key"):
        options["idempotency_key"] = description["idempotency_key"]
    if description.get("api_version"):
        options["stripe_version"] = description["api_version"]
    try:
        session = client.v1.account_sessions.create(params, options)
    except stripe.StripeError as exc:
        return {"error": error_of(exc)}
    # the object the SDK parsed, every field (also those its typed model does not know)
    return session.to_dict(recursive=True, for_json=True)


def main(argv: list[str]) -> int:
    stripe.enable_telemetry = False
    if argv[1:2] == ["--version"]:
        print(json.dumps(describe()))
        return 0
    if argv[1:2] == ["--serve"]:
        for line in iter(sys.stdin.readline, ""):
            if line.strip():
                print(json.dumps(create(json.loads(line))), flush=True)
        return 0
    description = json.loads(sys.stdin.read())
    print(json.dumps(create(description)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
