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


Request = tuple[str, dict[str, Any], int, bool]  # archetype, components, order, escaped


def _codec(space: Space) -> tuple[int, Any]:
    """The bytes one request takes, and how they decode: one fixed-size byte string a
    request -- one draw is the cheapest thing hypothesis does, bytes are uniform (a
    bounded integer is drawn small), and they shrink towards zero: the first archetype,
    fewer components, fewer features."""
    width = len(space.components)
    feature_bits = 2 * sum(len(f) for f in space.features.values())
    widths = (8, width, width, feature_bits, 8)  # archetype, chosen, enabled, features, spelling
    archetypes = sorted(space.controllers)

    def decode(raw: bytes) -> Request:
        fields, at = [], 0
        for w in widths:
            n = (w + 7) // 8
            fields.append(int.from_bytes(raw[at : at + n], "little") % (1 << w))
            at += n
        pick, chosen, enabled, given, spelling = fields
        archetype = archetypes[pick % len(archetypes)]
        order = (spelling >> 1 & 1) * (given % 1009 + 1)
        return archetype, _decode(space, archetype, chosen, enabled, given), order, bool(spelling & 1)

    return sum((w + 7) // 8 for w in widths), decode


def _drawn(size: int, make: Any, batch: int | None) -> st.SearchStrategy[Any]:
    """``make(bytes)`` of ``size`` bytes a case; ``batch``: a list of that many, made
    from a list of byte strings (not a list of cases: the engine's cost a case is a
    fifth lower). Each case keeps a draw of its own: one draw of the whole batch's
    bytes was cheaper still, but shrank three to five times slower (byte by byte,
    where a draw a case is set to the simplest case at once)."""
    one = st.binary(min_size=size, max_size=size)
    if batch is None:
        return one.map(make)
    return st.lists(one, min_size=batch, max_size=batch).map(lambda raws: [make(raw) for raw in raws])


def valid_cases(contract: Contract, batch: int | None = None) -> st.SearchStrategy[Any]:
    """Any subset of components, any mix of enabled and features, any archetype;
    the documented constraints respected for the archetype's controller.
    ``batch``: lists of that many cases, drawn at once."""
    size, decode = _codec(Space.of(contract))

    def valid(raw: bytes) -> Case:
        archetype, components, order, escaped = decode(raw)
        return Case(archetype, {"account": ACCOUNT, "components": components}, order=order, escaped=escaped)

    return _drawn(size, valid, batch)


def invalid_cases(contract: Contract, batch: int | None = None) -> st.SearchStrategy[Any]:
    """A valid case with exactly one mutation that a conformant server refuses
    (a byte picks the mutation, two where it applies). ``batch``: as for valid cases."""
    space = Space.of(contract)
    size, decode = _codec(space)

    def invalid(raw: bytes) -> Case:
        mutation = MUTATIONS[raw[size] % len(MUTATIONS)]
        return _mutate(
            space, decode(raw[:size]), mutation, int.from_bytes(raw[size + 1 : size + 3], "little")
        )

    return _drawn(size + 3, invalid, batch)


def _mutate(space: Space, request: Request, mutation: str, pick: int) -> Case:
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
