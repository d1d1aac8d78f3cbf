"""The oracle: (request, account) -> what a conformant server answers.

One function, :meth:`Oracle.expect`, driven entirely by the contract: which
parameters exist (``components.json``), what each feature defaults to
(``defaults.json`` through :mod:`conformance.contracts.rules`), which values an
account may not ask for (``constraints.json``), and the error conventions
(``conventions.yaml``). There is no per-component code here.

Requests come in wire form (:func:`conformance.forms.decode_form` output: every
leaf a string) so that the oracle judges exactly what travelled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from conformance.catalogue import Rule, catalogue
from conformance.contracts.model import Contract
from conformance.contracts.rules import condition_holds
from conformance.expected import (
    ANY,
    EXPIRY,
    SECRET,
    Accounts,
    Expected,
    ExpectedError,
    ExpectedSession,
    Undecided,
    flat_controller,
)
from conformance.expected import is_map as _is_map

__all__ = [
    "ANY",
    "EXPIRY",
    "SECRET",
    "Accounts",
    "Expected",
    "ExpectedError",
    "ExpectedSession",
    "Oracle",
    "Rule",
    "Undecided",
    "flat_controller",
]

_BOOLEANS = ("true", "false")


class Oracle:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.rules = catalogue(contract)
        conv = contract.conventions
        self._errors: dict[str, dict[str, Any]] = conv.get("errors", {})
        # fixed for the contract's lifetime, so made once rather than per request
        self._allowed = {"account", "components", *conv.get("universal_parameters", [])}
        self._by_feature = {(c.component, c.feature, c.value): c for c in contract.constraints}
        self._request_features = {n: frozenset(c.request_features) for n, c in contract.components.items()}
        self._object = str(conv.get("object", "account_session"))
        self._fields = contract.fields.get("response", {})
        window = conv.get("expires_at", {})
        self._window = (
            int(window.get("max_seconds_ahead", 86400)),
            int(window.get("clock_skew_seconds", 120)),
        )
        # per controller: what the components a request does not ask for look like
        self._unasked: dict[Any, tuple[dict[str, dict[str, bool | None]], dict[tuple[str, ...], Rule]]] = {}

    # -- errors --------------------------------------------------------------
    def error(self, kind: str, param: str | None, rule_id: str) -> ExpectedError:
        spec = self._errors[kind]
        return ExpectedError(spec["status"], spec["type"], param, spec.get("code"), self.rules[rule_id])

    def _invalid(self, value: Any, param: str) -> ExpectedError:
        if value == "":
            return self.error("parameter_invalid_empty", param, "validation.invalid_value")
        problem = self.error("parameter_invalid", param, "validation.invalid_value")
        # an object or a list sent where a value belongs: naming its inner path is naming it too
        return (
            dataclasses.replace(problem, deeper_ok=True)
            if _is_map(value) or isinstance(value, list)
            else problem
        )

    def _boolean(self, value: Any, param: str) -> ExpectedError | None:
        if isinstance(value, str) and value in _BOOLEANS:
            return None
        if isinstance(value, str):
            return self.error("parameter_invalid", param, "validation.invalid_boolean")
        return self._invalid(value, param)

    # -- the one function ------------------------------------------------------
    def expect(self, params: Mapping[str, Any], accounts: Accounts, *, livemode: bool) -> Expected:
        """The expected answer to ``params`` (wire form) given the known ``accounts``."""
        problem = self.validate(params, accounts)
        if problem is not None:
            return problem
        account = params["account"]
        controller = accounts[account]
        session = self.render(params, account, controller, livemode=livemode)
        undecided = tuple(self._undecided(params["components"], controller))
        return dataclasses.replace(session, undecided=undecided) if undecided else session

    def validate(self, params: Mapping[str, Any], accounts: Accounts) -> ExpectedError | None:
        """The first problem of the request (the one the embedded mock answers with),
        naming the others of the same status and type as acceptable alternatives."""
        problems = iter(self._problems(params, accounts))
        first = next(problems, None)
        if first is None:
            return None
        same = [p for p in problems if p.param and (p.status, p.type) == (first.status, first.type)]
        if not same:
            return first
        others = tuple(p.param for p in same if p.param)
        deeper = tuple(p.param for p in same if p.param and p.deeper_ok)
        return dataclasses.replace(first, alternatives=others, deeper=deeper)

    def _problems(self, params: Mapping[str, Any], accounts: Accounts) -> Iterator[ExpectedError]:
        allowed = self._allowed
        for key in params:
            if key not in allowed:
                yield self.error("parameter_unknown", key, "validation.parameter_unknown")
        account = params.get("account")
        if account is None:
            yield self.error("parameter_missing", "account", "validation.parameter_missing")
        elif not isinstance(account, str) or account == "":
            yield self._invalid(account, "account")
        components = params.get("components")
        if components is None:
            yield self.error("parameter_missing", "components", "validation.parameter_missing")
        elif not _is_map(components):
            yield self._invalid(components, "components")
        else:
            for name, value in components.items():
                yield from self._component_problems(name, value)
        if not isinstance(account, str) or not account:
            return
        if account not in accounts:
            yield self.error("resource_missing", "account", "validation.resource_missing")
        elif _is_map(components):
            yield from self._constraint_problems(components, accounts[account])

    def _component_problems(self, name: str, value: Any) -> Iterator[ExpectedError]:
        path = f"components[{name}]"
        comp = self.contract.components.get(name)
        if comp is None:
            yield self.error("parameter_unknown", path, "validation.parameter_unknown")
            return
        if not _is_map(value):
            yield self._invalid(value, path)
            return
        for key in value:
            if key not in ("enabled", "features"):
                yield self.error("parameter_unknown", f"{path}[{key}]", "validation.parameter_unknown")
        if "enabled" not in value:
            if comp.enabled_required:
                yield self.error("parameter_missing", f"{path}[enabled]", "validation.parameter_missing")
        else:
            problem = self._boolean(value["enabled"], f"{path}[enabled]")
            if problem is not None:
                yield problem
        features = value.get("features")
        if features is None:
            return
        if not _is_map(features):
            yield self._invalid(features, f"{path}[features]")
            return
        allowed = self._request_features[name]
        for feat, given in features.items():
            fpath = f"{path}[features][{feat}]"
            if feat not in allowed:
                yield self.error("parameter_unknown", fpath, "validation.parameter_unknown")
                continue
            problem = self._boolean(given, fpath)
            if problem is not None:
                yield problem

    def _asked(self, components: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
        for name, value in components.items():
            features = value.get("features") if _is_map(value) else None
            if features is not None and _is_map(features):
                for feat, given in features.items():
                    constraint = self._by_feature.get((name, feat, given == "true"))
                    if constraint is not None:
                        yield name, feat, constraint

    def _constraint_problems(
        self, components: Mapping[str, Any], controller: Mapping[str, str] | None
    ) -> Iterator[ExpectedError]:
        for _, _, constraint in self._asked(components):
            if condition_holds(constraint.requires, controller) is False:
                yield self.error("constraint", constraint.path, f"constraint:{constraint.id}")

    def _undecided(
        self, components: Mapping[str, Any], controller: Mapping[str, str] | None
    ) -> Iterator[Undecided]:
        for _, _, constraint in self._asked(components):
            if condition_holds(constraint.requires, controller) is None:
                missing = tuple(k for k in constraint.requires if not controller or k not in controller)
                yield Undecided(constraint.path, self.rules[f"constraint:{constraint.id}"], missing)

    def render(
        self,
        params: Mapping[str, Any],
        account: str,
        controller: Mapping[str, str] | None,
        *,
        livemode: bool,
    ) -> ExpectedSession:
        """The session a valid request gets: every component, requested or not."""
        requested = params.get("components") or {}
        unasked, unasked_rules = self._unrequested(controller)
        components: dict[str, dict[str, Any]] = {}
        rules = dict(unasked_rules)
        for name in self.contract.components:
            asked = requested.get(name) or {}
            if not asked:
                components[name] = {"enabled": False, "features": dict(unasked[name])}
                continue
            given = {f: v == "true" for f, v in (asked.get("features") or {}).items()}
            if not given:  # only `enabled`: the features and rules of a component not asked for
                enabled = asked.get("enabled") == "true"
                components[name] = {"enabled": enabled, "features": dict(unasked[name])}
                continue
            components[name] = {
                "enabled": asked.get("enabled") == "true",
                "features": self.contract.effective_features(name, given, controller),
            }
            for feat in components[name]["features"]:
                rule_id = "session.feature_echo" if feat in given else f"default:{name}.{feat}"
                rules[(name, "features", feat)] = self.rules.get(rule_id, self.rules["session.components"])
        unknown = {
            (name, feat): self._depends(name, feat, controller)
            for name, comp in components.items()
            for feat, value in comp["features"].items()
            if value is None
        }
        return ExpectedSession(
            account,
            livemode,
            components,
            rules,
            fields=self._expected_fields(account, livemode),
            expires_within=self._window,
            unknown=unknown,
        )

    def _expected_fields(self, account: str, livemode: bool) -> tuple[tuple[str, str, Any], ...]:
        values = {"object": self._object, "account": account, "livemode": livemode}
        found = []
        for name, info in self._fields.items():
            if name == "components":
                continue  # compared component by component
            kind = "integer" if info["type"] == "timestamp" else info["type"]
            what = SECRET if info.get("secret") else EXPIRY if info["type"] == "timestamp" else ANY
            found.append((name, kind, values.get(name, what)))
        return tuple(found)

    def _depends(self, component: str, feature: str, controller: Mapping[str, str] | None) -> tuple[str, ...]:
        """The controller fields a default needs that ``controller`` does not hold."""
        seen: set[str] = set()
        todo, fields = [feature], []
        comp = self.contract.components[component]
        while todo:
            name = todo.pop()
            info = comp.features.get(name)
            if name in seen or info is None or info.default is None:
                continue
            seen.add(name)
            rule = info.default.rule
            if rule["kind"] == "conditional":
                fields += [k for k in rule["when"] if not controller or k not in controller]
            elif rule["kind"] in ("opposite", "same"):
                todo.append(rule["of"])
        return tuple(dict.fromkeys(fields))

    def _unrequested(
        self, controller: Mapping[str, str] | None
    ) -> tuple[dict[str, dict[str, bool | None]], dict[tuple[str, ...], Rule]]:
        """Every component as a request that omits it gets it, and the rules of the
        whole session as if nothing were asked (both memoised per controller; the
        caller copies what it hands out)."""
        key = None if controller is None else tuple(sorted(controller.items()))
        found = self._unasked.get(key)
        if found is not None:
            return found
        features: dict[str, dict[str, bool | None]] = {}
        rules: dict[tuple[str, ...], Rule] = {(): self.rules["session.components"]}
        for name in self.contract.components:
            features[name] = self.contract.effective_features(name, {}, controller)
            rules[(name, "enabled")] = self.rules["session.enabled"]
            for feat in features[name]:
                rules[(name, "features", feat)] = self.rules.get(
                    f"default:{name}.{feat}", self.rules["session.components"]
                )
        if len(self._unasked) > 256:
            self._unasked.clear()
        self._unasked[key] = (features, rules)
        return features, rules
