"""Write an import result as the committed ``contracts/`` files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from conformance.contracts.importer import ImportResult
from conformance.contracts.model import load_contract
from conformance.contracts.openapi import build_openapi

__all__ = ["dump_json", "write_contracts"]


class _Dumper(yaml.SafeDumper):
    """Spell every node out: no anchors or aliases in a file people review."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_json(data: Any, *, sort_keys: bool = True) -> str:
    return json.dumps(data, indent=2, sort_keys=sort_keys, ensure_ascii=False) + "\n"


def write_contracts(result: ImportResult, out: Path) -> list[Path]:
    """Write every generated file under ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "examples").mkdir(exist_ok=True)
    files: dict[Path, str] = {
        out / "provenance.json": dump_json(
            {
                "generator": "conformance contracts import",
                "documents": result.provenance,
                "precedence": ["parameters", "attributes", "example"],
                "grades": {
                    "doc": "stated in prose: breaking it is a failure",
                    "example-only": "seen only in an example: a difference is a note",
                },
            }
        ),
        out / "fields.json": dump_json(result.fields),
        out / "components.json": dump_json(result.components),
        out / "defaults.json": dump_json(result.defaults),
        out / "constraints.json": dump_json(sorted(result.constraints, key=lambda c: c["id"])),
        out / "inconsistencies.json": dump_json(result.inconsistencies),
        out / "unparsed.json": dump_json(result.unparsed),
    }
    for name, example in sorted(result.examples.items()):
        files[out / "examples" / f"{name}.json"] = dump_json(example, sort_keys=False)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    load_contract.cache_clear()
    openapi = build_openapi(load_contract(out))
    spec = out / "openapi.yaml"
    spec.write_text(yaml.dump(openapi, Dumper=_Dumper, sort_keys=False, width=100), encoding="utf-8")
    load_contract.cache_clear()
    return [*files, spec]
