"""Hypothesis strategies for Account Session requests, derived from the contract.

Generation is cheap on purpose: a case is a handful of integer draws (which
components, which are enabled, which features are given and how, how the form
is spelled) decoded into a request, instead of hundreds of small draws.
Integers shrink towards zero, so a failing case shrinks towards fewer
components and fewer features.

A :class:`Case` names an archetype, not an account: the account is made on the
target at run time and its id filled in by :meth:`Case.form`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from conformance.contracts.model import Contract
from conformance.forms import encode_form
from conformance.invalid import INVALID, Where, invalid
from conformance.oracle import flat_controller

__all__ = ["MUTATIONS", "Case", "Space", "invalid_cases", "valid_cases"]

ACCOUNT = "{account}"  # stands for the archetype's account until the case is sent
_ACCOUNT_ENCODED = quote(ACCOUNT, safe="")
# values that no reading of "boolean" accepts (a lenient server may take 1/0/True)
NOT_BOOLEANS = ("maybe", "yes_no", "tru", "2", "nope")
MUTATIONS = tuple(item.name for item in INVALID)


@dataclass(frozen=True)
class Case:
    """One request: the archetype of its account, its parameters, how it is spelled."""

    archetype: str
    params: dict[str, Any]
    order: int = 0  # 0: as built; otherwise a seed to shuffle the pairs with
    escaped: bool = False  # brackets percent-encoded (%5B %5D)
    mutation: str | None = None
    param: str | None = None  # the bracket path the mutation makes the server name
    label: str | None = None  # says what the case is when it did not come from these strategies

    def form(self, account: str) -> str:
        """The wire body, with the archetype's account filled in."""
        body = self._encoded().replace(_ACCOUNT_ENCODED, quote(account, safe=""))
        pairs = body.split("&")
        if self.order:
            random.Random(self.order).shuffle(pairs)
        if self.escaped:
            pairs = [p.replace("[", "%5B").replace("]", "%5D") for p in pairs]
        return "&".join(pairs)

    def _encoded(self) -> str:
        """The params encoded once, the account a placeholder (a case is sent more than
        once when hypothesis shrinks it)."""
        found: str | None = self.__dict__.get("_encoded_form")
        if found is None:
            found = encode_form(self.params)
            object.__setattr__(self, "_encoded_form", found)
        return found

    def describe(self) -> str:
        if self.label:
            return self.label
        what = f"invalid ({self.mutation}, names {self.param})" if self.mutation else "valid"
        spelled = ", pairs shuffled" if self.order else ""
        spelled += ", brackets percent-encoded" if self.escaped else ""
        return f"{what} request for a {self.archetype} account{spelled}"


@dataclass(frozen=True)
class Space:
    """The contract laid out for decoding integer draws."""

    components: tuple[str, ...]
    features: dict[str, tuple[str, ...]]
    controllers: dict[str, dict[str, str]]  # archetype -> flat controller it asks for
    constraints: tuple[tuple[str, str, bool], ...]  # (component, feature, value) some account may not ask for
    contract: Contract
    probes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, contract: Contract) -> Space:
        return cls(
            components=tuple(contract.component_names),
            features={n: tuple(c.request_features) for n, c in contract.components.items()},
            controllers={
                name: flat_controller({"controller": spec["controller"]})
                for name, spec in contract.archetypes.items()
            },
            constraints=tuple(sorted((c.component, c.feature, c.value) for c in contract.constraints)),
            contract=contract,
            probes=dict(contract.conventions.get("probes", {})),
        )

    def allowed(self, archetype: str, component: str, feature: str, value: bool) -> bool:
        return self.contract.allowed(component, feature, value, self.controllers[archetype]) is not False


def _bits(value: int, count: int) -> list[bool]:
    return [bool(value >> i & 1) for i in range(count)]


def _decode(space: Space, archetype: str, chosen: int, enabled: int, given: int) -> dict[str, Any]:
    """Integer draws -> components. ``given`` holds two bits a feature: set?, value."""
    names = [n for n, on in zip(space.components, _bits(chosen, len(space.components)), strict=True) if on]
    if not names:
        names = [space.components[0]]
    components: dict[str, Any] = {}
    for index, name in enumerate(names):
        conf: dict[str, Any] = {"enabled": bool(enabled >> index & 1)}
        features = {}
        for feat in space.features[name]:
            code, given = given & 3, given >> 2
            if code & 1:
                value = bool(code & 2)
                features[feat] = value if space.allowed(archetype, name, feat, value) else not value
        if features:
            conf["features"] = features
        components[name] = conf
    return components


def _requests(space: Space) -> st.SearchStrategy[tuple[str, dict[str, Any], int, bool]]:
    """One fixed-size byte string a request, decoded: one draw is the cheapest thing
    hypothesis does, bytes are uniform (a bounded integer is drawn small), and they
    shrink towards zero: the first archetype, fewer components, fewer features."""
    width = len(space.components)
    feature_bits = 2 * sum(len(f) for f in space.features.values())
    widths = (8, width, width, feature_bits, 8)  # archetype, chosen, enabled, features, spelling
    size = sum((w + 7) // 8 for w in widths)
    archetypes = sorted(space.controllers)

    def decode(raw: bytes) -> tuple[str, dict[str, Any], int, bool]:
        fields, at = [], 0
        for w in widths:
            n = (w + 7) // 8
            fields.append(int.from_bytes(raw[at : at + n], "little") % (1 << w))
            at += n
        pick, chosen, enabled, given, spelling = fields
        archetype = archetypes[pick % len(archetypes)]
        order = (spelling >> 1 & 1) * (given % 1009 + 1)
        return archetype, _decode(space, archetype, chosen, enabled, given), order, bool(spelling & 1)

    return st.binary(min_size=size, max_size=size).map(decode)


def valid_cases(contract: Contract) -> st.SearchStrategy[Case]:
    """Any subset of components, any mix of enabled and features, any archetype;
    the documented constraints respected for the archetype's controller."""
    space = Space.of(contract)
    return _requests(space).map(
        lambda t: Case(t[0], {"account": ACCOUNT, "components": t[1]}, order=t[2], escaped=t[3])
    )


def invalid_cases(contract: Contract) -> st.SearchStrategy[Case]:
    """A valid case with exactly one mutation that a conformant server refuses."""
    space = Space.of(contract)
    return st.tuples(_requests(space), st.sampled_from(MUTATIONS), st.integers(0, 2**16)).map(
        lambda t: _mutate(space, t[0], t[1], t[2])
    )


def _mutate(space: Space, request: tuple[str, dict[str, Any], int, bool], mutation: str, pick: int) -> Case:
    """One entry of :data:`conformance.invalid.INVALID` applied to a valid request, at a
    component (and feature) ``pick`` chooses; a bad boolean is one of several spellings."""
    archetype, components, order, escaped = request
    item = invalid(mutation)
    names = list(components)
    name = names[pick % len(names)]
    if item.needs_feature and not space.features[name]:
        with_features = [n for n in space.components if space.features[n]]
        name = with_features[pick % len(with_features)]
    features = space.features[name]
    constraint = None
    if mutation == "constraint_broken":
        breakable = [
            (arch, broken)
            for broken in space.constraints
            for arch in sorted(space.controllers)
            if not space.allowed(arch, *broken)
        ]
        archetype, constraint = breakable[pick % len(breakable)]
    probes = {**space.probes, "invalid_boolean": NOT_BOOLEANS[pick % len(NOT_BOOLEANS)]}
    where = Where(name, features[pick % len(features)] if features else None, probes, constraint)
    params, param = item.apply({"account": ACCOUNT, "components": components}, where)
    return Case(archetype, params, order=order, escaped=escaped, mutation=mutation, param=param)
