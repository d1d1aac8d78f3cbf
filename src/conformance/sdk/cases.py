"""The requests an SDK is put through, built from the contract.

A :class:`Case` holds SDK-side parameters (Python values: booleans are
``True``/``False``, as a program calling the SDK would pass them) with
:data:`ACCOUNT` standing for the archetype's account until the case is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.contracts.model import Contract
from conformance.forms import decode_form, encode_form
from conformance.invalid import INVALID, Where, invalid

__all__ = [
    "ACCOUNT",
    "COMPONENT_ARCHETYPE",
    "ERRORS",
    "Case",
    "component_case",
    "error_case",
    "example_case",
    "fuzzed_cases",
    "headers_case",
]

ACCOUNT = "{account}"
COMPONENT_ARCHETYPE = "none"  # platform-collected: every constraint allows both values
ERROR_COMPONENT = "payments"
ERRORS = tuple(item.name for item in INVALID if item.sdk)  # the refusals made through an SDK


@dataclass(frozen=True)
class Case:
    name: str
    archetype: str
    params: dict[str, Any]
    idempotency_key: str | None = None
    api_version: str | None = None
    error_param: str | None = None  # the bracket param the target must name; None: a session

    def filled(self, account: str) -> dict[str, Any]:
        return _fill(self.params, account)

    def description(self, account: str) -> dict[str, Any]:
        """The adapter's stdin: the parameters, and the request options given."""
        described = self.filled(account)
        if self.idempotency_key:
            described["idempotency_key"] = self.idempotency_key
        if self.api_version:
            described["api_version"] = self.api_version
        return described

    def wire(self, account: str) -> dict[str, Any]:
        """The intended request in wire form (every leaf a string), for comparison."""
        return decode_form(encode_form(self.filled(account)))


def _fill(value: Any, account: str) -> Any:
    if isinstance(value, Mapping):
        return {k: _fill(v, account) for k, v in value.items()}
    return account if value == ACCOUNT else value


def example_case(contract: Contract, archetype: str = "express") -> Case:
    """The documented example request."""
    params = dict(contract.examples["create_account_session.request"]["params"])
    return Case("example", archetype, {**params, "account": ACCOUNT})


def headers_case(contract: Contract, api_version: str | None) -> Case:
    """The documented example with an idempotency key and an API version (when one is known)."""
    base = example_case(contract)
    key = f"conformance-sdk-{uuid.uuid4()}"
    return Case("headers", base.archetype, base.params, idempotency_key=key, api_version=api_version)


def component_case(contract: Contract, component: str, controller: Mapping[str, str]) -> Case:
    """The component enabled with every request feature set: each to the opposite of
    its default where the account may ask for that, else to its default."""
    comp = contract.components[component]
    defaults = contract.effective_features(component, {}, controller)
    given: dict[str, bool] = {}
    for feat in comp.request_features:
        default = defaults.get(feat)
        flipped = not default if default is not None else True
        given[feat] = (
            flipped if contract.allowed(component, feat, flipped, controller) is not False else not flipped
        )
    conf: dict[str, Any] = {"enabled": True}
    if given:
        conf["features"] = given
    return Case(
        f"component:{component}", COMPONENT_ARCHETYPE, {"account": ACCOUNT, "components": {component: conf}}
    )


def error_case(
    contract: Contract, name: str, controllers: Mapping[str, Mapping[str, str] | None]
) -> Case | None:
    """A request the target must refuse, as an SDK user could make it; None when no
    archetype lets it be made (a constraint every archetype satisfies)."""
    item = invalid(name)
    probes = contract.conventions["probes"]
    comp = ERROR_COMPONENT
    where = Where(comp, contract.components[comp].request_features[0], probes)
    archetype = "express"
    if name == "constraint_broken":
        found = next(
            (
                (arch, c)
                for c in contract.constraints
                for arch, controller in controllers.items()
                if contract.allowed(c.component, c.feature, c.value, controller) is False
            ),
            None,
        )
        if found is None:
            return None
        archetype, constraint = found
        broken = (constraint.component, constraint.feature, constraint.value)
        where = Where(comp, where.feature, probes, broken)
    params, param = item.apply({"account": ACCOUNT, "components": {comp: {"enabled": True}}}, where)
    return Case(name, archetype, params, error_param=param)


def fuzzed_cases(contract: Contract, count: int, seed: int | None) -> list[Case]:
    """``count`` valid requests from the fuzz strategies, the same for the same seed.

    Raises ImportError (or AttributeError) when :mod:`conformance.fuzz` is not there."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    from conformance import fuzz

    placeholder = getattr(fuzz.strategies, "ACCOUNT", ACCOUNT) if hasattr(fuzz, "strategies") else ACCOUNT
    drawn: list[Any] = []

    @settings(
        max_examples=count * 5,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        derandomize=seed is None,
        suppress_health_check=list(HealthCheck),
    )
    @given(fuzz.valid_cases(contract))
    def collect(case: Any) -> None:
        if len(drawn) < count and all(case.params != c.params for c in drawn):
            drawn.append(case)

    (with_seed(seed)(collect) if seed is not None else collect)()
    return [
        Case(f"fuzz:{i}", case.archetype, _swap(case.params, placeholder)) for i, case in enumerate(drawn)
    ]


def _swap(value: Any, placeholder: str) -> Any:
    if isinstance(value, Mapping):
        return {k: _swap(v, placeholder) for k, v in value.items()}
    return ACCOUNT if value == placeholder else value
