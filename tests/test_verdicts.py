"""Honest verdicts on servers that are wrong in the ways real fakes are: no assumed
facts, each check judging its own category, reproductions that reproduce, and setup
faults told as such (issue 10's observations, one test each)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Mapping
from typing import Any

from conformance.mock import Behaviour, create_app

from .faults import WrongDefault
from .hostile import Hostile, answer, on

Reply = tuple[int, dict[str, Any]]


def _outcomes(run) -> dict[str, str]:
    return {c["id"].split("::", 1)[1]: c["outcome"] for c in run.summary["checks"]}


# -- 2: a real answer, not a documented 404 -------------------------------------------------
def test_404_for_every_session_is_not_a_pass(committed, serve, cli):
    """Sessions answered 404 (as for an unknown account): schemathesis's 'default' error
    response and the JSON content-type check must not count that as conforming."""
    body = json.dumps(
        {"error": {"type": "invalid_request_error", "message": "No such account", "param": "account"}}
    )

    async def refuse(request):
        return await answer(request, 404, body, {"Request-Id": "req_1"})

    run = cli(
        "run",
        "--base-url",
        serve(Hostile(committed, on("/v1/account_sessions", refuse))),
        "-m",
        "schemathesis or shape",
        "--profile",
        "dev",
        "--seed",
        "5",  # its failures shrink in ~2 s of CPU; unseeded runs took 2.7-5 s
    )
    assert run.code == 1, run.stdout[-3000:]
    outcomes = _outcomes(run)
    assert outcomes["test_schemathesis_checks[positive]"] == "failed"
    assert outcomes["test_json_content_type[success]"] == "failed"
    assert "session.created" in run.failed_rules()


# -- 3: no assumed controller -------------------------------------------------------------
class NoController(Behaviour):
    """Accounts are made as asked, but their answers (and GET) hold no controller."""

    def create_account(self, params: Mapping[str, Any], key: str) -> Reply:
        status, body = super().create_account(params, key)
        return status, {k: v for k, v in body.items() if k != "controller"}

    def retrieve_account(self, account_id: str) -> Reply:
        status, body = super().retrieve_account(account_id)
        return status, {k: v for k, v in body.items() if k != "controller"}


def test_an_unreported_controller_is_never_assumed(committed, serve, cli):
    url = serve(create_app(committed, NoController(committed)))
    run = cli("run", "--base-url", url, "-m", "defaults or validation", "--profile", "dev")
    assert run.code == 1, run.stdout[-3000:]
    outcomes = _outcomes(run)
    assert outcomes["test_archetype_created[express]"] == "failed"
    assert "no controller: the target did not report one" in run.stdout
    payouts = outcomes["test_requested_component_defaults[express-payouts]"]
    assert payouts == "inconclusive"  # instant_payouts follows controller.losses.payments
    assert outcomes[
        "test_constraint_enforced[account_management.disable_stripe_user_authentication=true]"
    ] == ("inconclusive")
    assert run.summary["counts"]["inconclusive"] >= 20
    assert run.summary["target_profile"]["controller_reported"] is False
    # without the account checks, nothing failed: the verdict is inconclusive, never conforms
    rest = cli("run", "--base-url", url, "-m", "defaults", "-k", "not archetype_created")
    assert rest.code == 1 and rest.summary["verdict"] == "inconclusive", rest.stdout[-2000:]


# -- 4: each check judges its own category --------------------------------------------------
def test_a_defaults_fault_does_not_fail_the_validation_checks(committed, serve, cli):
    url = serve(create_app(committed, WrongDefault(committed)))
    validation = cli("run", "--base-url", url, "-m", "validation")
    assert validation.code == 0, validation.stdout[-3000:]
    notes = {
        f["rule"] for c in validation.summary["checks"] for f in c["findings"] if f["severity"] == "note"
    }
    assert "default:payouts.instant_payouts" in notes  # seen, kept as a note for the defaults checks
    defaults = cli("run", "--base-url", url, "-m", "defaults")
    assert defaults.code == 1 and "default:payouts.instant_payouts" in defaults.failed_rules()


# -- 5: reproductions that reproduce ---------------------------------------------------------
class MalformedKeyAccepted(Behaviour):
    def authenticate(self, key: str | None) -> Reply | None:
        return None if key else super().authenticate(key)


def _bash(line: str, key: str) -> str:
    env = {**os.environ, "STRIPE_API_KEY": key}
    proc = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=60, env=env)
    return proc.stdout + proc.stderr


def test_reproduce_lines_rerun_the_failure_against_the_same_target(committed, serve, cli, tmp_path):
    server = Hostile(committed, behaviour=WrongDefault(committed))
    url = serve(server)
    run = cli("run", "--base-url", url, "-m", "defaults", "-k", "requested_component_defaults and payouts")
    assert run.code == 1
    failed = next(c for c in run.summary["checks"] if c["outcome"] == "failed")
    line = failed["reproduce"]
    assert f"--base-url {url}" in line and "--seed" in line and "-k" in line
    args = shlex.split(line)[2:]  # after `conformance run`
    again = cli("run", *args)
    assert again.code == 1 and "default:payouts.instant_payouts" in again.failed_rules()
    # the curl line makes an account of the same kind, asks for the session, deletes the account
    curl = failed["evidence"][0]["exchange"]["curl"]
    assert curl.startswith("acct=$(curl") and '"$acct"' in curl
    made = len(server.made)
    answer_text = _bash(curl, "sk_test_reproduce")
    assert '"instant_payouts"' in answer_text
    assert len(server.made) == made + 1 and server.deletes(server.made[-1]) == 1


def test_a_check_that_sends_its_own_key_shows_it(committed, serve, cli):
    url = serve(create_app(committed, MalformedKeyAccepted(committed)))
    run = cli("run", "--base-url", url, "-m", "auth", "-k", "malformed")
    assert run.code == 1
    curl = run.summary["checks"][0]["evidence"][0]["exchange"]["curl"]
    probe = committed.conventions["probes"]["malformed_key"]
    session_call = curl.split("account_sessions")[1].split("DELETE")[0]  # the account is deleted with the key
    assert f"Authorization: Bearer {probe}" in session_call and "STRIPE_API_KEY" not in session_call
    assert '"object":"account_session"' in _bash(curl, "sk_test_unused").replace(" ", "")


# -- 6: setup faults are usage errors, told in one line ---------------------------------------
class OneKeyOnly(Behaviour):
    def authenticate(self, key: str | None) -> Reply | None:
        if key != "sk_test_theonlyone":
            return self.error(401, "invalid_request_error", "Invalid API Key provided: sk_test_****")
        return None


def test_a_refused_key_is_one_line_and_exit_2(committed, serve, cli):
    app = create_app(committed, OneKeyOnly(committed))
    run = cli("run", "--base-url", serve(app))
    lines = run.stderr.strip().splitlines()
    assert run.code == 2, run.stdout[-2000:] + run.stderr
    assert len(lines) == 1 and "refused the API key" in lines[0] and "STRIPE_API_KEY" in lines[0], lines
    assert "embedded mock's test key" in lines[0]  # no key was given: say which was sent
    assert "Traceback" not in run.stdout + run.stderr and len(app.state.behaviour.accounts) == 0
    accepted = cli(
        "run", "--base-url", serve(app), "-m", "auth", env={"STRIPE_API_KEY": "sk_test_theonlyone"}
    )
    assert accepted.summary["target_profile"]["key"].startswith("sk_test_****")


def test_a_base_url_with_the_api_path_is_one_line_and_exit_2(committed, serve, cli):
    url = serve(create_app(committed))
    run = cli("run", "--base-url", url + "/v1")
    assert run.code == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "already holds the API path" in lines[0] and url in lines[0]


# -- 11: accounts made the way the target takes them; 403 after DELETE is a Stripe answer ------
class TypeOnly(Behaviour):
    """Takes only the legacy ``type`` (a controller is refused) and answers 403
    account_invalid for an account it no longer has, as stripe-stateful-mock does."""

    def create_account(self, params: Mapping[str, Any], key: str) -> Reply:
        if "type" not in params:
            return self.error(400, "invalid_request_error", "Missing required param: type.", param="type")
        return super().create_account({k: v for k, v in params.items() if k != "controller"}, key)

    def _no_such_account(self, account_id: str) -> Reply:
        return self.error(403, "invalid_request_error", "The account is invalid.", code="account_invalid")


def test_accounts_are_made_the_way_the_target_takes_them(committed, serve, cli):
    run = cli(
        "run",
        "--base-url",
        serve(create_app(committed, TypeOnly(committed))),
        "-m",
        "defaults or fuzz",
        "--profile",
        "dev",
    )
    outcomes = _outcomes(run)
    assert run.summary["target_profile"]["accounts"] == "type"
    assert outcomes["test_account_lifecycle"] == "passed"
    assert outcomes["test_state_machine"] == "passed"
    assert "expected 200, received 400" not in run.stdout


def test_kept_accounts_are_named_in_the_curl_lines(committed, serve, cli):
    """--keep-accounts: nothing is deleted at the end; the accounts are listed, and a curl
    line names its account as it is (no snippet that makes another)."""
    server = Hostile(committed, behaviour=WrongDefault(committed))
    url = serve(server)
    run = cli(
        "run",
        "--base-url",
        url,
        "--keep-accounts",
        "-m",
        "defaults",
        "-k",
        "requested_component_defaults and payouts",
    )
    assert run.code == 1
    kept = run.summary["accounts"]["left"]
    assert run.summary["accounts"]["kept"] and len(kept) == 3 and all(server.deletes(a) == 0 for a in kept)
    failed = next(c for c in run.summary["checks"] if c["outcome"] == "failed")
    curl = failed["evidence"][0]["exchange"]["curl"]
    assert curl.startswith("curl") and any(a in curl for a in kept)
    assert '"instant_payouts"' in _bash(curl, "sk_test_kept")
    assert f"kept (--keep-accounts): {kept[0]}" in run.stdout or kept[0] in run.stdout


# -- a key refused as HTTP Basic: asked as a Bearer token, never a refused key -------------
def test_a_bearer_only_target_is_judged_not_refused(committed, serve, cli):
    from .mutants_more import OneSchemeOnly

    url = serve(create_app(committed, OneSchemeOnly(committed)))
    run = cli("run", "--base-url", url, "-m", "auth or shape", "--profile", "dev")
    assert run.code == 1, run.stdout[-3000:]
    assert run.failed_rules() == {"auth.basic"}
    assert run.summary["target_profile"]["scheme"] == "bearer"
    assert run.summary["accounts"]["left"] == []  # deleted with the scheme the target takes
    # the replay makes its account as the run did, then sends the broken request as Basic
    assert "acct=$(curl -sS -X POST" in run.stdout
    assert '/v1/accounts -H "Authorization: Bearer $STRIPE_API_KEY" --data-raw' in run.stdout
