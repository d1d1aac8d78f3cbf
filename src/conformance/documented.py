"""The docs' own example exchanges as a cassette set: ``cassettes/documented/``.

Written by ``conformance contracts import`` from the contract's examples, so
that ``conformance run --record-mode none --cassettes documented`` checks the
documented contract offline: the example request is sent, the documented
response comes back, and the oracle judges it (a difference the contract lists
among the documentation's inconsistencies is a note, not a failure).

The docs give no time for their example, so its answer is taken as recorded
half an hour before its ``expires_at``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from conformance.cassettes import RECORDED_AT, CassetteSet
from conformance.contracts.model import Contract

__all__ = ["NODE", "SET", "write_documented_cassettes"]

SET = "documented"
NODE = "suites/test_documented.py::test_documented_example[{name}]"
BASE = "https://api.stripe.com"
ASSUMED_LIFETIME = 1800


def _interaction(request: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    body = dict(response["body"])
    if isinstance(body.get("client_secret"), str):
        body["client_secret"] = "<client_secret:1>"
    recorded = body.get("expires_at", 0) - ASSUMED_LIFETIME
    return {
        "request": {
            "method": request["method"],
            "uri": BASE + request["path"],
            "body": request["form"],
            "headers": {
                "Authorization": ["Basic <api-key>"],
                "Content-Type": ["application/x-www-form-urlencoded"],
            },
        },
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json"], RECORDED_AT: [repr(float(recorded))]},
            "body": {"string": json.dumps(body, indent=2)},
        },
    }


def write_documented_cassettes(contract: Contract, root: Path) -> list[Path]:
    """One cassette per documented request that has a documented response."""
    cassettes = CassetteSet(root, SET, "none")
    written = []
    for key, request in sorted(contract.examples.items()):
        if not key.endswith(".request"):
            continue
        name = key.removesuffix(".request")
        response = contract.examples.get(f"{name}.response")
        if response is None:
            continue
        path = cassettes.path_for(NODE.format(name=name))
        path.parent.mkdir(parents=True, exist_ok=True)
        cassette = {"interactions": [_interaction(request, response)], "version": 1}
        path.write_text(yaml.safe_dump(cassette, sort_keys=False, width=100))
        written.append(path)
    cassettes.write_meta(
        {
            "target": "the API reference's example exchanges",
            "base_url": BASE,
            "generated_from": sorted(contract.provenance.get("documents", {})),
            "recorded": None,
            "seed": None,
            "profile": None,
            "max_examples": None,
            "api_version": None,
        }
    )
    return written
