"""What the importer gathers from the pages: :class:`ImportResult`, the pages
themselves, and the small helpers the readers and the cross-checks share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from conformance.contracts.docparse import ParsedDoc

__all__ = [
    "ATTRIBUTES",
    "EXAMPLE",
    "PARAMETERS",
    "RANK",
    "REQUEST_EXAMPLE",
    "Doc",
    "ImportResult",
    "component",
    "feature",
    "sources",
]


PARAMETERS, ATTRIBUTES, EXAMPLE, REQUEST_EXAMPLE = "parameters", "attributes", "example", "request"


RANK = {PARAMETERS: 0, ATTRIBUTES: 1, EXAMPLE: 2}


@dataclass
class Doc:
    name: str
    text: str
    parsed: ParsedDoc

    def ref(self, part: str) -> str:
        return f"{self.name}#{part}"


@dataclass
class ImportResult:
    """Everything the importer found; :func:`write_contracts` lays it out as files."""

    provenance: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, dict[str, Any]] = field(default_factory=lambda: {"request": {}, "response": {}})
    components: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    constraints: list[dict[str, Any]] = field(default_factory=list)
    examples: dict[str, Any] = field(default_factory=dict)
    inconsistencies: list[dict[str, Any]] = field(default_factory=list)
    unparsed: list[dict[str, str]] = field(default_factory=list)
    # per (component, feature): ref -> (rule, interpreted phrase id)
    _stated: dict[tuple[str, str], dict[str, tuple[dict[str, Any], str | None]]] = field(default_factory=dict)
    _constraints: dict[tuple[str, str], dict[str, tuple[dict[str, Any], str | None]]] = field(
        default_factory=dict
    )
    _illustrations: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)

    def inconsistent(self, kind: str, paths: Iterable[str], **facts: Any) -> None:
        paths = sorted(set(paths))
        self.inconsistencies.append({"kind": kind, "paths": paths, **facts})


def sources(entry: dict[str, Any], ref: str) -> None:
    if ref not in entry["sources"]:
        entry["sources"].append(ref)
        entry["sources"].sort()


def component(result: ImportResult, name: str) -> dict[str, Any]:
    return result.components.setdefault(
        name,
        {
            "sources": [],
            "enabled": {"type": "boolean", "required": False, "sources": []},
            "features": {},
            "features_documented_empty": False,
        },
    )


def feature(result: ImportResult, comp: str, feat: str) -> dict[str, Any]:
    return component(result, comp)["features"].setdefault(
        feat, {"type": "boolean", "request": False, "response": False, "sources": []}
    )
