"""A broken SDK build: it sends booleans as Python spells them (``True``/``False``)."""

from __future__ import annotations

import sys
from typing import Any

from tests.sdk_broken import run


def spell(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return {k: spell(v) for k, v in value.items()}
    return value


if __name__ == "__main__":
    sys.exit(run(before=spell))
