"""The contract as the rest of the toolkit sees it, loaded from ``contracts/``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml

from conformance.contracts.rules import condition_holds, evaluate_features

__all__ = [
    "GENERATED_FILES",
    "Component",
    "Constraint",
    "Contract",
    "ContractError",
    "DefaultRule",
    "Feature",
    "load_contract",
    "read_contract",
]

GENERATED_FILES = (
    "provenance.json",
    "fields.json",
    "components.json",
    "defaults.json",
    "constraints.json",
    "inconsistencies.json",
    "unparsed.json",
    "openapi.yaml",
)


class ContractError(ValueError):
    """A directory that cannot be read as a contract; the message is one line."""


@dataclass(frozen=True)
class DefaultRule:
    key: str  # "component.feature"
    rule: dict[str, Any]
    grade: str  # doc | example-only
    sources: tuple[str, ...]
    interpreted: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        rule = self.rule
        if rule["kind"] == "constant":
            return f"defaults to {str(rule['value']).lower()}"
        if rule["kind"] in ("opposite", "same"):
            return f"defaults to the {rule['kind']} of {rule['of']}"
        cond = " and ".join(f"{k} is {v}" for k, v in rule["when"].items())
        return f"defaults to {str(rule['then']).lower()} when {cond}, else {str(rule['else']).lower()}"


@dataclass(frozen=True)
class Feature:
    component: str
    name: str
    request: bool  # a documented parameter
    response: bool  # shown in a response
    sources: tuple[str, ...]
    default: DefaultRule | None
    type: str = "boolean"

    @property
    def path(self) -> str:
        return f"components[{self.component}][features][{self.name}]"


@dataclass(frozen=True)
class Component:
    name: str
    sources: tuple[str, ...]
    enabled_required: bool
    features: dict[str, Feature]

    @property
    def request_features(self) -> list[str]:
        return [f for f, info in self.features.items() if info.request]

    @cached_property
    def rules(self) -> dict[str, dict[str, Any]]:
        return {f: info.default.rule for f, info in self.features.items() if info.default}


@dataclass(frozen=True)
class Constraint:
    id: str
    component: str
    feature: str
    value: bool
    requires: dict[str, str]
    grade: str
    sources: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"components[{self.component}][features][{self.feature}]"

    def describe(self) -> str:
        cond = " and ".join(f"{k} is {v}" for k, v in self.requires.items())
        return f"{self.feature} may be {str(self.value).lower()} only when {cond}"


@dataclass(frozen=True)
class Contract:
    directory: Path
    provenance: dict[str, Any]
    fields: dict[str, dict[str, Any]]
    components: dict[str, Component]
    constraints: tuple[Constraint, ...]
    examples: dict[str, dict[str, Any]]
    inconsistencies: tuple[dict[str, Any], ...]
    unparsed: tuple[dict[str, Any], ...]
    conventions: dict[str, Any]
    _memo: dict[Any, dict[str, bool | None]] = field(default_factory=dict, compare=False, repr=False)
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # built from it, once

    @property
    def component_names(self) -> list[str]:
        return list(self.components)

    def feature(self, component: str, name: str) -> Feature | None:
        comp = self.components.get(component)
        return comp.features.get(name) if comp else None

    def constraints_for(self, component: str) -> list[Constraint]:
        return [c for c in self.constraints if c.component == component]

    def allowed(
        self, component: str, feature: str, value: bool, controller: Mapping[str, str] | None
    ) -> bool | None:
        """Whether an account with ``controller`` may ask for ``feature=value`` of
        ``component``: True, False, or None when the controller fields it depends on
        are not known. The one answer to that question in the toolkit."""
        constraint = self.constraint_on(component, feature, value)
        return True if constraint is None else condition_holds(constraint.requires, controller)

    def constraint_on(self, component: str, feature: str, value: bool) -> Constraint | None:
        index = self.memo.get("constraint_on")
        if index is None:
            index = self.memo["constraint_on"] = {
                (c.component, c.feature, c.value): c for c in self.constraints
            }
        return index.get((component, feature, value))

    def effective_features(
        self, component: str, given: Mapping[str, bool], account: Mapping[str, str] | None
    ) -> dict[str, bool | None]:
        """Every response feature of ``component``: given values, else their defaults.
        Memoised: a request mostly repeats the defaults of the components it omits."""
        key = (component, tuple(sorted(given.items())), tuple(sorted(account.items())) if account else None)
        found = self._memo.get(key)
        if found is None:
            comp = self.components[component]
            values = evaluate_features(comp.rules, given, account)
            found = {f: values.get(f) for f in comp.features if comp.features[f].response}
            if len(self._memo) > 4096:
                self._memo.clear()
            self._memo[key] = found
        return dict(found)

    @property
    def archetypes(self) -> dict[str, dict[str, Any]]:
        return dict(self.conventions["archetypes"])


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _build_components(raw: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Component]:
    components: dict[str, Component] = {}
    for name in sorted(raw):
        info = raw[name]
        features = {}
        for fname in sorted(info["features"]):
            finfo = info["features"][fname]
            d = defaults.get(f"{name}.{fname}")
            rule = (
                DefaultRule(
                    f"{name}.{fname}",
                    d["rule"],
                    d["grade"],
                    tuple(d["sources"]),
                    dict(d.get("interpreted", {})),
                )
                if d
                else None
            )
            features[fname] = Feature(
                name,
                fname,
                finfo["request"],
                finfo["response"],
                tuple(finfo["sources"]),
                rule,
                finfo.get("type", "boolean"),
            )
        components[name] = Component(
            name, tuple(info["sources"]), bool(info["enabled"]["required"]), features
        )
    return components


@cache
def load_contract(directory: Path) -> Contract:
    """Load (and cache) the contract in ``directory``."""
    directory = Path(directory)
    if not (directory / "components.json").is_file():
        raise FileNotFoundError(f"no contracts in {directory} (components.json is missing)")
    defaults = _read_json(directory / "defaults.json")
    examples = {
        p.name.removesuffix(".json"): _read_json(p) for p in sorted((directory / "examples").glob("*.json"))
    }
    conventions_file = directory / "conventions.yaml"
    conventions = yaml.safe_load(conventions_file.read_text()) if conventions_file.exists() else {}
    return Contract(
        directory=directory,
        provenance=_read_json(directory / "provenance.json"),
        fields=_read_json(directory / "fields.json"),
        components=_build_components(_read_json(directory / "components.json"), defaults),
        constraints=tuple(
            Constraint(
                c["id"],
                c["component"],
                c["feature"],
                c["value"],
                dict(c["requires"]),
                c["grade"],
                tuple(c["sources"]),
            )
            for c in _read_json(directory / "constraints.json")
        ),
        examples=examples,
        inconsistencies=tuple(_read_json(directory / "inconsistencies.json")),
        unparsed=tuple(_read_json(directory / "unparsed.json")),
        conventions=conventions or {},
    )


def read_contract(directory: Path) -> Contract:
    """The contract in ``directory`` as its files are now (not the cached copy), every
    rule in it readable; else a :class:`ContractError` naming what is wrong."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ContractError(
            f"not a directory: {directory}" if directory.exists() else f"no such directory: {directory}"
        )
    if not (directory / "components.json").is_file():
        raise ContractError(f"{directory} is not a contracts directory (it has no components.json)")
    files = [directory / n for n in GENERATED_FILES if n.endswith(".json")]
    for path in [*files, *sorted((directory / "examples").glob("*.json"))]:
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ContractError(f"{directory} is not a whole contract: {path.name} is missing") from None
        except (OSError, ValueError) as exc:
            raise ContractError(f"{path} is malformed: {_reason(exc)}") from None
    try:
        contract = load_contract.__wrapped__(directory)
        for comp in contract.components.values():
            _ = [f.default.describe() for f in comp.features.values() if f.default]
        _ = [c.describe() for c in contract.constraints]
        listed = [*contract.inconsistencies, *contract.unparsed, *contract.examples.values()]
        listed += [f for side in contract.fields.values() for f in dict(side).values()]
        if not all(isinstance(item, dict) for item in listed):
            raise TypeError("fields, examples, inconsistencies and unparsed statements must be objects")
    except Exception as exc:  # whatever a file of the wrong shape raises is bad input: one line
        raise ContractError(f"{directory} is not a contract this version reads: {_reason(exc)}") from None
    return contract


def _reason(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())
