"""What the oracle expects: a session (every component, the rule behind each value,
the documented fields) or an error (status, type, the param to name), and the
constraints it cannot decide for a controller the target did not report."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from conformance.catalogue import Rule

__all__ = [
    "ANY",
    "EXPIRY",
    "SECRET",
    "Accounts",
    "Expected",
    "ExpectedError",
    "ExpectedSession",
    "Undecided",
    "flat_controller",
    "is_map",
]


SECRET, EXPIRY, ANY = "<secret>", "<expiry>", "<any>"  # what a field must be, when no value


# account id -> its controller as flat dotted fields, or None when not known
Accounts = Mapping[str, Mapping[str, str] | None]


def is_map(value: object) -> TypeGuard[Mapping[Any, Any]]:
    """``isinstance(value, Mapping)``, quicker for the dicts a decoded form holds."""
    return isinstance(value, (dict, Mapping))  # a dict is seen first, without the ABC's check


@dataclass(frozen=True)
class Undecided:
    """A constraint the request meets whose condition is on controller fields the
    target did not report: refusing and accepting are both possible answers."""

    param: str
    rule: Rule
    unknown: tuple[str, ...]  # the controller fields it depends on


@dataclass(frozen=True)
class ExpectedError:
    status: int
    type: str
    param: str | None
    code: str | None
    rule: Rule
    deeper_ok: bool = False  # an object sent where a value belongs: its inner path may be named
    # other problems of the same request with the same status and type: which one a
    # server names first is not documented, so naming any of them is right
    alternatives: tuple[str, ...] = ()
    deeper: tuple[str, ...] = ()  # alternatives whose inner paths may be named too

    def names(self, param: object) -> bool:
        """Whether an error naming ``param`` names what this expectation means."""
        if self.param is None or param == self.param or param in self.alternatives:
            return True
        if not isinstance(param, str):
            return False
        heads = (*((self.param,) if self.deeper_ok else ()), *self.deeper)
        return any(param.startswith(head + "[") for head in heads)


@dataclass(frozen=True)
class ExpectedSession:
    account: str
    livemode: bool
    components: dict[str, dict[str, Any]]  # name -> {"enabled": bool, "features": {f: bool | None}}
    rules: dict[tuple[str, ...], Rule]  # (component[, "enabled" | "features"[, feature]]) -> rule
    # every documented top-level field: (name, JSON type, what it must be). What: a value it
    # must equal, SECRET (a non-empty string), EXPIRY (a timestamp within ``expires_within``
    # after the request) or ANY (present, of its type); the rule is ``session.<name>``
    fields: tuple[tuple[str, str, Any], ...] = ()
    expires_within: tuple[int, int] = (86400, 120)  # at most this many seconds ahead, this clock skew
    undecided: tuple[Undecided, ...] = ()
    unknown: dict[tuple[str, str], tuple[str, ...]] = dataclasses.field(default_factory=dict)

    def rule_at(self, path: tuple[str, ...]) -> Rule:
        while path and path not in self.rules:
            path = path[:-1]
        return self.rules[path] if path else self.rules[()]


Expected = ExpectedSession | ExpectedError


def flat_controller(account: Mapping[str, Any]) -> dict[str, str]:
    """``{"controller": {"losses": {"payments": "stripe"}}}`` becomes
    ``{"controller.losses.payments": "stripe"}``."""
    flat: dict[str, str] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        elif isinstance(node, str | bool):
            flat[prefix] = str(node).lower() if isinstance(node, bool) else node

    walk("controller", account.get("controller") or {})
    return flat
