"""A broken SDK build: it drops every component's ``features`` from the request."""

from __future__ import annotations

import sys
from typing import Any

from tests.sdk_broken import run


def drop(description: dict[str, Any]) -> dict[str, Any]:
    components = description.get("components")
    if isinstance(components, dict):
        description["components"] = {
            name: {k: v for k, v in conf.items() if k != "features"} if isinstance(conf, dict) else conf
            for name, conf in components.items()
        }
    return description


if __name__ == "__main__":
    sys.exit(run(before=drop))
