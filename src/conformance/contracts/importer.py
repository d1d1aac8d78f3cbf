"""``conformance contracts import``: API reference pages -> ``contracts/`` files.

What comes out is structure and facts: names, types, required flags, default
rules, constraints, example payloads, where each fact was stated, where the
pages disagree, and which normative sentences could not be read. No sentence of
the docs is copied.

Precedence when pages disagree (recorded, never silent): a page's parameter
list outranks another page's attribute list, and any prose rule outranks an
example value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise, product
from pathlib import Path
from typing import Any

from conformance.contracts.docparse import ParsedDoc, curl_form_pairs, parse_doc, sentences
from conformance.contracts.rules import evaluate_features
from conformance.contracts.statements import Statement, classify
from conformance.forms import FormError, decode_form, encode_form

__all__ = ["ImportResult", "import_documents"]

PARAMETERS, ATTRIBUTES, EXAMPLE, REQUEST_EXAMPLE = "parameters", "attributes", "example", "request"
_RANK = {PARAMETERS: 0, ATTRIBUTES: 1, EXAMPLE: 2}


@dataclass
class _Doc:
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


def _sources(entry: dict[str, Any], ref: str) -> None:
    if ref not in entry["sources"]:
        entry["sources"].append(ref)
        entry["sources"].sort()


def _component(result: ImportResult, name: str) -> dict[str, Any]:
    return result.components.setdefault(
        name,
        {
            "sources": [],
            "enabled": {"type": "boolean", "required": False, "sources": []},
            "features": {},
            "features_documented_empty": False,
        },
    )


def _feature(result: ImportResult, comp: str, feat: str) -> dict[str, Any]:
    return _component(result, comp)["features"].setdefault(
        feat, {"type": "boolean", "request": False, "response": False, "sources": []}
    )


def _read_entries(result: ImportResult, doc: _Doc) -> None:
    for entry in doc.parsed.entries:
        section = entry.section.split(" ")[0].lower() if entry.section else ""
        part = PARAMETERS if section == "parameters" else ATTRIBUTES if section == "attributes" else None
        if part is None:
            result.unparsed.append(
                {
                    "source": doc.name,
                    "path": entry.path,
                    "statement": "entry outside a parameters or attributes section",
                }
            )
            continue
        ref = doc.ref(part)
        parts = entry.path.split(".")
        info: dict[str, Any] = {"type": entry.type}
        if part == PARAMETERS:
            info["required"] = entry.required
        if len(parts) == 1:
            target = result.fields["request" if part == PARAMETERS else "response"].setdefault(
                parts[0], {"sources": [], **info}
            )
            _check_type(result, entry.path, target, entry.type, ref)
            _sources(target, ref)
        elif parts[0] == "components" and len(parts) == 2:
            _sources(_component(result, parts[1]), ref)
        elif parts[0] == "components" and len(parts) == 3 and parts[2] == "enabled":
            enabled = _component(result, parts[1])["enabled"]
            _check_type(result, entry.path, enabled, entry.type, ref)
            if part == PARAMETERS:
                enabled["required"] = entry.required
            _sources(enabled, ref)
        elif parts[0] == "components" and len(parts) == 3 and parts[2] == "features":
            _component(result, parts[1])
        elif parts[0] == "components" and len(parts) == 4 and parts[2] == "features":
            feat = _feature(result, parts[1], parts[3])
            _check_type(result, entry.path, feat, entry.type, ref)
            feat["request" if part == PARAMETERS else "response"] = True
            _sources(feat, ref)
        else:
            result.unparsed.append(
                {
                    "source": doc.name,
                    "path": entry.path,
                    "statement": "field at an unexpected place",
                }
            )
            continue
        _read_prose(result, doc, ref, parts, entry.text)


def _check_type(result: ImportResult, path: str, target: dict[str, Any], typ: str, ref: str) -> None:
    if target.get("type") not in (None, typ) and target.get("sources"):
        result.inconsistent("type", [path], stated={ref: typ, "elsewhere": target["type"]})


def _read_prose(result: ImportResult, doc: _Doc, ref: str, parts: list[str], text: str) -> None:
    for sentence in sentences(text):
        if sentence[-1] not in ".!?":
            sentence += "."
        found = classify(sentence)
        if found is None:
            continue
        path = ".".join(parts)
        if isinstance(found, str):
            result.unparsed.append({"source": ref, "path": path, "statement": found})
            continue
        if not _apply(result, ref, parts, found):
            result.unparsed.append({"source": ref, "path": path, "statement": sentence})


def _apply(result: ImportResult, ref: str, parts: list[str], st: Statement) -> bool:
    is_feature = len(parts) == 4 and parts[0] == "components" and parts[2] == "features"
    if st.kind == "default" and is_feature:
        result._stated.setdefault((parts[1], parts[3]), {})[ref] = (st.data, st.interpreted)
    elif st.kind == "constraint" and is_feature:
        result._constraints.setdefault((parts[1], parts[3]), {})[ref] = (st.data, st.interpreted)
    elif st.kind == "illustration" and is_feature:
        result._illustrations.append((ref, parts[1], parts[3], st.data))
    elif st.kind == "empty_features" and parts[-1] == "features":
        _component(result, parts[1])["features_documented_empty"] = True
    elif st.kind in ("secret", "mode") and len(parts) == 1:
        target = result.fields["response"].setdefault(parts[0], {"sources": []})
        if st.kind == "secret":
            target["secret"] = True
        else:
            target["follows"] = st.data["follows"]
    elif st.kind == "reference":
        pass
    else:
        return False
    return True


def _read_examples(result: ImportResult, doc: _Doc) -> None:
    for block in doc.parsed.code:
        stem = doc.name.rsplit(".", 1)[0]
        if block.lang == "json":
            try:
                payload = json.loads(block.code)
            except json.JSONDecodeError as exc:
                result.unparsed.append(
                    {
                        "source": doc.name,
                        "path": "example",
                        "statement": f"example JSON does not parse: {exc}",
                    }
                )
                continue
            result.examples[f"{stem}.response"] = {
                "source": doc.ref(EXAMPLE),
                "section": block.section,
                "body": payload,
            }
        elif block.lang == "curl":
            pairs = curl_form_pairs(block.code)
            form = "&".join(f"{k}={v}" for k, v in pairs)
            try:
                params = decode_form(form)
            except FormError as exc:
                result.unparsed.append(
                    {
                        "source": doc.name,
                        "path": "example",
                        "statement": f"example request does not decode: {exc}",
                    }
                )
                continue
            result.examples[f"{stem}.request"] = {
                "source": doc.ref(REQUEST_EXAMPLE),
                "method": "POST",
                "path": _curl_path(block.code),
                "form": encode_form(params),
                "params": _typed(params),
            }


def _curl_path(code: str) -> str:
    for word in code.split():
        if word.startswith("https://"):
            return "/" + word.split("/", 3)[3]
    return ""


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if value in ("true", "false"):
        return value == "true"
    return value


def _same_rule(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a == b


def _merge_defaults(result: ImportResult) -> None:
    for (comp, feat), stated in sorted(result._stated.items()):
        refs = sorted(stated, key=lambda r: _RANK[r.split("#")[1]])
        winner_rule, _ = stated[refs[0]]
        agreeing = [r for r in refs if _same_rule(stated[r][0], winner_rule)]
        entry: dict[str, Any] = {"rule": winner_rule, "grade": "doc", "sources": sorted(agreeing)}
        interpreted = {r: stated[r][1] for r in agreeing if stated[r][1]}
        if interpreted:
            entry["interpreted"] = interpreted
        result.defaults[f"{comp}.{feat}"] = entry
        for other in refs:
            if other not in agreeing:
                result.inconsistent(
                    "default_rule",
                    [f"components.{comp}.features.{feat}"],
                    stated={refs[0]: winner_rule, other: stated[other][0]},
                    effective=refs[0],
                )
    for (comp, feat), stated in sorted(result._constraints.items()):
        refs = sorted(stated, key=lambda r: _RANK[r.split("#")[1]])
        rule, _ = stated[refs[0]]
        agreeing = [r for r in refs if stated[r][0] == rule]
        constraint: dict[str, Any] = {
            "id": f"{comp}.{feat}={str(rule['value']).lower()}",
            "component": comp,
            "feature": feat,
            **rule,
            "grade": "doc",
            "sources": sorted(agreeing),
        }
        interpreted = {r: stated[r][1] for r in agreeing if stated[r][1]}
        if interpreted:
            constraint["interpreted"] = interpreted
        result.constraints.append(constraint)
        for other in refs:
            if other not in agreeing:
                result.inconsistent(
                    "constraint",
                    [f"components.{comp}.features.{feat}"],
                    stated={refs[0]: rule, other: stated[other][0]},
                    effective=refs[0],
                )


def _group_phrasings(result: ImportResult) -> None:
    """One inconsistency per interpreted phrase: the same rule is worded as a field
    value on one page and as a plain-language phrase on another."""
    for key, entry in result.defaults.items():
        interpreted = entry.get("interpreted", {})
        literal = [r for r in entry["sources"] if r not in interpreted]
        if interpreted and literal:
            comp, feat = key.split(".")
            stated: dict[str, Any] = {r: {"phrase": p} for r, p in interpreted.items()}
            stated.update({r: {"field": entry["rule"]["when"]} for r in literal})
            result.inconsistent(
                "rule_phrasing",
                [f"components.{comp}.features.{feat}"],
                stated=stated,
                effective="same rule",
            )


def _structure_diffs(result: ImportResult, docs: list[_Doc]) -> None:
    per_part: dict[str, set[str]] = {}
    for comp, info in result.components.items():
        for ref in info["sources"]:
            per_part.setdefault(ref, set()).add(comp)
    refs = sorted(per_part, key=lambda r: (_RANK.get(r.split("#")[1], 9), r))
    for a, b in pairwise(refs):
        if per_part[a] != per_part[b]:
            result.inconsistent(
                "component_set",
                [f"components.{c}" for c in per_part[a] ^ per_part[b]],
                counts={a: len(per_part[a]), b: len(per_part[b])},
                only_in={
                    a: sorted(per_part[a] - per_part[b]),
                    b: sorted(per_part[b] - per_part[a]),
                },
                effective="union",
            )
    for comp, info in sorted(result.components.items()):
        feature_refs: dict[str, set[str]] = {}
        for feat, finfo in info["features"].items():
            for ref in finfo["sources"]:
                feature_refs.setdefault(ref, set()).add(feat)
        for ref in info["sources"]:
            feature_refs.setdefault(ref, set())
        keys = sorted(feature_refs)
        for a, b in pairwise(keys):
            if feature_refs[a] != feature_refs[b]:
                only_a, only_b = (
                    feature_refs[a] - feature_refs[b],
                    feature_refs[b] - feature_refs[a],
                )
                kind = (
                    "response_only_field"
                    if all(not info["features"][f]["request"] for f in only_a | only_b)
                    else "feature_set"
                )
                result.inconsistent(
                    kind,
                    [f"components.{comp}.features.{f}" for f in only_a | only_b],
                    only_in={a: sorted(only_a), b: sorted(only_b)},
                )


def _example_diffs(result: ImportResult) -> None:
    """Check every example response against the prose rules, for the account the
    example most plausibly shows (the controller under which it differs least)."""
    conditions = _condition_space(result)
    requested: dict[str, Any] = {}
    for key, example in result.examples.items():
        if key.endswith(".request"):
            requested = example["params"].get("components", {})
    for key, example in sorted(result.examples.items()):
        if not key.endswith(".response"):
            continue
        body = example["body"]
        components = body.get("components", {}) if isinstance(body, dict) else {}
        best: tuple[int, dict[str, str], list[tuple[str, Any, Any]]] | None = None
        for controller in conditions:
            diffs = []
            for comp, shown in components.items():
                if comp not in result.components or not isinstance(shown, dict):
                    continue
                given = (requested.get(comp) or {}).get("features", {})
                expected = evaluate_features(_rules_for(result, comp), given, controller)
                for feat, value in (shown.get("features") or {}).items():
                    if feat in expected and expected[feat] is not None and expected[feat] != value:
                        diffs.append((f"components.{comp}.features.{feat}", expected[feat], value))
            if best is None or len(diffs) < best[0]:
                best = (len(diffs), controller, diffs)
        if best is None:
            continue
        example["shows_account"] = best[1]
        for path, expected, shown in best[2]:
            _, comp, _, feat = path.split(".")
            prose = result.defaults[f"{comp}.{feat}"]["sources"][0]
            result.inconsistent(
                "example_value",
                [path],
                stated={example["source"]: shown, prose: expected},
                effective=prose,
            )
        _relation_diffs(result, example["source"], components)


def _relation_diffs(result: ImportResult, ref: str, components: dict[str, Any]) -> None:
    for key, entry in sorted(result.defaults.items()):
        rule = entry["rule"]
        comp, feat = key.split(".")
        shown = (components.get(comp) or {}).get("features") or {}
        if rule["kind"] in ("opposite", "same") and feat in shown and rule["of"] in shown:
            want = shown[rule["of"]] if rule["kind"] == "same" else not shown[rule["of"]]
            if shown[feat] != want:
                result.inconsistent(
                    "example_breaks_rule",
                    [f"components.{comp}.features.{feat}"],
                    stated={ref: {feat: shown[feat], rule["of"]: shown[rule["of"]]}},
                    rule=rule,
                )


def _condition_space(result: ImportResult) -> list[dict[str, str]]:
    values: dict[str, set[str]] = {}
    for entry in result.defaults.values():
        for field_name, value in entry["rule"].get("when", {}).items():
            values.setdefault(field_name, set()).update({value, "other"})
    names = sorted(values)
    return [dict(zip(names, combo, strict=True)) for combo in product(*(sorted(values[n]) for n in names))]


def _rules_for(result: ImportResult, comp: str) -> dict[str, dict[str, Any]]:
    return {
        feat: result.defaults[f"{comp}.{feat}"]["rule"]
        for feat in result.components[comp]["features"]
        if f"{comp}.{feat}" in result.defaults
    }


def _example_only_defaults(result: ImportResult) -> None:
    """Features no prose gives a default: take the example's value, graded example-only."""
    for comp, info in sorted(result.components.items()):
        for feat in sorted(info["features"]):
            key = f"{comp}.{feat}"
            if key in result.defaults:
                continue
            seen: dict[str, Any] = {}
            for example in result.examples.values():
                body = example.get("body")
                if isinstance(body, dict):
                    shown = ((body.get("components") or {}).get(comp) or {}).get("features") or {}
                    if feat in shown:
                        seen[example["source"]] = shown[feat]
            values = set(seen.values())
            if len(values) == 1:
                result.defaults[key] = {
                    "rule": {"kind": "constant", "value": values.pop()},
                    "grade": "example-only",
                    "sources": sorted(seen),
                }
            else:
                result.unparsed.append(
                    {
                        "source": ",".join(sorted(seen)) or "-",
                        "path": f"components.{comp}.features.{feat}",
                        "statement": "no default in prose and no single example value",
                    }
                )


def _example_sources(result: ImportResult) -> None:
    for example in result.examples.values():
        body = example.get("body")
        if not isinstance(body, dict):
            continue
        ref = example["source"]
        for name in body:
            _sources(result.fields["response"].setdefault(name, {"sources": []}), ref)
        for comp, shown in (body.get("components") or {}).items():
            info = _component(result, comp)
            _sources(info, ref)
            if isinstance(shown, dict) and "enabled" in shown:
                _sources(info["enabled"], ref)
            for feat in (shown.get("features") or {}) if isinstance(shown, dict) else {}:
                finfo = _feature(result, comp, feat)
                finfo["response"] = True
                _sources(finfo, ref)


def _absent_references(result: ImportResult) -> None:
    """A rule "opposite of F" on a component that has no feature F cannot be
    evaluated. If the same field's prose illustrates the value when F is not
    set, that illustration is the effective rule (F cannot be set there)."""
    illustrated = {(ref, comp, feat): data for ref, comp, feat, data in result._illustrations}
    for key, entry in sorted(result.defaults.items()):
        rule = entry["rule"]
        comp, feat = key.split(".")
        if rule["kind"] not in ("opposite", "same") or rule["of"] in result.components[comp]["features"]:
            continue
        effective: Any = None
        for ref in entry["sources"]:
            data = illustrated.get((ref, comp, feat))
            if data and data["unset"] == rule["of"] and feat in data["then"]:
                effective = {"kind": "constant", "value": data["then"][feat]}
                entry["rule"], entry["derived_from"] = (
                    effective,
                    {"illustration": ref, "stated_rule": rule},
                )
                break
        result.inconsistent(
            "rule_refers_to_absent_feature",
            [f"components.{comp}.features.{feat}"],
            stated={
                "rule": rule,
                "features_of_component": sorted(result.components[comp]["features"]),
            },
            effective=effective or "unknown: not compared",
        )


def _check_illustrations(result: ImportResult) -> None:
    for ref, comp, _feat, data in result._illustrations:
        got = evaluate_features(_rules_for(result, comp), {}, {})
        for name, value in data["then"].items():
            if name in result.components[comp]["features"] and got.get(name) != value:
                result.inconsistent(
                    "illustration",
                    [f"components.{comp}.features.{name}"],
                    stated={ref: value, "rule": got.get(name)},
                )


def _group(result: ImportResult) -> None:
    """Merge inconsistencies that state the same facts for different paths."""
    merged: dict[str, dict[str, Any]] = {}
    for item in result.inconsistencies:
        facts = json.dumps({k: v for k, v in item.items() if k != "paths"}, sort_keys=True)
        if facts in merged:
            merged[facts]["paths"] = sorted(set(merged[facts]["paths"]) | set(item["paths"]))
        else:
            merged[facts] = dict(item)
    result.inconsistencies = list(merged.values())


def import_documents(paths: Iterable[Path]) -> ImportResult:
    result = ImportResult()
    docs = []
    for path in sorted(paths, key=lambda p: p.name):
        text = path.read_text(encoding="utf-8")
        doc = _Doc(path.name, text, parse_doc(text))
        docs.append(doc)
        result.provenance[path.name] = {
            "title": doc.parsed.title,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "bytes": len(text.encode()),
            "entries": len(doc.parsed.entries),
            "examples": sum(1 for b in doc.parsed.code if b.lang in ("json", "curl")),
        }
    for doc in docs:
        _read_entries(result, doc)
        _read_examples(result, doc)
    _example_sources(result)
    _merge_defaults(result)
    _absent_references(result)
    _example_only_defaults(result)
    _structure_diffs(result, docs)
    _group_phrasings(result)
    _example_diffs(result)
    _check_illustrations(result)
    _group(result)
    for number, item in enumerate(result.inconsistencies, 1):
        item["id"] = f"I{number:02d}"
    return result
