"""A broken SDK build: its model has no ``refund_management`` for ``payments``, so the
parsed object loses that field of the answer."""

from __future__ import annotations

import sys
from typing import Any

from tests.sdk_broken import run


def lose(parsed: dict[str, Any]) -> dict[str, Any]:
    features = parsed.get("components", {}).get("payments", {}).get("features", {})
    features.pop("refund_management", None)
    return parsed


if __name__ == "__main__":
    sys.exit(run(after=lose))
