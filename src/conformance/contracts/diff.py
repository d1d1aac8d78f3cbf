"""``conformance contracts diff``: what changed between two contracts, and whether
a client written against the old one can break against the new one.

Each change is *breaking* (a request or a reading that worked may no longer),
*additive* (more is accepted or answered; nothing that worked stops working) or
a *note* (examples, the docs' inconsistencies: nothing is promised by them).

The loaded models are compared, not the files: a page reflowed or reordered
gives no change. Provenance (hashes, sizes, which page states a fact) and the
hand-kept ``conventions.yaml`` are not compared.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from conformance.contracts.model import Contract, DefaultRule, Feature

__all__ = ["ADDITIVE", "BREAKING", "NOTE", "Change", "diff_contracts", "render"]

BREAKING, ADDITIVE, NOTE = "breaking", "additive", "note"
_GROUPS = ((BREAKING, "breaking"), (ADDITIVE, "additive"), (NOTE, "notes"))
_ABSENT: Any = object()


@dataclass(frozen=True)
class Change:
    kind: str
    severity: str
    path: str
    old: Any = None
    new: Any = None
    rule: str | None = None  # the catalogue's id, for defaults and constraints

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        head = f"{self.kind}: {self.path}" + (f" [{self.rule}]" if self.rule else "")
        if self.old is not None and self.new is not None:
            return f"{head}: was {_show(self.old)}; now {_show(self.new)}"
        if self.new is not None:
            return f"{head}: {_show(self.new)}"
        return f"{head}: was {_show(self.old)}" if self.old is not None else head


def diff_contracts(old: Contract, new: Contract) -> list[Change]:
    """Every change from ``old`` to ``new``, breaking first, then additive, then notes."""
    fresh = _fresh_unparsed(old, new)
    changes = [
        *_fields(old, new),
        *_components(old, new),
        *_defaults(old, new, fresh),
        *_constraints(old, new),
        *_examples(old, new),
        *_inconsistencies(old, new),
        *_unparsed(old, new, fresh),
    ]
    order = [s for s, _ in _GROUPS]
    return sorted(changes, key=lambda c: order.index(c.severity))


def render(changes: list[Change]) -> list[str]:
    """One line per change, grouped by severity, then the count line."""
    if not changes:
        return ["no changes"]
    lines = []
    for severity, title in _GROUPS:
        group = [c for c in changes if c.severity == severity]
        if group:
            lines += [f"{title} ({len(group)}):", *(f"  {c.line()}" for c in group)]
    counts = {s: sum(1 for c in changes if c.severity == s) for s, _ in _GROUPS}
    lines.append(
        f"{len(changes)} change(s): {counts[BREAKING]} breaking, {counts[ADDITIVE]} additive,"
        f" {counts[NOTE]} notes"
    )
    return lines


def _fields(old: Contract, new: Contract) -> Iterator[Change]:
    for side, noun in (("request", "parameter"), ("response", "response field")):
        before, after = old.fields.get(side, {}), new.fields.get(side, {})
        for name in sorted(before.keys() | after.keys()):
            path, was, now = f"{side}.{name}", before.get(name), after.get(name)
            if now is None:
                yield Change(f"{noun} removed", BREAKING, path, _facts(was))
            elif was is None:
                # a parameter every request must now carry breaks the clients that do not send it
                required = side == "request" and bool(now.get("required"))
                yield Change(f"{noun} added", BREAKING if required else ADDITIVE, path, None, _facts(now))
            else:
                yield from _attributes(path, _facts(was), _facts(now))


def _attributes(path: str, was: dict[str, Any], now: dict[str, Any]) -> Iterator[Change]:
    for key in sorted(was.keys() | now.keys()):
        a, b = was.get(key), now.get(key)
        if a == b:
            continue
        if key == "type":
            yield Change("type changed", BREAKING, path, a, b)
        elif key == "required":
            yield Change("required changed", BREAKING if b else ADDITIVE, path, bool(a), bool(b))
        else:
            yield Change(f"{key} changed", NOTE, path, a, b)


def _components(old: Contract, new: Contract) -> Iterator[Change]:
    for name in sorted(old.components.keys() | new.components.keys()):
        path, was, now = f"components.{name}", old.components.get(name), new.components.get(name)
        if now is None and was is not None:
            yield Change("component removed", BREAKING, path, sorted(was.features))
        elif was is None and now is not None:
            yield Change("component added", ADDITIVE, path, None, sorted(now.features))
        elif was is not None and now is not None:
            a, b = was.enabled_required, now.enabled_required
            if a != b:  # `enabled` must now be sent with the component: breaks those that do not
                yield Change("required changed", BREAKING if b else ADDITIVE, f"{path}.enabled", a, b)
            for feat in sorted(was.features.keys() | now.features.keys()):
                yield from _feature(f"{path}.features.{feat}", was.features.get(feat), now.features.get(feat))


def _feature(path: str, was: Feature | None, now: Feature | None) -> Iterator[Change]:
    if now is None and was is not None:
        yield Change("feature removed", BREAKING, path, _roles(was))
    elif was is None and now is not None:
        yield Change("feature added", ADDITIVE, path, None, _roles(now))
    elif was is not None and now is not None:
        if was.type != now.type:
            yield Change("type changed", BREAKING, path, was.type, now.type)
        for role, noun in (("request", "parameter"), ("response", "response field")):
            a, b = getattr(was, role), getattr(now, role)
            if a != b:
                yield Change(f"{noun} {'added' if b else 'removed'}", ADDITIVE if b else BREAKING, path)


def _defaults(old: Contract, new: Contract, fresh: dict[str, list[str]]) -> Iterator[Change]:
    for comp, feat, was, now in _shared_features(old, new):
        a, b = was.default, now.default
        path, rule_id = f"components.{comp}.features.{feat}", f"default:{comp}.{feat}"
        if a is None and b is not None:
            yield Change("default added", ADDITIVE, path, None, _rule(b), rule_id)
        elif a is not None and b is None:
            sev = BREAKING if a.grade == "doc" else NOTE
            yield Change("default removed", sev, path, _rule(a), _rule(None, fresh, path, sev), rule_id)
        elif a is not None and b is not None and (a.rule, a.grade) != (b.rule, b.grade):
            # a documented default that now differs, or is now only seen in an example, is no
            # longer promised; an example-only one promised nothing (documented now: additive)
            sev = BREAKING if a.grade == "doc" else ADDITIVE if a.rule == b.rule else NOTE
            yield Change("default changed", sev, path, _rule(a), _rule(b, fresh, path, sev), rule_id)
        elif a is not None and b is not None and a.interpreted != b.interpreted:
            yield Change(
                "default wording changed", NOTE, path, a.interpreted or None, b.interpreted or None, rule_id
            )


def _rule(
    default: DefaultRule | None, fresh: dict[str, list[str]] | None = None, path: str = "", severity: str = ""
) -> dict[str, Any] | None:
    """A default as shown: what it says, its grade, the rule; with the statements on the
    same field the importer could not read, when they explain a breaking change."""
    shown: dict[str, Any] = (
        {"says": default.describe(), "grade": default.grade, "rule": default.rule}
        if default
        else {"says": "no default", "grade": None, "rule": None}
    )
    if fresh is not None and severity == BREAKING and path in fresh:
        shown["not_understood"] = fresh.pop(path)
    return shown if default or "not_understood" in shown else None


def _shared_features(old: Contract, new: Contract) -> Iterator[tuple[str, str, Feature, Feature]]:
    for comp in sorted(old.components.keys() & new.components.keys()):
        was, now = old.components[comp].features, new.components[comp].features
        for feat in sorted(was.keys() & now.keys()):
            yield comp, feat, was[feat], now[feat]


def _constraints(old: Contract, new: Contract) -> Iterator[Change]:
    shared = {(comp, feat) for comp, feat, _, _ in _shared_features(old, new)}
    before = {c.id: c for c in old.constraints if (c.component, c.feature) in shared}
    after = {c.id: c for c in new.constraints if (c.component, c.feature) in shared}
    for cid in sorted(before.keys() | after.keys()):
        was, now = before.get(cid), after.get(cid)
        some = now or was
        assert some is not None
        path, rule_id = f"components.{some.component}.features.{some.feature}", f"constraint:{cid}"
        if now is None and was is not None:
            # a constraint gone: requests it refused are accepted; none that worked is refused
            yield Change("constraint removed", ADDITIVE, path, was.describe(), None, rule_id)
        elif was is None and now is not None:
            # a constraint added narrows what clients may send: a request that worked for
            # some accounts is now refused with a 400
            yield Change("constraint added", BREAKING, path, None, now.describe(), rule_id)
        elif was is not None and now is not None and (was.requires, was.grade) != (now.requires, now.grade):
            # the conditions must all hold: fewer of them allow more accounts, any other change
            # refuses some account that was allowed
            fewer = set(now.requires.items()) <= set(was.requires.items())
            severity = NOTE if was.requires == now.requires else ADDITIVE if fewer else BREAKING
            yield Change("constraint changed", severity, path, was.describe(), now.describe(), rule_id)


def _examples(old: Contract, new: Contract) -> Iterator[Change]:
    for name in sorted(old.examples.keys() | new.examples.keys()):
        was, now = old.examples.get(name), new.examples.get(name)
        path = f"examples/{name}"
        if now is None and was is not None:
            yield Change("example removed", NOTE, path, was.get("source"))
        elif was is None and now is not None:
            yield Change("example added", NOTE, path, None, now.get("source"))
        else:
            for where, a, b in _leaves(was, now, ""):
                yield Change("example changed", NOTE, f"{path}:{where or '.'}", a, b)


def _leaves(a: Any, b: Any, where: str) -> Iterator[tuple[str, Any, Any]]:
    """Where two JSON values differ: into objects both sides have, whole values otherwise
    (a key on one side only is shown as null on the other)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            yield from _leaves(a.get(key, _ABSENT), b.get(key, _ABSENT), f"{where}.{key}".lstrip("."))
    elif a != b or type(a) is not type(b):
        yield where, None if a is _ABSENT else a, None if b is _ABSENT else b


def _inconsistencies(old: Contract, new: Contract) -> Iterator[Change]:
    """By facts and path (ids are renumbered on every import). Facts of one kind that
    changed on a path they share (the pages' component counts, say) are one change."""
    gone, came = _facts_by_path(old, new), _facts_by_path(new, old)
    for facts, paths in list(came.items()):
        now = json.loads(facts)
        match = next(
            (f for f, p in gone.items() if p & paths and json.loads(f).get("kind") == now.get("kind")), None
        )
        if match is not None:
            was, where = json.loads(match), ", ".join(sorted(gone.pop(match) | came.pop(facts)))
            parts = list(_leaves(was, now, ""))
            olds, news = ({w: p[i] for w, *p in parts} for i in (0, 1))
            yield Change("inconsistency changed", NOTE, where, olds, news)
    for kind, found, side in (("removed", gone, "old"), ("added", came, "new")):
        for facts, paths in sorted(found.items()):
            yield Change(
                f"inconsistency {kind}", NOTE, ", ".join(sorted(paths)) or "-", **{side: json.loads(facts)}
            )


def _facts_by_path(contract: Contract, other: Contract) -> dict[str, set[str]]:
    """Facts (as JSON) -> the paths ``contract`` states them for and ``other`` does not."""

    def pairs(c: Contract) -> set[tuple[str, str]]:
        facts = [
            ({k: v for k, v in i.items() if k not in ("id", "paths")}, i.get("paths"))
            for i in c.inconsistencies
        ]
        return {(json.dumps(f, sort_keys=True), str(p)) for f, paths in facts for p in paths or [""]}

    found: dict[str, set[str]] = {}
    for facts, path in pairs(contract) - pairs(other):
        found.setdefault(facts, set()).add(path)
    return found


def _unparsed_keys(contract: Contract) -> set[tuple[str, ...]]:
    return {tuple(str(u.get(k, "")) for k in ("path", "source", "statement")) for u in contract.unparsed}


def _fresh_unparsed(old: Contract, new: Contract) -> dict[str, list[str]]:
    fresh: dict[str, list[str]] = {}
    for path, source, statement in sorted(_unparsed_keys(new) - _unparsed_keys(old)):
        fresh.setdefault(path, []).append(f"{source}: {statement}" if source.strip("-") else statement)
    return fresh


def _unparsed(old: Contract, new: Contract, fresh: dict[str, list[str]]) -> Iterator[Change]:
    for path, statements in sorted(fresh.items()):
        # the docs now state a rule the contract cannot hold: whether it narrows anything is
        # unknown, so it counts as breaking until a person has read it
        for statement in statements:
            yield Change("rule not understood", BREAKING, path or "-", None, statement)
    for path, source, statement in sorted(_unparsed_keys(old) - _unparsed_keys(new)):
        yield Change("unreadable rule gone", NOTE, path or "-", f"{source}: {statement}")


def _facts(field: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (field or {}).items() if k != "sources"}


def _roles(feature: Feature) -> str:
    roles = [n for n, on in (("parameter", feature.request), ("response field", feature.response)) if on]
    default = f", {feature.default.describe()} ({feature.default.grade})" if feature.default else ""
    return f"{feature.type} {' and '.join(roles) or 'field'}{default}"


def _show(value: Any) -> str:
    if isinstance(value, dict) and "says" in value:
        grade = f" ({value['grade']})" if value.get("grade") else ""
        unread = "".join(f"; not understood: {s}" for s in value.get("not_understood", []))
        return f"{value['says']}{grade}{unread}"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."
