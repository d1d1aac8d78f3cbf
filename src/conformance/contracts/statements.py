"""Turn one sentence of a field's prose into a structured statement, or refuse.

Every pattern here is a shape of sentence the API reference uses to state a
rule. A sentence that sounds normative (it speaks of defaults, "only",
"must", a literal ``true``/``false``...) but matches no pattern is returned as
unparsed: the importer reports it and never guesses.

Two phrasings name an account's controller without naming the field; the
table ``PHRASES`` maps them, and every statement built from it says so in
``interpreted`` so that a reviewer sees the reading.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["PHRASES", "Statement", "classify"]

# phrase (lower case, normalised spaces) -> (id, condition on the account)
PHRASES: dict[str, tuple[str, dict[str, str]]] = {
    "stripe owns loss liability": (
        "stripe_owns_loss_liability",
        {"controller.losses.payments": "stripe"},
    ),
    "you're responsible for collecting updated information when requirements are due or change,"
    " like custom accounts": (
        "platform_collects_requirements",
        {"controller.requirement_collection": "application"},
    ),
}

_NORMATIVE = re.compile(r"\b(default|defaults|only|must|should|required|never|always)\b|`(true|false)`", re.I)


@dataclass(frozen=True)
class Statement:
    kind: str  # default | constraint | illustration | empty_features | secret | mode | reference
    data: dict[str, Any]
    interpreted: str | None = None


def _bool(text: str) -> bool:
    return text.lower() == "true"


def _phrase(text: str) -> tuple[str, dict[str, str]] | None:
    return PHRASES.get(" ".join(text.lower().split()))


def _constant(m: re.Match[str]) -> Statement:
    return Statement("default", {"kind": "constant", "value": _bool(m[1])})


def _opposite(m: re.Match[str]) -> Statement:
    return Statement("default", {"kind": "opposite", "of": m[1]})


def _relation(m: re.Match[str]) -> Statement | None:
    when_on, when_off = _bool(m[1]), _bool(m[3])
    if when_on == when_off:
        return Statement("default", {"kind": "constant", "value": when_on})
    kind = "same" if when_on else "opposite"
    return Statement("default", {"kind": kind, "of": m[2]})


def _conditional(m: re.Match[str]) -> Statement:
    rule = {"kind": "conditional", "when": {m[2]: m[3]}, "then": _bool(m[1]), "else": _bool(m[4])}
    return Statement("default", rule)


def _phrase_conditional(m: re.Match[str]) -> Statement | None:
    found = _phrase(m[2])
    if found is None:
        return None
    phrase_id, condition = found
    rule = {"kind": "conditional", "when": condition, "then": _bool(m[1]), "else": _bool(m[3])}
    return Statement("default", rule, interpreted=phrase_id)


def _constraint(m: re.Match[str]) -> Statement:
    return Statement("constraint", {"value": _bool(m[1]), "requires": {m[2]: m[3]}})


def _phrase_constraint(m: re.Match[str]) -> Statement | None:
    found = _phrase(m[2])
    if found is None:
        return None
    phrase_id, condition = found
    return Statement("constraint", {"value": _bool(m[1]), "requires": condition}, phrase_id)


def _illustration(m: re.Match[str]) -> Statement:
    return Statement(
        "illustration",
        {"unset": m[1], "then": {m[1]: _bool(m[2]), m[3]: _bool(m[4])}},
    )


def _fixed(kind: str, **data: Any) -> Callable[[re.Match[str]], Statement]:
    return lambda _m: Statement(kind, dict(data))


_B = r"`?(true|false)`?"
_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Statement | None]]] = [
    (re.compile(rf"The default value for this feature is {_B}\."), _constant),
    (re.compile(rf"This is {_B} by default\."), _constant),
    (re.compile(r"The default value is the opposite of the `(\w+)` value\."), _opposite),
    (
        re.compile(
            rf"The default value for this feature is {_B} when `(\w+)` is enabled and {_B} otherwise\."
        ),
        _relation,
    ),
    (
        re.compile(rf"Defaults to {_B} when `([\w.]+)` is set to `(\w+)` for the account, otherwise {_B}\."),
        _conditional,
    ),
    (re.compile(rf"Default {_B} when (.+?), default {_B} otherwise\."), _phrase_conditional),
    (
        re.compile(
            rf"This value can only be {_B} for accounts where `([\w.]+)` is `(\w+)` for the account\."
        ),
        _constraint,
    ),
    (re.compile(rf"This feature can only be {_B} for accounts where (.+?)\."), _phrase_constraint),
    (
        re.compile(
            rf"For example, if you don't set `(\w+)`, it defaults to {_B} and `(\w+)` defaults to {_B}\."
        ),
        _illustration,
    ),
    (
        re.compile(r"An empty list, because this embedded component has no features\."),
        _fixed("empty_features"),
    ),
    (
        re.compile(r"It should not be stored, logged, or exposed to anyone other than .+\."),
        _fixed("secret"),
    ),
    (
        re.compile(
            r"Has the value `true` if the object exists in live mode or the value `false`"
            r" if the object exists in test mode\."
        ),
        _fixed("mode", follows="key_mode"),
    ),
    (re.compile(r"Refer to .+"), _fixed("reference")),
]


def classify(sentence: str) -> Statement | str | None:
    """A :class:`Statement`, ``None`` for plain description, or the sentence itself
    (a ``str``) when it reads as a rule that no pattern understands."""
    for pattern, build in _PATTERNS:
        match = pattern.fullmatch(sentence)
        if match:
            built = build(match)
            if built is not None:
                return built
            return sentence
    if _NORMATIVE.search(sentence):
        return sentence
    return None
