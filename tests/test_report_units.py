"""The report's parts on hand-made summaries: matrix precedence, coverage, history,
redaction, escaping."""

from __future__ import annotations

import json
import re

import jsonschema

from conformance.report import SCHEMA_PATH, scrub, write_reports
from conformance.report.history import History, append_run, pass_rate, read_history
from conformance.report.html import render_html
from conformance.report.matrix import build_matrices, coverage
from conformance.report.trend import trend
from conformance.results import CATEGORIES, SUMMARY_VERSION, tally

KEY = "sk_test_" + "Q" * 24 + "wxyz"


def _check(cid: str, outcome: str = "passed", cells=(), findings=(), rules=(), **extra) -> dict:
    return {
        "id": f"suites/test_u.py::{cid}",
        "category": "defaults",
        "outcome": outcome,
        "message": "",
        "duration": 0.01,
        "rules": list(rules),
        "findings": list(findings),
        "cells": [list(c) for c in cells],
        "evidence": [],
        **extra,
    }


def _summary(*checks: dict, **extra) -> dict:
    counts = tally(c["outcome"] for c in checks)
    counts.pop("total")
    return {
        "schema": "conformance-summary",
        "version": SUMMARY_VERSION,
        "target": "http://127.0.0.1:1",
        "target_info": {"name": "t", "base_url": "http://127.0.0.1:1", "mode": "url", "api_version": None},
        "verdict": "does not conform" if counts["failed"] else "conforms",
        "started": "2026-02-03T04:05:06+00:00",
        "duration": 1.0,
        "counts": {**counts, "total": len(checks)},
        "categories": {**{c: dict.fromkeys(counts, 0) for c in CATEGORIES}, "defaults": counts},
        "contract": {
            "components": {"payouts": ["instant_payouts", "standard_payouts"], "documents": []},
            "archetypes": ["full", "none"],
            "rules": [f"rule{i}" for i in range(10)],
            "inconsistencies": [],
            "unparsed": [],
        },
        "checks": list(checks),
        **extra,
    }


def _state(matrices, archetype: str, component: str, column: str) -> str:
    matrix = next(m for m in matrices if m.archetype == archetype)
    cells = dict(matrix.rows)[component]
    return cells[matrix.columns.index(column)].state


def test_failed_beats_warning_beats_passed_and_absent_columns_are_not_applicable():
    summary = _summary(
        _check(
            "a",
            cells=[
                ("full", "payouts", "instant_payouts", "passed"),
                ("full", "payouts", "enabled", "passed"),
            ],
        ),
        _check(
            "b",
            "warning",
            cells=[
                ("full", "payouts", "instant_payouts", "warning"),
                ("none", "payouts", "enabled", "warning"),
            ],
        ),
        _check("c", "failed", cells=[("full", "payouts", "instant_payouts", "failed")]),
        _check(
            "d", cells=[("none", "payouts", "enabled", "passed"), ("none", "newcomer", "enabled", "warning")]
        ),
    )
    matrices = build_matrices(summary)
    assert [m.archetype for m in matrices] == ["full", "none"]
    assert _state(matrices, "full", "payouts", "instant_payouts") == "failed"
    assert _state(matrices, "none", "payouts", "enabled") == "warning"
    assert _state(matrices, "full", "payouts", "enabled") == "passed"
    assert _state(matrices, "full", "payouts", "standard_payouts") == "none"  # has it, nobody checked it
    assert _state(matrices, "full", "documents", "instant_payouts") == "na"  # does not have it
    assert _state(matrices, "none", "newcomer", "enabled") == "warning"  # drift shows as its own row
    full = next(m for m in matrices if m.archetype == "full")
    cell = dict(full.rows)["payouts"][full.columns.index("instant_payouts")]
    assert [c.rsplit("::", 1)[1] for c in cell.checks] == ["a", "b", "c"]


def test_coverage_counts_what_was_exercised():
    summary = _summary(
        _check("a", cells=[("full", "payouts", "instant_payouts", "passed")], rules=["r1", "r2"]),
        _check("b", "skipped", rules=["r2", "r3"]),
    )
    cov = coverage(summary, build_matrices(summary))
    assert cov["components"] == {"done": 1, "total": 2, "percent": 50}
    assert cov["features"] == {"done": 1, "total": 2, "percent": 50}
    assert cov["rules"]["done"] == 3 and cov["rules"]["total"] == 10
    assert cov["cells"]["total"] == 2 * (3 + 1)  # two archetypes x (payouts: enabled + 2, documents: enabled)
    assert cov["checks"] == {"done": 1, "total": 2, "percent": 50}
    assert "fuzz_cases" not in cov
    assert coverage(_summary(fuzz_cases=12), [])["fuzz_cases"] == 12


def test_history_skips_malformed_lines_and_keeps_the_last_runs(tmp_path):
    path = tmp_path / "history.jsonl"
    good = [{"date": f"2026-01-{d:02d}", "pass_rate": d / 40, "verdict": "conforms"} for d in range(1, 36)]
    bad = ["{nope", "[]", '"text"', json.dumps({"date": "x", "pass_rate": 7}), json.dumps({"pass_rate": 1})]
    path.write_bytes(
        ("\n".join([*map(json.dumps, good[:3]), *bad, *map(json.dumps, good[3:])])).encode()
        + b"\n\xff\xfe broken bytes"
    )
    history = read_history(path, last=30)
    assert history.skipped == len(bad) + 1
    assert [e["date"] for e in history.entries] == [e["date"] for e in good[-30:]]
    append_run(path, _summary(_check("a")))  # the file did not end with a newline: one is added first
    lines = path.read_text(errors="replace").splitlines()
    assert json.loads(lines[-1])["verdict"] == "conforms" and lines[-2].endswith("broken bytes")
    assert read_history(tmp_path / "missing.jsonl").entries == []
    assert pass_rate({"passed": 3, "warnings": 1, "skipped": 2, "total": 8}) == round(4 / 6, 4)
    assert pass_rate({"skipped": 2, "total": 2}) is None


def test_a_history_that_cannot_be_written_costs_one_line(tmp_path, capsys):
    (tmp_path / "history.jsonl").mkdir()
    written = write_reports(tmp_path, _summary(_check("a")))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("conformance: history not updated")
    assert (tmp_path / "index.html").stat().st_size > 0 and (tmp_path / "junit.xml") in written


def test_keys_and_clear_secrets_are_masked_and_markup_escaped(tmp_path):
    finding = {
        "severity": "failure",
        "kind": "value",
        "path": "components.payouts.enabled",
        "rule": "session.enabled",
        "grade": "doc",
        "sources": ["a.md"],
        "says": "<b>x</b>",
        "expected": True,
        "actual": f"<script>alert(1)</script> {KEY}",
    }
    evidence = [
        {
            "exchange": {
                "request": {"method": "POST", "path": "/v1/account_sessions", "body": "a=1&b=%5B%5D"},
                "response": {"status": 200, "body": {"client_secret": "_clear_secret_value"}},
                "curl": f"curl -u {KEY}:",
            },
            "explanation": "changed",
        }
    ]
    summary = _summary(
        _check("bad", "failed", findings=[finding], evidence=evidence, message="boom"),
        _check("skip", "skipped", message="not for <this> target"),
    )
    assert scrub({"client_secret": "<client_secret:3>"}) == {"client_secret": "<client_secret:3>"}
    write_reports(tmp_path, summary)
    for name in ("index.html", "junit.xml", "history.jsonl"):
        text = (tmp_path / name).read_text()
        assert "Q" * 24 not in text and "_clear_secret_value" not in text, name
    html = (tmp_path / "index.html").read_text().replace("<wbr>", "")
    assert "sk_test_****wxyz" in html and "&lt;client_secret&gt;" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "b=[]" in html  # the form is shown decoded, one field a line
    assert "not for &lt;this&gt; target" in html


def test_a_check_that_errored_without_findings_is_listed_with_its_message():
    html = render_html(
        _summary(_check("err", "failed", message="error in setup: ConnectionError")), History()
    ).replace("<wbr>", "")
    assert "(no rule: the check errored)" in html and "error in setup: ConnectionError" in html
    assert re.search(r'<details class="failure" id="fail-1" open>', html)


def test_the_trend_leaves_a_gap_for_a_run_without_a_rate():
    entries = [
        {"date": "d1", "pass_rate": 1.0, "verdict": "conforms"},
        {"date": "d2", "pass_rate": 0.5, "verdict": "does not conform"},
        {"date": "d3", "pass_rate": None, "verdict": "unreachable"},
        {"date": "d4", "pass_rate": 0.75, "verdict": "does not conform"},
    ]
    chart = trend(entries)
    assert len(chart["points"]) == 3 and len(chart["lines"]) == 1  # d4 stands alone after the gap
    ys = [p["y"] for p in chart["points"]]
    assert ys[0] < ys[2] < ys[1]  # higher rate, higher on the chart
    assert [p["cls"] for p in chart["points"]] == ["ok", "bad", "bad"] and chart["latest"] == "75.0%"


def test_a_replay_names_its_cassettes_and_fits_the_schema():
    summary = _summary(_check("a"))
    summary["target_info"] = {
        "name": "replay of cassettes/embedded",
        "base_url": "http://127.0.0.1:1",
        "mode": "replay",
        "cassettes": "cassettes/embedded",
        "recorded": None,
        "api_version": "2026-01-28.clover",
    }
    html = render_html(summary, History())
    assert "replay of cassettes/embedded" in html and "2026-01-28.clover" in html
    schema = json.loads(SCHEMA_PATH.read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(summary)) == []
    summary["target_info"]["mode"] = 3
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(summary))
