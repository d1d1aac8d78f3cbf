"""The mutation catalogue: single faults the suites must catch, and benign variants
a tolerant client must accept. `make mutants` runs the suites against each.

    python -m tests.mutants [--jobs 2] [--only NAME ...] [--quick]

A fault is caught when `conformance run` exits 1 and names one of the fault's
rules among the failures; a benign variant passes when the run exits 0
(warnings allowed). Score: faults caught / faults, false alarms / benign.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from conformance.contracts.model import Contract, load_contract
from conformance.mock import Behaviour, EmbeddedServer, create_app
from conformance.oracle import ExpectedError, ExpectedSession

from .faults import FAULTS, FUZZ_ONLY_FAULTS

ROOT = Path(__file__).resolve().parents[1]
Reply = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Mutant:
    name: str
    kind: str  # fault | benign | note (a change only a note may name: example-only, a free detail)
    rules: tuple[str, ...]  # for a fault or note: rule ids (or prefixes ending in ':') it breaks
    build: Callable[[Contract], Starlette]
    quick: str = ""  # a -m expression that is enough to judge it, for the quick subset
    select: str = ""  # a -m expression always used (the catalogue's own mutants are narrow)
    adapter: str = ""  # an SDK mutant: the broken adapter `conformance sdk` runs
    k: str = ""  # ... and the checks that show it (-k)


def _app(behaviour: type[Behaviour]) -> Callable[[Contract], Starlette]:
    return lambda contract: create_app(contract, behaviour(contract))


def on_body(change: Callable[[Behaviour, dict[str, Any], ExpectedSession], None]) -> type[Behaviour]:
    class Variant(Behaviour):
        def session_body(self, expected: ExpectedSession) -> dict[str, Any]:
            body = super().session_body(expected)
            change(self, body, expected)
            return body

    return Variant


def on_answer(
    change: Callable[[Behaviour, Mapping[str, Any], int, dict[str, Any]], Reply],
) -> type[Behaviour]:
    class Variant(Behaviour):
        def create_session(self, params: Mapping[str, Any], key: str) -> Reply:
            status, body = super().create_session(params, key)
            return change(self, params, status, body)

    return Variant


def on_params(change: Callable[[Behaviour, dict[str, Any]], None]) -> type[Behaviour]:
    class Variant(Behaviour):
        def create_session(self, params: Mapping[str, Any], key: str) -> Reply:
            mutable = copy.deepcopy(dict(params))
            change(self, mutable)
            return super().create_session(mutable, key)

    return Variant


def _defaulted(expected: ExpectedSession, comp: str, feat: str) -> bool:
    rule = expected.rules.get((comp, "features", feat))
    return rule is not None and rule.id.startswith("default:")


def _set_default(
    comp: str, feat: str, value: Any, when: Callable[[Any], bool] = lambda _: True
) -> type[Behaviour]:
    def change(self: Behaviour, body: dict[str, Any], expected: ExpectedSession) -> None:
        features = body["components"][comp]["features"]
        if _defaulted(expected, comp, feat) and when(features[feat]):
            features[feat] = value

    return on_body(change)


def _components(params: Mapping[str, Any]) -> dict[str, Any]:
    comps = params.get("components")
    return comps if isinstance(comps, dict) else {}


def _features(conf: Any) -> dict[str, Any]:
    """A requested component's features, when they are an object (a variant breaks
    one rule only: it must not crash on what the generated requests send)."""
    features = conf.get("features") if isinstance(conf, dict) else None
    return features if isinstance(features, dict) else {}


def _without_constraints(feature: str) -> Callable[[Contract], Starlette]:
    def build(contract: Contract) -> Starlette:
        kept = tuple(c for c in contract.constraints if c.feature != feature)
        return create_app(dataclasses.replace(contract, constraints=kept))

    return build


def _over_enforced(feature: str, value: str) -> type[Behaviour]:
    def change(self: Behaviour, params: Mapping[str, Any], status: int, body: dict[str, Any]) -> Reply:
        for name, conf in _components(params).items():
            if _features(conf).get(feature) == value:
                param = f"components[{name}][features][{feature}]"
                return self.error(400, "invalid_request_error", "Not allowed.", param=param)
        return status, body

    return on_answer(change)


def _error_change(
    fix: Callable[[dict[str, Any]], None], *, status: int | None = None, code: str | None = None
) -> type[Behaviour]:
    """Rewrite error answers (those with the given code, or all 400s)."""

    def change(self: Behaviour, params: Mapping[str, Any], st: int, body: dict[str, Any]) -> Reply:
        error = body.get("error") if st >= 400 else None
        if isinstance(error, dict) and (code is None or error.get("code") == code):
            fix(error)
            return (status or st), body
        return st, body

    return on_answer(change)


class UnknownAccountAccepted(Behaviour):
    def create_session(self, params: Mapping[str, Any], key: str) -> Reply:
        account = params.get("account")
        if isinstance(account, str) and account and account not in self.accounts:
            made = self.create_account({"type": "express"}, key)[1]
            self.accounts.add({**made, "id": account}, dict(self.accounts[made["id"]] or {}))
        return super().create_session(params, key)


class ExpressOnlyWrongDefault(Behaviour):
    def create_session(self, params: Mapping[str, Any], key: str) -> Reply:
        status, body = super().create_session(params, key)
        controller = self.accounts.get(str(params.get("account"))) or {}
        if status == 200 and controller.get("controller.stripe_dashboard.type") == "express":
            given = (_components(params).get("payments") or {}).get("features") or {}
            if "capture_payments" not in given:
                body["components"]["payments"]["features"]["capture_payments"] = False
        return status, body


class SecondComponentFeaturesDropped(Behaviour):
    def create_session(self, params: Mapping[str, Any], key: str) -> Reply:
        status, body = super().create_session(params, key)
        account = self.accounts.get(str(params.get("account")))
        if status == 200:
            for name, conf in list(_components(params).items())[1:]:
                if isinstance(conf, dict) and conf.get("features"):
                    body["components"][name]["features"] = self.contract.effective_features(name, {}, account)
        return status, body


class MalformedKeyAccepted(Behaviour):
    def authenticate(self, key: str | None) -> Reply | None:
        return None if key else super().authenticate(key)


class KeyEchoed(Behaviour):
    def authenticate(self, key: str | None) -> Reply | None:
        refused = super().authenticate(key)
        if refused is not None and key:
            refused[1]["error"]["message"] = f"Invalid API Key provided: {key}"
        return refused


class ArchetypeIgnored(Behaviour):
    def create_account(self, params: Mapping[str, Any], key: str) -> Reply:
        return super().create_account({}, key)


class DeleteBroken(Behaviour):
    def delete_account(self, account_id: str) -> Reply:
        return self.error(500, "api_error", "Could not delete.")


class TextAnswers(Behaviour):
    media_type = "text/plain"


class NoRequestId(Behaviour):
    def answer_headers(self) -> dict[str, str]:
        return {}


class ConflictReplays(Behaviour):
    def replays(self, first: str, again: str) -> bool:
        return True


class ReplayUnmarked(Behaviour):
    def replay_headers(self) -> dict[str, str]:
        return {}


class FailuresStored(Behaviour):
    def stores(self, status: int) -> bool:
        return True


def _drop_unknown_components(self: Behaviour, params: dict[str, Any]) -> None:
    for name in [n for n in _components(params) if n not in self.contract.components]:
        del params["components"][name]


def _drop_unknown_features(self: Behaviour, params: dict[str, Any]) -> None:
    for name, conf in _components(params).items():
        comp = self.contract.components.get(name)
        features = conf.get("features") if isinstance(conf, dict) else None
        if comp and isinstance(features, dict):
            for feat in [f for f in features if f not in comp.request_features]:
                del features[feat]


def _enabled_default(self: Behaviour, params: dict[str, Any]) -> None:
    for conf in _components(params).values():
        if isinstance(conf, dict):
            conf.setdefault("enabled", "false")


def _booleans_lenient_false(self: Behaviour, params: dict[str, Any]) -> None:
    for conf in _components(params).values():
        if isinstance(conf, dict):
            if isinstance(conf.get("enabled"), str) and conf["enabled"] != "true":
                conf["enabled"] = "false"
            for feat, value in _features(conf).items():
                if isinstance(value, str) and value != "true":
                    conf["features"][feat] = "false"


def _explicit_ignored(self: Behaviour, params: dict[str, Any]) -> None:
    for conf in _components(params).values():
        if isinstance(conf, dict):
            conf.pop("features", None)


def _dsua_ignores_eac(self: Behaviour, body: dict[str, Any], expected: ExpectedSession) -> None:
    for name, comp in body["components"].items():
        if _defaulted(expected, name, "disable_stripe_user_authentication"):
            comp["features"]["disable_stripe_user_authentication"] = False


def _field(name: str, value: Callable[[Any], Any]) -> type[Behaviour]:
    def change(self: Behaviour, body: dict[str, Any], expected: ExpectedSession) -> None:
        body[name] = value(body.get(name))

    return on_body(change)


def _drop(path: tuple[str, ...]) -> type[Behaviour]:
    def change(self: Behaviour, body: dict[str, Any], expected: ExpectedSession) -> None:
        node = body
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return on_body(change)


def _strings_for_enabled(self: Behaviour, body: dict[str, Any], expected: ExpectedSession) -> None:
    for comp in body["components"].values():
        comp["enabled"] = str(comp["enabled"]).lower()


# -- benign variants ------------------------------------------------------------------------
def _grown_component(self: Behaviour, body: dict[str, Any], expected: ExpectedSession) -> None:
    body["components"]["balance_report"] = {"enabled": False, "features": {}}


def _grown_feature(self: Behaviour, body: dict[str, Any], expected: ExpectedSession) -> None:
    body["components"]["payments"]["features"]["smart_disputes_management"] = True


def _reversed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed(v) for k, v in reversed(list(value.items()))}
    return value


class KeyOrder(Behaviour):
    def session_body(self, expected: ExpectedSession) -> dict[str, Any]:
        return _reversed(super().session_body(expected))  # type: ignore[no-any-return]


class SecretFormat(Behaviour):
    def client_secret(self) -> str:
        return f"accs_secret__{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"


class OtherRequestIds(Behaviour):
    def answer_headers(self) -> dict[str, str]:
        return {"Request-Id": f"req_{uuid.uuid4().hex}"}


def _reworded(error: dict[str, Any]) -> None:
    error["message"] = "Your request could not be processed (see param)."
    error.pop("code", None)
    error.pop("doc_url", None)


class InnerParamNamed(Behaviour):
    """An object sent where a value belongs: names the inner key."""

    def create_session(self, params: Mapping[str, Any], key: str) -> Reply:
        status, body = super().create_session(params, key)
        error = body.get("error") if status == 400 else None
        if isinstance(error, dict) and error.get("code") == "parameter_invalid" and error.get("param"):
            value: Any = params
            path = error["param"].replace("]", "").split("[")
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, dict) and value:
                error["param"] += f"[{next(iter(value))}]"
        return status, body


class LastProblemNamed(Behaviour):
    def create_session(self, params: Mapping[str, Any], key: str) -> Reply:
        expected = self.oracle.expect(params, self.accounts, livemode=self.livemode(key))
        if isinstance(expected, ExpectedError) and expected.alternatives:
            expected = dataclasses.replace(expected, param=expected.alternatives[-1])
            return self.expected_error(expected, params)
        return super().create_session(params, key)


def _lenient_booleans(self: Behaviour, params: dict[str, Any]) -> None:
    words = {"True": "true", "1": "true", "False": "false", "0": "false"}
    for conf in _components(params).values():
        if isinstance(conf, dict):
            if isinstance(conf.get("enabled"), str) and conf["enabled"] in words:
                conf["enabled"] = words[conf["enabled"]]
            features = conf.get("features")
            for feat, value in features.items() if isinstance(features, dict) else ():
                if isinstance(value, str) and value in words:
                    conf["features"][feat] = words[value]


def _independent(contract: Contract) -> Starlette:
    from .independent import make_app

    return make_app()


def _catalogue(contract: Contract) -> list[Mutant]:
    old = {f.name: f for f in [*FAULTS, *FUZZ_ONLY_FAULTS]}

    def reused(name: str, *more: str, quick: str = "") -> Mutant:
        fault = old[name]
        return Mutant(name, "fault", (fault.rule, *more), fault.build, quick)

    def fault(name: str, rules: tuple[str, ...], build: Any, quick: str = "") -> Mutant:
        built = build if not isinstance(build, type) else _app(build)
        return Mutant(name, "fault", rules, built, quick)

    def benign(name: str, build: Any, quick: str = "") -> Mutant:
        built = build if not isinstance(build, type) else _app(build)
        return Mutant(name, "benign", (), built, quick)

    now = time.time
    return [
        # documented defaults, each direction, and one archetype only
        reused("wrong_default", quick="defaults"),
        fault(
            "default_true_answered_false",
            ("default:payments.refund_management",),
            _set_default("payments", "refund_management", False),
            "defaults",
        ),
        fault(
            "default_false_answered_true",
            ("default:payments.destination_on_behalf_of_charge_management",),
            _set_default("payments", "destination_on_behalf_of_charge_management", True),
            "defaults",
        ),
        fault(
            "payout_default_true_without_stripe_losses",
            ("default:balances.edit_payout_schedule",),
            _set_default("balances", "edit_payout_schedule", True, lambda v: v is False),
            "defaults",
        ),
        fault(
            "external_account_collection_default_false",
            ("default:account_onboarding.",),
            _set_default("account_onboarding", "external_account_collection", False),
            "defaults",
        ),
        fault(
            "disable_authentication_ignores_collection", ("default:",), on_body(_dsua_ignores_eac), "defaults"
        ),
        fault(
            "express_accounts_only_wrong_default",
            ("default:payments.capture_payments",),
            ExpressOnlyWrongDefault,
            "defaults",
        ),
        reused("no_dashboard_disabled_echo", quick="fuzz"),
        # constraints, unenforced and over-enforced
        fault(
            "disable_authentication_constraint_unenforced",
            ("constraint:",),
            _without_constraints("disable_stripe_user_authentication"),
            "validation",
        ),
        fault(
            "external_account_collection_constraint_unenforced",
            ("constraint:",),
            _without_constraints("external_account_collection"),
            "validation",
        ),
        fault(
            "disable_authentication_over_enforced",
            ("constraint:",),
            _over_enforced("disable_stripe_user_authentication", "true"),
            "validation",
        ),
        fault(
            "external_account_collection_over_enforced",
            ("constraint:",),
            _over_enforced("external_account_collection", "false"),
            "validation",
        ),
        # validation: accepted, wrong status, type or param
        reused("validation_500", "schemathesis.not_a_server_error", quick="validation"),
        fault(
            "missing_enabled_accepted",
            ("validation.parameter_missing",),
            on_params(_enabled_default),
            "validation",
        ),
        fault(
            "unknown_component_ignored",
            ("validation.parameter_unknown",),
            on_params(_drop_unknown_components),
            "validation",
        ),
        fault(
            "unknown_feature_ignored",
            ("validation.parameter_unknown",),
            on_params(_drop_unknown_features),
            "validation",
        ),
        fault(
            "invalid_boolean_read_as_false",
            ("validation.invalid_boolean",),
            on_params(_booleans_lenient_false),
            "validation",
        ),
        fault(
            "unknown_account_accepted", ("validation.resource_missing",), UnknownAccountAccepted, "validation"
        ),
        fault(
            "unknown_account_answered_404",
            ("validation.resource_missing",),
            _error_change(lambda e: None, status=404, code="resource_missing"),
            "validation",
        ),
        fault(
            "refusal_typed_api_error",
            ("validation.",),
            _error_change(lambda e: e.update(type="api_error")),
            "validation",
        ),
        reused("short_error_param", "validation.", quick="validation"),
        fault(
            "missing_param_not_named",
            ("validation.parameter_missing",),
            _error_change(lambda e: e.update(param="missing"), code="parameter_missing"),
            "validation",
        ),
        fault(
            "constraint_names_the_component", ("constraint:",), _constraint_names_component(), "validation"
        ),
        # shape and echo
        reused("missing_component", "default:", quick="shape"),
        fault(
            "missing_feature",
            ("default:payments.refund_management", "session.components"),
            _drop(("components", "payments", "features", "refund_management")),
            "shape or defaults",
        ),
        fault(
            "enabled_as_string",
            ("session.enabled", "session.components"),
            on_body(_strings_for_enabled),
            "shape or defaults",
        ),
        fault("features_as_list", ("session.components",), _field_features_list(), "shape"),
        reused("enabled_ignored", quick="defaults"),
        fault(
            "explicit_features_not_echoed",
            ("session.feature_echo",),
            on_params(_explicit_ignored),
            "defaults",
        ),
        reused("false_read_as_true", quick="defaults"),
        fault(
            "features_dropped_with_two_components",
            ("session.feature_echo",),
            SecondComponentFeaturesDropped,
            "fuzz",
        ),
        reused("pair_drops_enabled", quick="fuzz"),
        # idempotency
        reused("idempotency_ignored", quick="idempotency"),
        fault("conflict_replays_first_answer", ("idempotency.conflict",), ConflictReplays, "idempotency"),
        fault("replay_not_marked", ("idempotency.replay_header",), ReplayUnmarked, "idempotency"),
        fault(
            "refusals_stored",
            ("idempotency.failure_not_stored", "idempotency.replay"),
            FailuresStored,
            "idempotency",
        ),
        # the session's own fields
        reused("livemode_wrong", quick="shape"),
        fault("object_wrong", ("session.object",), _field("object", lambda v: "session"), "shape"),
        fault(
            "account_not_echoed",
            ("session.account",),
            _field("account", lambda v: "acct_1Somebodyelse"),
            "shape",
        ),
        fault(
            "expires_in_the_past",
            ("session.expires_at",),
            _field("expires_at", lambda v: int(now()) - 30),
            "shape",
        ),
        fault(
            "expires_days_ahead",
            ("session.expires_at",),
            _field("expires_at", lambda v: int(now()) + 3 * 86400),
            "shape",
        ),
        fault(
            "expires_in_milliseconds",
            ("session.expires_at",),
            _field("expires_at", lambda v: v * 1000),
            "shape",
        ),
        fault("expires_missing", ("session.fields",), _drop(("expires_at",)), "shape"),
        reused("client_secret_reused", quick="shape"),
        fault(
            "client_secret_empty", ("session.client_secret",), _field("client_secret", lambda v: ""), "shape"
        ),
        # auth and wire
        reused("auth_not_enforced", quick="auth"),
        fault("malformed_key_accepted", ("auth.malformed_key",), MalformedKeyAccepted, "auth"),
        fault("key_echoed_in_error", ("auth.key_masked",), KeyEchoed, "auth"),
        fault("answers_text_plain", ("wire.json",), TextAnswers, "shape"),
        fault("no_request_id", ("wire.request_id",), NoRequestId, "shape"),
        # accounts
        fault("archetype_ignored", ("accounts.archetype",), ArchetypeIgnored, "defaults"),
        fault("delete_broken", ("accounts.lifecycle",), DeleteBroken, "defaults"),
        # benign: a tolerant client accepts all of these
        benign("new_component", on_body(_grown_component), "shape or drift"),
        benign("new_feature", on_body(_grown_feature), "shape or drift or defaults"),
        benign("extra_field", _field("x_conformance_note", lambda v: "new"), "shape or drift"),
        benign("other_key_order", KeyOrder, "shape or defaults"),
        benign("other_client_secret_format", SecretFormat, "shape or idempotency"),
        benign("other_expires_window", _field("expires_at", lambda v: int(now()) + 6 * 3600), "shape"),
        benign("other_error_wording", _error_change(_reworded), "validation"),
        benign("other_request_ids", OtherRequestIds, "shape"),
        benign("inner_param_named", InnerParamNamed, "validation"),
        benign("last_problem_named", LastProblemNamed, "fuzz"),
        benign("lenient_booleans", on_params(_lenient_booleans), "validation or defaults"),
        benign("independent_implementation", _independent, "shape or validation"),
        *_more(contract),
    ]


def _more(contract: Contract) -> list[Mutant]:
    """The catalogue's own mutants (tests/mutants_more.py)."""
    from . import mutants_more as more

    made = [Mutant(**{"kind": "fault", **spec}) for spec in more.generated(contract) + more.CONVENTIONS]
    plain = more._app(Behaviour)
    for module, rules, k, kind in more.SDK:
        made.append(Mutant(f"sdk:{module}", kind, rules, plain, adapter=more.sdk_adapter(module), k=k))
    made.append(
        Mutant(
            "sdk:case_refused",
            "fault",
            ("sdk.case",),
            more._app(more.SometimesRefused),
            adapter="python",
            k="example",
        )
    )
    return made


def _constraint_names_component() -> type[Behaviour]:
    """Constraint refusals that name the component instead of the feature."""

    def fix(error: dict[str, Any]) -> None:
        if "[features]" in str(error.get("param")):
            error["param"] = error["param"].split("[features]")[0]

    return _error_change(fix, code=None)


def _field_features_list() -> type[Behaviour]:
    def change(self: Behaviour, body: dict[str, Any], expected: ExpectedSession) -> None:
        body["components"]["documents"]["features"] = []

    return on_body(change)


MUTANTS = _catalogue(load_contract(ROOT / "contracts"))


@dataclass
class Verdict:
    mutant: Mutant
    code: int
    named: set[str]
    seconds: float

    noted: set[str] = dataclasses.field(default_factory=set)  # rules named in notes and warnings

    @property
    def ok(self) -> bool:
        if self.mutant.kind == "benign":
            return self.code == 0
        if self.mutant.kind == "note":
            return self.code == 0 and any(
                _names(rule, want) for rule in self.noted for want in self.mutant.rules
            )
        return self.code == 1 and any(_names(rule, want) for rule in self.named for want in self.mutant.rules)


def _names(rule: str, want: str) -> bool:
    return rule == want or (want.endswith((":", ".")) and rule.startswith(want))


Runner = Callable[[list[str], dict[str, str]], int]  # (conformance's arguments, environment) -> exit code


def in_a_process(args: list[str], env: dict[str, str]) -> int:
    """`python -m conformance.cli ARGS` in a process of its own, with only ``env``."""
    command = [sys.executable, "-m", "conformance.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600, env=env).returncode


def judge(
    mutant: Mutant,
    contract: Contract,
    *,
    quick: bool = False,
    seed: int = 20261125,
    run: Runner = in_a_process,
) -> Verdict:
    """``mutant``'s verdict from `conformance run` (or `sdk`) against it, started by ``run``:
    a process each by default (`make mutants` judges them two at a time, in threads)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedServer(mutant.build(contract)) as server:
        command = ["sdk", "--adapter", mutant.adapter] if mutant.adapter else ["run", "--seed", str(seed)]
        args = [*command, "--base-url", server.url, "--report-dir", tmp, "-q", "-p", "no:cacheprovider"]
        select = mutant.select or (mutant.quick if quick else "")
        if select and not mutant.adapter:
            args += ["-m", select]
        if mutant.k:
            args += ["-k", mutant.k]
        code = run(args, {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp})
        named: set[str] = set()
        noted: set[str] = set()
        summary = Path(tmp) / "summary.json"
        if summary.is_file():
            for check in json.loads(summary.read_text())["checks"]:
                named |= {f["rule"] for f in check["findings"] if f["severity"] == "failure"}
                noted |= {f["rule"] for f in check["findings"] if f["severity"] in ("note", "warning")}
    return Verdict(mutant, code, named, time.monotonic() - started, noted)


def coverage(verdicts: list[Verdict], contract: Contract) -> tuple[list[str], list[str]]:
    """Every rule of the catalogue, and those no mutant broke: a rule is covered when a
    caught fault's run named it among its failures, or (for a rule that only ever gives
    a note or a warning) a note or benign mutant's run named it."""
    from conformance.catalogue import catalogue

    rules = sorted(catalogue(contract))
    broken: set[str] = set()
    for v in verdicts:
        if v.ok:
            broken |= v.named if v.mutant.kind == "fault" else v.noted
    return rules, [r for r in rules if r not in broken]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutants", description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=None, help="these mutants only")
    parser.add_argument("--quick", action="store_true", help="each with the categories enough to judge it")
    args = parser.parse_args(argv)
    contract = load_contract(ROOT / "contracts")
    chosen = [m for m in MUTANTS if args.only is None or m.name in args.only]
    with ThreadPoolExecutor(args.jobs) as pool:
        verdicts = list(pool.map(lambda m: judge(m, contract, quick=args.quick), chosen))
    print(f"{'mutant':<48} {'kind':<7} {'exit':>4}  {'result':<12} rules named")
    for v in verdicts:
        result = (
            ("caught" if v.ok else "MISSED")
            if v.mutant.kind == "fault"
            else ("accepted" if v.ok else "FALSE ALARM")
        )
        named = ", ".join(sorted(v.named)[:3]) + (" ..." if len(v.named) > 3 else "")
        print(f"{v.mutant.name:<48} {v.mutant.kind:<7} {v.code:>4}  {result:<12} {named}")
    faults = [v for v in verdicts if v.mutant.kind in ("fault", "note")]
    benign = [v for v in verdicts if v.mutant.kind == "benign"]
    caught = sum(v.ok for v in faults)
    alarms = sum(not v.ok for v in benign)
    print(
        f"\nscore: {caught}/{len(faults)} faults caught ({100 * caught / max(1, len(faults)):.0f}%), "
        f"{alarms}/{len(benign)} false alarms on benign variants"
    )
    complete = args.only is None and not args.quick  # coverage needs every category run
    if complete:
        rules, uncovered = coverage(verdicts, contract)
        share = 100 * (len(rules) - len(uncovered)) / len(rules)
        print(
            f"rule coverage: {len(rules) - len(uncovered)}/{len(rules)} rules"
            f" broken by a mutant ({share:.0f}%)"
        )
        for rule in uncovered:
            print(f"  not broken by any mutant: {rule}")
    return 0 if caught == len(faults) and alarms == 0 and (not complete or not uncovered) else 1


if __name__ == "__main__":
    sys.exit(main())
