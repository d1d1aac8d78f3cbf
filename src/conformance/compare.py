"""Compare an actual answer with the oracle's: a fast equality first, deepdiff to explain.

Every difference becomes a :class:`Finding` with a severity:

- ``failure``: a missing component or feature, a wrong JSON type, a value that
  breaks a doc or convention rule, a wrong status, error type or param;
- ``note``: a value that differs from an example-only value, or from a rule
  marked free (the wording of ``error.code``);
- ``warning``: something the contract does not know (a new component, feature
  or field): additive drift. The API grows; a tolerant reader accepts it;
- ``inconclusive``: the expectation depends on a fact the target did not give
  (the controller of an account it made): never a pass, never a failure.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

from conformance.catalogue import Rule, Severity
from conformance.findings import ABSENT as _ABSENT
from conformance.findings import FAILURE, INCONCLUSIVE, NOTE, WARNING, Finding, Outcome, json_type
from conformance.oracle import ANY, EXPIRY, SECRET, ExpectedError, ExpectedSession

__all__ = [
    "FAILURE",
    "INCONCLUSIVE",
    "NOTE",
    "WARNING",
    "Finding",
    "Outcome",
    "compare_error",
    "compare_replay",
    "compare_session",
    "json_type",
]

Rules = Mapping[str, Rule]
# expires_at must be after the request: a whole-second timestamp may round down by up to a second
_ROUNDING = 2


def _canonical(value: Any) -> str:
    # json keeps true apart from 1, which Python's == does not
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _error_summary(body: Any) -> Any:
    """What a status finding shows of the body: the error, or the shape of anything else."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return {k: body["error"].get(k) for k in ("type", "param", "code")}
    if isinstance(body, dict):
        return {"object": body.get("object"), "fields": sorted(body)}
    return json_type(body)


def compare_session(
    status: int,
    body: Any,
    expected: ExpectedSession,
    rules: Rules,
    *,
    sent_at: float,
    focus: Iterable[str] | None = None,
    fields: bool = True,
    values: bool = True,
) -> Outcome:
    """Judge a session answer. ``focus`` limits the component comparison to some
    components; ``fields=False`` skips the top-level fields (checked elsewhere);
    ``values=False`` compares shape only: presence and JSON types."""
    out = Outcome()
    names = list(expected.components) if focus is None else list(focus)
    undecided = [u for u in expected.undecided if _component_of(u.param) in names]
    if status != 200:
        refused = _error_param(body)
        for item in undecided:
            if 400 <= status < 500 and refused == item.param:
                out.add(INCONCLUSIVE, "status", item.param, item.rule, _unknown_text(item.unknown), status)
                return out
        out.add(
            FAILURE,
            "status",
            "status",
            rules["session.created"],
            200,
            {"status": status, "body": _error_summary(body)},
        )
        return out
    if not isinstance(body, dict):
        out.add(FAILURE, "shape", "body", rules["session.created"], "a JSON object", json_type(body))
        return out
    if fields:
        _compare_fields(out, body, expected, rules, sent_at)
    for item in undecided:  # accepted: whether it had to be refused is unknown
        out.add(INCONCLUSIVE, "value", item.param, item.rule, _unknown_text(item.unknown), "accepted")
    actual_components = body.get("components", _ABSENT)
    if not isinstance(actual_components, dict):
        out.add(
            FAILURE,
            "missing" if actual_components is _ABSENT else "type",
            "components",
            rules["session.components"],
            "object",
            actual_components if actual_components is _ABSENT else json_type(actual_components),
        )
        return out
    want = {n: expected.components[n] for n in names}
    have = {n: actual_components[n] for n in names if n in actual_components}
    if focus is None:
        have.update({n: v for n, v in actual_components.items() if n not in want})
    want, have = _drop_unknown(out, want, have, expected)
    if not values:
        want, have = _skeleton(want), _skeleton(have)
    if _canonical(want) == _canonical(have):
        return out
    _classify(out, want, have, expected, rules["drift.additive"])
    return out


def _compare_fields(
    out: Outcome, body: dict[str, Any], expected: ExpectedSession, rules: Rules, sent_at: float
) -> None:
    """Every documented top-level field, as the oracle says it must be (``ExpectedSession.fields``)."""
    fields_rule = rules["session.fields"]
    for name, kind, what in expected.fields:
        rule = rules.get(f"session.{name}", fields_rule)
        got = body.get(name, _ABSENT)
        if got is _ABSENT:
            out.add(FAILURE, "missing", name, fields_rule, kind if what in (SECRET, EXPIRY, ANY) else what)
        elif json_type(got) != kind:
            out.add(FAILURE, "type", name, fields_rule, kind, json_type(got))
        elif what == SECRET:
            if not got:
                out.add(FAILURE, "value", name, rule, "a non-empty string", got)
        elif what == EXPIRY:
            max_ahead, skew = expected.expires_within
            if not sent_at - _ROUNDING < got <= sent_at + max_ahead + skew:
                window = f"between {int(sent_at)} and {int(sent_at) + max_ahead}"
                out.add(FAILURE, "value", name, rule, window, got)
        elif what != ANY and got != what:
            out.add(FAILURE, "value", name, rule, what, got)
    known = {name for name, _, _ in expected.fields} | {"components"}
    for name in body:
        if name not in known:
            out.add(WARNING, "extra", name, rules["drift.additive"], actual=body[name])


def _component_of(param: str) -> str:
    """``components[payouts][features][x]`` -> ``payouts``."""
    return param.split("[", 2)[1].rstrip("]") if param.startswith("components[") else ""


def _error_param(body: Any) -> Any:
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("param") if isinstance(error, dict) else None


def _unknown_text(fields: Iterable[str]) -> str:
    listed = ", ".join(fields) or "the account's controller"
    return f"unknown: depends on {listed}, which the target did not report"


def _skeleton(value: Any) -> Any:
    """Leaves replaced by their JSON type names: what a shape comparison sees."""
    if isinstance(value, dict):
        return {k: _skeleton(v) for k, v in value.items()}
    return json_type(value)


def _drop_unknown(
    out: Outcome, want: dict[str, Any], have: dict[str, Any], expected: ExpectedSession
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Values the oracle cannot know (None) are checked for presence and type only."""
    unknown = [(c, f) for c, v in want.items() for f, x in v["features"].items() if x is None]
    if not unknown:
        return want, have
    want, have = copy.deepcopy(want), copy.deepcopy(have)
    for comp, feat in unknown:
        del want[comp]["features"][feat]
        features = (have.get(comp) or {}).get("features")
        path = f"components.{comp}.features.{feat}"
        rule = expected.rule_at((comp, "features", feat))
        if isinstance(features, dict) and feat in features:
            value = features.pop(feat)
            if not isinstance(value, bool):
                out.add(FAILURE, "type", path, rule, "boolean", json_type(value))
            else:
                out.add(
                    INCONCLUSIVE,
                    "value",
                    path,
                    rule,
                    _unknown_text(expected.unknown.get((comp, feat), ())),
                    value,
                )
        else:
            want[comp]["features"][feat] = "(a boolean)"
    return want, have


def _classify(
    out: Outcome, want: dict[str, Any], have: dict[str, Any], expected: ExpectedSession, drift: Rule
) -> None:
    from deepdiff import DeepDiff  # only on a mismatch

    diff = DeepDiff(want, have, view="tree")
    out.explanation = diff.pretty()
    for change, items in diff.items():
        for item in items:
            path = tuple(str(p) for p in item.path(output_format="list"))
            dotted = ".".join(("components", *path))
            rule = expected.rule_at(path)
            if change == "dictionary_item_added":
                out.add(WARNING, "extra", dotted, drift, actual=item.t2)
            elif change == "dictionary_item_removed":
                out.add(_missing_severity(path, expected), "missing", dotted, rule, item.t1)
            elif change == "type_changes":
                out.add(FAILURE, "type", dotted, rule, item.t1, item.t2)
            else:
                out.add(FAILURE if rule.binding else NOTE, "value", dotted, rule, item.t1, item.t2)


def _missing_severity(path: tuple[str, ...], expected: ExpectedSession) -> Severity:
    """A missing example-only, response-only feature is a note; all else fails."""
    if len(path) == 3 and path[1] == "features":
        rule = expected.rules.get(path)
        if rule is not None and not rule.binding:
            return NOTE
    return FAILURE


def compare_error(status: int, body: Any, expected: ExpectedError, rules: Rules) -> Outcome:
    out = Outcome()
    if status != expected.status:
        actual: Any = {"status": status, "body": _error_summary(body)}
        out.add(FAILURE, "status", "status", expected.rule, expected.status, actual)
        return out
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        out.add(FAILURE, "shape", "error", rules["error.shape"], "an error object", json_type(body))
        return out
    if error.get("type") != expected.type:
        out.add(FAILURE, "value", "error.type", expected.rule, expected.type, error.get("type", _ABSENT))
    if not expected.names(error.get("param")):
        out.add(
            FAILURE,
            "value",
            "error.param",
            expected.rule,
            expected.param,
            error.get("param", _ABSENT),
        )
    message = error.get("message")
    if not isinstance(message, str) or not message:
        out.add(
            FAILURE,
            "missing",
            "error.message",
            rules["error.shape"],
            "a message",
            error.get("message", _ABSENT),
        )
    if expected.code is not None and error.get("code") != expected.code:
        out.add(
            NOTE,
            "value",
            "error.code",
            rules["error.code"],
            expected.code,
            error.get("code", _ABSENT),
        )
    return out


def compare_replay(
    first: tuple[int, Any, bytes],
    again: tuple[int, Any, bytes],
    replayed_header: str | None,
    rules: Rules,
) -> Outcome:
    """A request repeated with its Idempotency-Key: the first answer again (status and
    JSON), marked ``Idempotent-Replayed: true``; other bytes for the same JSON are a note."""
    out = Outcome()
    (status, body, content), (again_status, again_body, again_content) = first, again
    if again_status != status or _canonical(again_body) != _canonical(body):
        out.add(
            FAILURE,
            "value",
            "body",
            rules["idempotency.replay"],
            f"HTTP {status}, the first answer again (same client_secret)",
            f"HTTP {again_status}, another answer",
        )
    elif again_content != content:
        out.add(NOTE, "value", "body", rules["idempotency.replay"], "byte-identical", "JSON-equal")
    if (replayed_header or "").lower() != "true":
        out.add(
            FAILURE,
            "value",
            "Idempotent-Replayed",
            rules["idempotency.replay_header"],
            "true",
            replayed_header or "(absent)",
        )
    return out
