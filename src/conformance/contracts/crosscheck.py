"""The importer's cross-checks, once every page is read: defaults merged across
pages, and every place the pages (or their examples) disagree recorded as an
inconsistency, never resolved silently."""

from __future__ import annotations

import json
from itertools import pairwise, product
from typing import Any

from conformance.contracts.facts import RANK as _RANK
from conformance.contracts.facts import Doc as _Doc
from conformance.contracts.facts import ImportResult
from conformance.contracts.facts import component as _component
from conformance.contracts.facts import feature as _feature
from conformance.contracts.facts import sources as _sources
from conformance.contracts.rules import evaluate_features

__all__ = [
    "absent_references",
    "check_illustrations",
    "example_diffs",
    "example_only_defaults",
    "example_sources",
    "group",
    "group_phrasings",
    "merge_defaults",
    "structure_diffs",
]


def _same_rule(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a == b


def merge_defaults(result: ImportResult) -> None:
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


def group_phrasings(result: ImportResult) -> None:
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


def structure_diffs(result: ImportResult, docs: list[_Doc]) -> None:
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


def example_diffs(result: ImportResult) -> None:
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


def example_only_defaults(result: ImportResult) -> None:
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


def example_sources(result: ImportResult) -> None:
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


def absent_references(result: ImportResult) -> None:
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


def check_illustrations(result: ImportResult) -> None:
    for ref, comp, _feat, data in result._illustrations:
        got = evaluate_features(_rules_for(result, comp), {}, {})
        for name, value in data["then"].items():
            if name in result.components[comp]["features"] and got.get(name) != value:
                result.inconsistent(
                    "illustration",
                    [f"components.{comp}.features.{name}"],
                    stated={ref: value, "rule": got.get(name)},
                )


def group(result: ImportResult) -> None:
    """Merge inconsistencies that state the same facts for different paths."""
    merged: dict[str, dict[str, Any]] = {}
    for item in result.inconsistencies:
        facts = json.dumps({k: v for k, v in item.items() if k != "paths"}, sort_keys=True)
        if facts in merged:
            merged[facts]["paths"] = sorted(set(merged[facts]["paths"]) | set(item["paths"]))
        else:
            merged[facts] = dict(item)
    result.inconsistencies = list(merged.values())
