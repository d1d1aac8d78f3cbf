"""The one list of invalid requests: each a change to a valid request that a
conformant server refuses, the rule it breaks, and the bracket ``param`` the
refusal must name.

The validation suite sends each once, the SDK gate puts those an SDK user can
make through the SDK, and the fuzz strategies apply them to generated requests.
Adding a kind of invalid request is adding one entry here. The oracle must read
every change as the refusal it is about (a test holds every entry to that).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["INVALID", "Invalid", "Where", "invalid"]


@dataclass(frozen=True)
class Where:
    """Where a change goes: a component the request names, one of its request features
    (None if it has none), the contract's probes (names no API version can have), and
    for ``constraint_broken`` the constraint an account breaks."""

    component: str
    feature: str | None
    probes: Mapping[str, str]
    constraint: tuple[str, str, bool] | None = None  # (component, feature, value)


Change = Callable[[dict[str, Any], Where], str]  # edits params in place; returns the param to name


@dataclass(frozen=True)
class Invalid:
    name: str
    rule: str  # the rule a server that accepts it breaks
    error: str  # the kind of error (conventions.yaml's errors) it is refused with
    says: str
    change: Change
    needs_feature: bool = False  # the component must have a request feature
    sdk: bool = False  # one of the refusals the SDK gate makes through an SDK

    def apply(self, params: Mapping[str, Any], where: Where) -> tuple[dict[str, Any], str]:
        """A changed copy of ``params`` (SDK-side values), and the param a refusal names."""
        changed = _copy(params)
        return changed, self.change(changed, where)


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _comp(params: dict[str, Any], where: Where) -> dict[str, Any]:
    component: dict[str, Any] = params["components"].setdefault(where.component, {"enabled": True})
    return component


def _path(where: Where, *rest: str) -> str:
    return f"components[{where.component}]" + "".join(f"[{p}]" for p in rest)


def _features(params: dict[str, Any], where: Where) -> dict[str, Any]:
    features: dict[str, Any] = _comp(params, where).setdefault("features", {})
    return features


def _account_missing(params: dict[str, Any], where: Where) -> str:
    params.pop("account", None)
    return "account"


def _components_missing(params: dict[str, Any], where: Where) -> str:
    params.pop("components", None)
    return "components"


def _enabled_missing(params: dict[str, Any], where: Where) -> str:
    assert where.feature is not None
    params["components"][where.component] = {"features": {where.feature: True}}
    return _path(where, "enabled")


def _unknown_parameter(params: dict[str, Any], where: Where) -> str:
    name = where.probes["unknown_parameter"]
    params[name] = "1"
    return name


def _unknown_component(params: dict[str, Any], where: Where) -> str:
    probe = where.probes["unknown_component"]
    params["components"][probe] = {"enabled": True}
    return f"components[{probe}]"


def _unknown_component_key(params: dict[str, Any], where: Where) -> str:
    probe = where.probes["unknown_parameter"]
    _comp(params, where)[probe] = True
    return _path(where, probe)


def _unknown_feature(params: dict[str, Any], where: Where) -> str:
    probe = where.probes["unknown_feature"]
    _features(params, where)[probe] = True
    return _path(where, "features", probe)


def _invalid_boolean_enabled(params: dict[str, Any], where: Where) -> str:
    _comp(params, where)["enabled"] = where.probes["invalid_boolean"]
    return _path(where, "enabled")


def _invalid_boolean_feature(params: dict[str, Any], where: Where) -> str:
    assert where.feature is not None
    _features(params, where)[where.feature] = where.probes["invalid_boolean"]
    return _path(where, "features", where.feature)


def _unknown_account(params: dict[str, Any], where: Where) -> str:
    params["account"] = where.probes["unknown_account"]
    return "account"


def _empty_account(params: dict[str, Any], where: Where) -> str:
    params["account"] = ""
    return "account"


def _account_not_a_value(params: dict[str, Any], where: Where) -> str:
    params["account"] = {"nested": "acct_1"}
    return "account"


def _components_not_an_object(params: dict[str, Any], where: Where) -> str:
    params["components"] = "true"
    return "components"


def _component_not_an_object(params: dict[str, Any], where: Where) -> str:
    params["components"][where.component] = "true"
    return _path(where)


def _features_not_an_object(params: dict[str, Any], where: Where) -> str:
    _comp(params, where)["features"] = "true"
    return _path(where, "features")


def _enabled_not_a_value(params: dict[str, Any], where: Where) -> str:
    _comp(params, where)["enabled"] = {"nested": True}
    return _path(where, "enabled")


def _feature_not_a_value(params: dict[str, Any], where: Where) -> str:
    assert where.feature is not None
    _features(params, where)[where.feature] = {"nested": True}
    return _path(where, "features", where.feature)


def _constraint_broken(params: dict[str, Any], where: Where) -> str:
    assert where.constraint is not None
    component, feature, value = where.constraint
    params["components"] = {component: {"enabled": True, "features": {feature: value}}}
    return f"components[{component}][features][{feature}]"


_MISSING, _UNKNOWN, _BOOLEAN, _KIND = (
    "validation.parameter_missing",
    "validation.parameter_unknown",
    "validation.invalid_boolean",
    "validation.invalid_value",
)

INVALID: tuple[Invalid, ...] = (
    Invalid("account_missing", _MISSING, "parameter_missing", "no account", _account_missing, sdk=True),
    Invalid(
        "components_missing", _MISSING, "parameter_missing", "no components", _components_missing, sdk=True
    ),
    Invalid(
        "enabled_missing",
        _MISSING,
        "parameter_missing",
        "a component without enabled",
        _enabled_missing,
        needs_feature=True,
        sdk=True,
    ),
    Invalid(
        "unknown_parameter",
        _UNKNOWN,
        "parameter_unknown",
        "an unknown top-level parameter",
        _unknown_parameter,
    ),
    Invalid(
        "unknown_component",
        _UNKNOWN,
        "parameter_unknown",
        "an unknown component",
        _unknown_component,
        sdk=True,
    ),
    Invalid(
        "unknown_component_key",
        _UNKNOWN,
        "parameter_unknown",
        "an unknown key in a component",
        _unknown_component_key,
    ),
    Invalid(
        "unknown_feature", _UNKNOWN, "parameter_unknown", "an unknown feature", _unknown_feature, sdk=True
    ),
    Invalid(
        "invalid_boolean_enabled",
        _BOOLEAN,
        "parameter_invalid",
        "enabled that is not true or false",
        _invalid_boolean_enabled,
        sdk=True,
    ),
    Invalid(
        "invalid_boolean_feature",
        _BOOLEAN,
        "parameter_invalid",
        "a feature that is not true or false",
        _invalid_boolean_feature,
        needs_feature=True,
    ),
    Invalid(
        "unknown_account",
        "validation.resource_missing",
        "resource_missing",
        "an account that does not exist",
        _unknown_account,
        sdk=True,
    ),
    Invalid("empty_account", _KIND, "parameter_invalid_empty", "an empty account", _empty_account),
    Invalid("account_not_a_value", _KIND, "parameter_invalid", "an object for account", _account_not_a_value),
    Invalid(
        "components_not_an_object",
        _KIND,
        "parameter_invalid",
        "a value for components",
        _components_not_an_object,
    ),
    Invalid(
        "component_not_an_object",
        _KIND,
        "parameter_invalid",
        "a value for a component",
        _component_not_an_object,
    ),
    Invalid(
        "features_not_an_object",
        _KIND,
        "parameter_invalid",
        "a value for features",
        _features_not_an_object,
    ),
    Invalid("enabled_not_a_value", _KIND, "parameter_invalid", "an object for enabled", _enabled_not_a_value),
    Invalid(
        "feature_not_a_value",
        _KIND,
        "parameter_invalid",
        "an object for a feature",
        _feature_not_a_value,
        needs_feature=True,
    ),
    Invalid(
        "constraint_broken",
        "constraint:",  # the broken constraint's own rule
        "constraint",
        "a feature value the account may not ask for",
        _constraint_broken,
        sdk=True,
    ),
)

_BY_NAME = {item.name: item for item in INVALID}
if len(_BY_NAME) != len(INVALID):  # pragma: no cover - a duplicate name is a mistake
    raise ValueError("two invalid requests share a name")


def invalid(name: str) -> Invalid:
    return _BY_NAME[name]
