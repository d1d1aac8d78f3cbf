"""The nightly job's memory (issue 12): a baseline of accepted deviations, what changed
since the last run, and the job summary -- end to end against fault-injected servers,
and the pieces (matching, changes, rule outcomes) on their own."""

from __future__ import annotations

import datetime as dt
import json

import jsonschema
import pytest
import yaml

from conformance.baseline import load_baseline, proposed
from conformance.errors import SettingsError
from conformance.mock import create_app
from conformance.report import SCHEMA_PATH
from conformance.report.changes import changes, rule_strip
from conformance.summaries import merge_summaries, rule_outcomes

from .faults import WrongDefault

RULE = "default:payouts.instant_payouts"
SELECT = ("-m", "defaults", "-k", "requested_component_defaults and payouts")
TODAY = dt.date.today()


def _baseline(tmp_path, *entries: dict) -> str:
    path = tmp_path / "baseline.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "accepted": list(entries)}))
    return str(path)


def _entry(rule: str = RULE, days: int = 10, **more) -> dict:
    return {
        "rule": rule,
        "reason": "the API moved past the docs",
        "expires": str(TODAY + dt.timedelta(days)),
        **more,
    }


@pytest.fixture
def faulty(committed, serve):
    return serve(create_app(committed, WrongDefault(committed)))


# -- end to end -------------------------------------------------------------------------------
def test_an_accepted_deviation_passes_the_verdict_and_is_shown_everywhere(faulty, cli, tmp_path):
    baseline = _baseline(tmp_path, _entry(), _entry("default:payments.*"))
    run = cli("run", "--base-url", faulty, *SELECT, "--baseline", baseline)
    assert run.code == 0, run.stdout[-3000:]
    summary = run.summary
    assert summary["verdict"] == "conforms" and summary["counts"]["accepted"] >= 1
    assert summary["counts"]["failed"] == 0 and summary["broken_rules"] == []
    assert summary["rule_outcomes"][RULE] == "accepted"
    accepted = next(c for c in summary["checks"] if c["outcome"] == "accepted")
    assert "the API moved past the docs" in accepted["message"]
    entries = {e["rule"]: e for e in summary["baseline"]["entries"]}
    assert entries[RULE]["status"] == "matched" and entries[RULE]["matched"] >= 1
    assert entries["default:payments.*"]["status"] == "stale"  # payments' defaults held
    assert "accepted deviations (1)" in run.stdout and "the API moved past the docs" in run.stdout
    assert "stale entry default:payments.*" in run.stdout
    assert "1 accepted" in run.stdout.splitlines()[-2] or "accepted" in run.stdout
    md = (run.report_dir / "summary.md").read_text()
    assert "Accepted deviations" in md and "the API moved past the docs" in md and "stale" in md
    html = (run.report_dir / "index.html").read_text()
    assert "accepted" in html and "the API moved past the docs" in html
    junit = (run.report_dir / "junit.xml").read_text()
    assert "accepted" in junit and "<failure" not in junit
    schema = json.loads(SCHEMA_PATH.read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(summary)) == []


def test_an_expired_entry_no_longer_accepts_and_says_so(faulty, cli, tmp_path):
    run = cli("run", "--base-url", faulty, *SELECT, "--baseline", _baseline(tmp_path, _entry(days=-1)))
    assert run.code == 1 and RULE in run.failed_rules()
    yesterday = str(TODAY - dt.timedelta(1))
    assert f"expired on {yesterday}" in run.stdout
    entry = run.summary["baseline"]["entries"][0]
    assert entry["status"] == "expired" and "would have accepted" in entry["note"]
    assert run.summary["broken_rules"][0]["expired"] == yesterday


def test_an_entry_for_another_target_or_path_does_not_accept(faulty, cli, tmp_path):
    baseline = _baseline(
        tmp_path, _entry(target="https://api.stripe.com"), _entry(path="components.payments.*")
    )
    run = cli("run", "--base-url", faulty, *SELECT, "--baseline", baseline)
    assert run.code == 1 and RULE in run.failed_rules()
    assert {e["status"] for e in run.summary["baseline"]["entries"]} == {"stale"}


def test_baseline_update_writes_the_failures_for_a_team_to_edit(faulty, cli, tmp_path):
    out = tmp_path / "proposed.yaml"
    run = cli("run", "--base-url", faulty, *SELECT, "--baseline-update", str(out))
    assert run.code == 1 and f"baseline written to {out}" in run.stdout
    written = yaml.safe_load(out.read_text())
    rules = {e["rule"] for e in written["accepted"]}
    assert rules == {RULE} and all(e["reason"].startswith("TODO") for e in written["accepted"])
    assert {str(e["expires"]) for e in written["accepted"]} == {str(TODAY + dt.timedelta(30))}
    again = cli("run", "--base-url", faulty, *SELECT, "--baseline", str(out))
    assert again.code == 0 and again.summary["counts"]["accepted"] >= 1


@pytest.mark.parametrize(
    "text, says",
    [
        ("accepted: [{rule: x, reason: y}]", "expires is required"),
        ("accepted: [{rule: x, reason: y, expires: soon}]", "must be a date"),
        ("accepted: [{rule: x, reason: y, expires: 2030-01-01, rules: z}]", "unknown key(s) rules"),
        ("accepted: {rule: x}", "a list under 'accepted'"),
        ("accepted: [\n  - x", "is not YAML"),
        ("version: 2\naccepted: []", "version 2 is not supported"),
    ],
)
def test_a_bad_baseline_is_one_line_and_exit_2(text, says, cli, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    run = cli("run", "-m", "shape", "--baseline", str(path))
    assert run.code == 2 and says in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


class Switch:
    """One address, the server behind it swapped between runs."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


def test_runs_in_a_row_show_what_broke_and_what_was_fixed(committed, cli, serve, tmp_path):
    good, bad = create_app(committed), create_app(committed, WrongDefault(committed))
    server = Switch(good)
    url = serve(server)
    reports = tmp_path / "shared-reports"

    def run():
        done = cli("run", "--base-url", url, *SELECT, "--report-dir", str(reports))
        done.report_dir = reports
        done.kept = done.summary  # read now: the next run writes over it
        return done

    first = run()
    assert first.code == 0 and first.kept["changes"]["previous"] is None
    assert "none on record for this target" in first.stdout

    server.app = bad
    broken = run()
    assert broken.code == 1 and broken.kept["changes"]["previous"] == first.kept["started"]
    assert broken.kept["changes"]["new"] == [RULE] and broken.kept["changes"]["fixed"] == []
    assert f"newly broken 1 ({RULE})" in broken.stdout
    assert "**Newly broken** (1)" in (reports / "summary.md").read_text()
    assert "Newly broken" in (reports / "index.html").read_text()

    still = run()
    assert still.kept["changes"]["new"] == []
    assert still.kept["changes"]["still_broken"] == [{"rule": RULE, "since": broken.kept["started"]}]

    server.app = good
    fixed = run()
    assert fixed.code == 0 and fixed.kept["changes"]["fixed"] == [RULE]
    assert f"fixed 1 ({RULE})" in fixed.stdout and "**Fixed** (1)" in (reports / "summary.md").read_text()
    html = (reports / "index.html").read_text().replace("<wbr>", "")
    assert 'class="rule-strip"' in html and RULE in html  # the per-rule strip: the rule that changed
    lines = (reports / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["rules"][RULE] for line in lines] == ["passed", "failed", "failed", "passed"]


def test_the_job_summary_is_appended_for_github(cli, tmp_path, faulty):
    step = tmp_path / "step_summary.md"
    step.write_text("earlier step\n")
    run = cli("run", "--base-url", faulty, *SELECT, env={"GITHUB_STEP_SUMMARY": str(step)})
    assert run.code == 1
    text = step.read_text()
    assert text.startswith("earlier step\n") and "conformance: does not conform" in text
    assert RULE in text and "| rule | grade | source | checks | says |" in text
    assert "https://docs.stripe.com/api/account_sessions/" in text  # the rule links to its docs


# -- the pieces ---------------------------------------------------------------------------------
def _finding(rule: str, path: str = "components.payouts.features.instant_payouts", severity: str = "failure"):
    return {"severity": severity, "rule": rule, "path": path, "kind": "value"}


def test_entries_match_by_pattern_path_and_target(tmp_path):
    baseline = load_baseline(
        _baseline(
            tmp_path,
            _entry("default:payouts.*", path="components.payouts.*"),
            _entry("constraint:*", target="http://127.0.0.1:*"),
        )
    )
    assert baseline.accept(_finding(RULE), "http://x") is baseline.entries[0]
    assert baseline.accept(_finding(RULE, path="components.balances.features.x"), "http://x") is None
    assert baseline.accept(_finding("constraint:a"), "http://127.0.0.1:9/") is baseline.entries[1]
    assert baseline.accept(_finding("constraint:a"), "https://api.stripe.com") is None
    assert baseline.entries[0].matched == 1 and baseline.entries[1].matched == 1


def test_an_entry_holds_through_its_last_day(tmp_path):
    today = load_baseline(_baseline(tmp_path, _entry(days=0)))
    assert today.accept(_finding(RULE), "") is not None
    gone = load_baseline(_baseline(tmp_path, _entry(days=0)), today=TODAY + dt.timedelta(1))
    assert gone.accept(_finding(RULE), "") is None and gone.entries[0].would_have == 1
    assert gone.report([RULE])[0]["status"] == "expired"


def test_a_stale_entry_says_whether_its_rule_ran(tmp_path):
    baseline = load_baseline(_baseline(tmp_path, _entry(RULE), _entry("default:tax_settings.*")))
    notes = [e["note"] for e in baseline.report([RULE])]
    assert "held in this run" in notes[0] and "no check of this run exercised" in notes[1]


def test_proposed_keeps_entries_and_adds_one_per_failure():
    kept = load_baseline.__globals__["Entry"]("default:a.*", "known", TODAY)
    text = proposed([_finding(RULE), _finding(RULE), _finding("x", path="p")], kept=[kept], today=TODAY)
    data = yaml.safe_load(text)
    assert [e["rule"] for e in data["accepted"]] == ["default:a.*", RULE, "x"]
    assert data["accepted"][0]["reason"] == "known" and data["accepted"][1]["reason"].startswith("TODO")


def test_rule_outcomes_take_the_worst_and_skip_unjudged_checks():
    checks = [
        {"outcome": "passed", "rules": ["a", "b"], "findings": []},
        {"outcome": "failed", "rules": ["b"], "findings": [_finding("b")]},
        {"outcome": "warning", "rules": ["c"], "findings": [_finding("c", severity="warning")]},
        {"outcome": "accepted", "rules": ["d"], "findings": [{**_finding("d"), "accepted": {"reason": "r"}}]},
        {"outcome": "inconclusive", "rules": ["e"], "findings": []},
        {"outcome": "failed", "rules": ["f"], "findings": []},  # errored: says nothing of f
    ]
    assert rule_outcomes(checks) == {"a": "passed", "b": "failed", "c": "warning", "d": "accepted"}


def _entry_line(date: str, rules: dict, verdict: str = "does not conform", target: str = "t") -> dict:
    return {"date": date, "target": target, "verdict": verdict, "rules": rules}


def test_changes_compare_with_the_last_judged_run_on_the_same_target():
    history = [
        _entry_line("d1", {"a": "failed", "b": "passed"}),
        _entry_line("d2", {"a": "failed", "b": "failed", "c": "failed"}),
        _entry_line("d3", {"a": "passed"}, target="other"),
        _entry_line("d4", {"a": "passed"}, verdict="interrupted"),  # judged only part of it
    ]
    now = {"target": "t", "rule_outcomes": {"a": "failed", "b": "passed", "c": "accepted", "w": "warning"}}
    found = changes(now, history)
    assert found["previous"] == "d2"
    assert found["new"] == [] and found["fixed"] == ["b"]  # c is accepted, not fixed
    assert found["still_broken"] == [{"rule": "a", "since": "d1"}]
    assert found["new_warnings"] == ["w"]
    assert changes(now, [])["previous"] is None
    strip = rule_strip(history)
    assert [r["rule"] for r in strip["rows"]] == ["a", "b"]
    assert strip["rows"][0]["cells"] == ["failed", "failed", "passed", "passed"]


def test_merged_shards_keep_accepted_checks_and_the_baseline():
    def shard(outcome: str, matched: int, status: str) -> dict:
        return {
            "verdict": "conforms",
            "checks": [
                {"id": outcome, "category": "defaults", "outcome": outcome, "rules": [RULE], "findings": []}
            ],
            "baseline": {"file": "b.yaml", "entries": [{"rule": RULE, "status": status, "matched": matched}]},
            "changes": {"previous": "x"},
        }

    merged = merge_summaries([shard("accepted", 2, "matched"), shard("passed", 0, "stale")])
    assert merged["counts"]["accepted"] == 1 and merged["verdict"] == "conforms"
    assert merged["baseline"]["entries"] == [{"rule": RULE, "status": "matched", "matched": 2}]
    assert "changes" not in merged


def test_settings_refuse_a_missing_baseline(tmp_path):
    from conformance.settings import Settings

    with pytest.raises(SettingsError, match="cannot read the baseline"):
        Settings(baseline=str(tmp_path / "nope.yaml")).check()
