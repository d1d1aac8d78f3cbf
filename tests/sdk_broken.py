"""What the broken adapters share: the shipped Python adapter, with one fault injected.

They answer one call per process (no ``"serve"`` in ``--version``): the gate's
one-shot path is tested through them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from conformance.sdk.adapters import stripe_python

Hook = Callable[[dict[str, Any]], dict[str, Any]]


def _same(value: dict[str, Any]) -> dict[str, Any]:
    return value


def run(before: Hook = _same, after: Hook = _same) -> int:
    """``before`` changes the request description, ``after`` the printed object."""
    stripe_python.stripe.enable_telemetry = False
    if sys.argv[1:2] == ["--version"]:
        about = {k: v for k, v in stripe_python.describe().items() if k != "serve"}
        print(json.dumps({**about, "name": "stripe-python (broken on purpose)"}))
        return 0
    description = json.loads(sys.stdin.read())
    print(json.dumps(after(stripe_python.create(before(description)))))
    return 0
