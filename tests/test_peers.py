"""The suites against real third-party fakes a user would try, as that user sees them:
localstripe (no accounts, no Account Sessions) and stripe-stateful-mock (accounts by
legacy type only, no controller, no Account Sessions). ``make peers`` installs both;
each runs on 127.0.0.1 only."""

from __future__ import annotations

import pytest

from .peers import missing, running

MAX_LINES = 300


def _verdict(run) -> str:
    return next(line for line in run.stdout.splitlines() if line.startswith("verdict:"))


@pytest.mark.parametrize(
    ("peer", "says"),
    [
        (
            "localstripe",
            "POST /v1/accounts → 404 Not Found ('404: Not Found'): "
            "the target does not implement connected accounts",
        ),
        (
            "stripe-stateful-mock",
            "POST /v1/account_sessions → 404 Not Found ('invalid_request_error: No matching path: "
            "/v1/account_sessions'): the target does not implement Account Sessions",
        ),
    ],
)
def test_a_peer_without_the_endpoint_is_told_in_one_line(peer, says, cli):
    if missing(peer):
        pytest.skip(missing(peer))
    with running(peer) as url:
        run = cli("run", "--base-url", url)
    out = run.stdout + run.stderr
    assert run.code == 1, out[-3000:]
    assert "Traceback" not in out and "During handling" not in out
    assert len(out.splitlines()) <= MAX_LINES, len(out.splitlines())
    verdict = _verdict(run)
    assert "DOES NOT CONFORM" in verdict and says in verdict, verdict
    assert says in run.stdout.split("= conformance =")[0]  # in the target profile, before the checks
    summary = run.summary
    assert summary["verdict"] == "does not conform"
    assert summary["target_profile"]["missing"] == says
    assert f"> Not run: {says}" in (run.report_dir / "summary.md").read_text()  # the job summary says why
    not_run = [c for c in summary["checks"] if c["outcome"] == "not run"]
    assert len(not_run) > 150 and {c["message"] for c in not_run} == {f"not run: {says}"}
    judged = {"validation", "auth", "idempotency", "fuzz", "schemathesis", "drift"}
    assert not [c for c in summary["checks"] if c["outcome"] == "passed" and c["category"] in judged]


def test_stripe_stateful_mock_keeps_no_controller_and_says_so(cli):
    if missing("stripe-stateful-mock"):
        pytest.skip(missing("stripe-stateful-mock"))
    with running("stripe-stateful-mock") as url:
        run = cli("run", "--base-url", url, "-m", "defaults")
    profile = run.summary["target_profile"]
    assert profile["accounts"] == "type" and profile["controller_reported"] is False
    outcomes = {c["id"].split("::")[1]: c["outcome"] for c in run.summary["checks"]}
    assert outcomes["test_archetype_created[full]"] == "failed"
    assert outcomes["test_account_lifecycle"] == "passed"  # a 403 after DELETE is a Stripe answer too
    assert "no controller: the target did not report one" in run.stdout


@pytest.mark.parametrize("peer", ["localstripe", "stripe-stateful-mock"])
def test_schemathesis_does_not_conform_on_404s(peer, cli):
    if missing(peer):
        pytest.skip(missing(peer))
    with running(peer) as url:
        run = cli("run", "--base-url", url, "-m", "schemathesis")
    assert run.code == 1, run.stdout[-2000:]
    assert run.summary["verdict"] == "does not conform"
    assert {c["outcome"] for c in run.summary["checks"]} == {"not run"}
