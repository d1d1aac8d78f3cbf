"""Which tests are conformance checks, their categories, and what the suites are
parametrized with (from the contract, in the suites' own modules only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.outcomes import CATEGORY_KEY
from conformance.pytest.markers import category_of, is_check, marker
from conformance.summaries import CATEGORIES

__all__ = [
    "DOCUMENTED_MARKER",
    "NEEDS_MARKER",
    "category_of",
    "is_check",
    "marker",
    "parametrize_from_contract",
    "pytest_collection_modifyitems",
    "register_markers",
]

LONG = frozenset({"fuzz", "schemathesis"})  # a check of these sends hundreds of requests
DOCUMENTED_MARKER = "conformance_documented_cassettes"
NEEDS_MARKER = "conformance_needs"  # conformance_needs("accounts"): runs without Account Sessions
_DESCRIPTIONS = {
    "shape": "the documented shape of a session and of the wire (JSON, Request-Id, fields, types)",
    "defaults": "every documented default, per component and account archetype; echoed values",
    "validation": "bad requests get 400 with the right error type and bracket param; constraints",
    "auth": "401 without a key or with a malformed one; the key is never echoed",
    "idempotency": "Idempotency-Key replay and conflict",
    "fuzz": "generated requests checked against the oracle",
    "schemathesis": "schemathesis checks driven by contracts/openapi.yaml",
    "sdk": "what an SDK sends and parses",
    "drift": "differences from the contract that are growth, not faults",
}


def register_markers(config: pytest.Config) -> None:
    for name in CATEGORIES:
        config.addinivalue_line("markers", f"{marker(name)}: conformance category -- {_DESCRIPTIONS[name]}")
    config.addinivalue_line(
        "markers", f"{DOCUMENTED_MARKER}: runs only when replaying the cassette set 'documented'"
    )
    config.addinivalue_line(
        "markers",
        f"{NEEDS_MARKER}(what): what of the target a check needs: 'sessions' (the default) or 'accounts'",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from conformance.pytest.options import settings_of

    checks = [item for item in items if is_check(item)]
    if not checks:
        return
    from conformance.pytest.recording import RECORDING

    recording = config.stash.get(RECORDING, None)
    if recording is None or recording.cassettes.name != "documented":  # only the docs' exchanges
        _deselect(config, items, lambda item: item.get_closest_marker(DOCUMENTED_MARKER) is not None)
    if not settings_of(config).adapter:  # no SDK to gate: not run at all
        _deselect(config, items, lambda item: category_of(item) == "sdk")
    for item in items:
        category = category_of(item)
        if category is not None:
            item.user_properties.append((CATEGORY_KEY, category))
    workers = getattr(config, "workerinput", {}).get("workercount")
    if workers:
        items[:] = spread(items, lambda item: category_of(item) in LONG, int(workers))


def spread(items: list[Any], long: Callable[[Any], bool], workers: int) -> list[Any]:
    """The items with the long ones first in each worker's share (work stealing hands each
    worker a contiguous share, and steals from a share's end): a long check started last
    holds the whole run up behind it."""
    heavy = [item for item in items if long(item)]
    light = [item for item in items if not long(item)]
    if not heavy or workers <= 1:
        return items
    shares: list[list[Any]] = [[] for _ in range(workers)]
    for index, item in enumerate(heavy):
        shares[index % workers].append(item)
    size = -(-len(items) // workers)
    for share in shares:
        while len(share) < size and light:
            share.append(light.pop(0))
    return [item for share in shares for item in share] + light


def _deselect(
    config: pytest.Config, items: list[pytest.Item], unwanted: Callable[[pytest.Item], bool]
) -> None:
    """Drop the items ``unwanted(item)`` names (deselected, not skipped: they do not count)."""
    dropped = [item for item in items if unwanted(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not unwanted(item)]


def parametrize_from_contract(metafunc: pytest.Metafunc) -> None:
    """For the suites' modules: ``archetype``, ``component``, ``constraint`` and
    ``example`` arguments take every value the contract has."""
    names = set(metafunc.fixturenames)
    if not {"archetype", "component", "constraint", "example"} & names:
        return
    from conformance.pytest.options import contract_of

    contract = contract_of(metafunc.config)
    if "archetype" in names:
        metafunc.parametrize("archetype", list(contract.archetypes))
    if "component" in names:
        metafunc.parametrize("component", contract.component_names)
    if "example" in names:
        metafunc.parametrize("example", [k for k in contract.examples if k.endswith(".response")])
    if "constraint" in names:
        metafunc.parametrize(
            "constraint", list(contract.constraints), ids=[c.id for c in contract.constraints]
        )
