"""The report of a real run against a fault-injected mock: every file written, each
format valid, the page holding the verdict, matrix, failing rule and evidence, and
no key or client_secret anywhere."""

from __future__ import annotations

import json
import re
import secrets
import string
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import jsonschema
import pytest

from conformance.contracts.model import Contract
from conformance.mock import Behaviour, EmbeddedServer, create_app
from conformance.report import SCHEMA_PATH

from .conftest import run_in_process
from .faults import FAULTS
from .test_report_xsd import validate

BROKEN_RULE = "default:payouts.instant_payouts"  # what the wrong_default fault breaks
OLD_RUN = {
    "date": "2026-01-01T00:00:00+00:00",
    "target": "x",
    "verdict": "conforms",
    "counts": {},
    "pass_rate": 1.0,
}


class _Recording(Behaviour):
    issued: ClassVar[list[str]] = []

    def client_secret(self) -> str:
        secret = super().client_secret()
        self.issued.append(secret)
        return secret


@dataclass
class ReportRun:
    code: int
    stdout: str
    stderr: str
    report_dir: Path
    key: str
    secrets: list[str]

    def read(self, name: str) -> str:
        return (self.report_dir / name).read_text(encoding="utf-8")

    @property
    def summary(self) -> dict:
        return json.loads(self.read("summary.json"))


def conformance_run(*args: str, report_dir: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """`conformance run ARGS` (in this process: tests/conftest.py's run_in_process)."""
    argv = ["run", *args, "--report-dir", str(report_dir), "-p", "no:cacheprovider"]
    code, out, err = run_in_process(argv, None, timeout)
    return subprocess.CompletedProcess(argv, code, out, err)


_RUNS: dict[str, ReportRun] = {}


def faulty_report(tmp_path_factory: pytest.TempPathFactory, contract: Contract) -> ReportRun:
    """One run (per test session) against the wrong_default mock, with a real-looking key and a
    history file that already holds a good line and two malformed ones."""
    if "faulty" in _RUNS:
        return _RUNS["faulty"]
    report_dir = tmp_path_factory.mktemp("faulty") / "reports"
    report_dir.mkdir()
    (report_dir / "history.jsonl").write_text(json.dumps(OLD_RUN) + "\n{truncated line\n[1, 2]\n")
    key = "sk_test_" + "".join(secrets.choice(string.ascii_letters) for _ in range(28))
    wrong = next(f for f in FAULTS if f.name == "wrong_default")

    class Faulty(_Recording, type(wrong.build(contract).state.behaviour)):
        pass

    _Recording.issued.clear()
    server = EmbeddedServer(create_app(contract, Faulty(contract))).start()
    try:
        proc = conformance_run(
            "--base-url",
            server.url,
            "--api-key",
            key,
            "-m",
            "not fuzz and not schemathesis",
            report_dir=report_dir,
        )
    finally:
        server.stop()
    _RUNS["faulty"] = ReportRun(
        proc.returncode, proc.stdout, proc.stderr, report_dir, key, list(_Recording.issued)
    )
    return _RUNS["faulty"]


@pytest.fixture(scope="module")
def run(tmp_path_factory, committed) -> ReportRun:
    return faulty_report(tmp_path_factory, committed)


def test_a_failing_run_writes_every_report(run):
    assert run.code == 1, run.stdout[-2000:] + run.stderr
    for name in ("summary.json", "index.html", "junit.xml", "history.jsonl"):
        assert (run.report_dir / name).stat().st_size > 0, name
    assert "Traceback" not in run.stderr + run.stdout


def test_malformed_history_lines_are_skipped_not_fatal(run):
    assert "skipped 2 malformed line(s)" in run.stderr
    lines = run.read("history.jsonl").splitlines()
    assert lines[:3] == [json.dumps(OLD_RUN), "{truncated line", "[1, 2]"]  # the file is only appended to
    entry = json.loads(lines[3])
    summary = run.summary
    assert entry["verdict"] == "does not conform" and entry["target"] == summary["target"]
    assert entry["counts"] == summary["counts"] and entry["date"] == summary["started"]
    counts = summary["counts"]
    assert entry["pass_rate"] == round(
        (counts["passed"] + counts["warnings"]) / (counts["total"] - counts["skipped"]), 4
    )
    html = run.read("index.html").replace("<wbr>", "")
    assert html.count("<circle ") == 2  # the trend: the old run and this one, nothing from the broken lines


def test_summary_validates_against_its_schema(run):
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    summary = run.summary
    assert list(validator.iter_errors(summary)) == []
    broken = json.loads(json.dumps(summary))
    broken["checks"][0]["outcome"] = "exploded"
    broken["checks"][1]["cells"] = [["full", "payouts", "enabled"]]
    del broken["counts"]["total"]
    errors = {e.json_path for e in validator.iter_errors(broken)}
    assert {"$.checks[0].outcome", "$.checks[1].cells[0]", "$.counts"} <= errors


def test_junit_validates_and_holds_each_check_once(run):
    path = run.report_dir / "junit.xml"
    assert validate(path) == []
    root = ET.parse(path).getroot()
    summary = run.summary
    cases = list(root.iter("testcase"))
    assert sorted(c.get("name") for c in cases) == sorted(c["id"] for c in summary["checks"])
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == summary["counts"]["failed"] > 0
    assert all(BROKEN_RULE in f.find("failure").get("message") for f in failed)
    by_suite = {s.get("name"): int(s.get("tests")) for s in root.iter("testsuite")}
    assert by_suite == {
        f"conformance.{k}": sum(v.values()) for k, v in summary["categories"].items() if sum(v.values())
    }
    assert {c.get("classname") for c in cases} == set(by_suite)


def test_the_page_holds_verdict_matrix_failures_and_evidence(run):
    html = run.read("index.html").replace("<wbr>", "")
    summary = run.summary
    assert '<h1 data-verdict="does not conform">DOES NOT CONFORM</h1>' in html
    assert f"{summary['counts']['failed']}</b> of {summary['counts']['total']} checks failed" in html
    for archetype in ("full", "express", "none"):
        table = re.search(rf'id="matrix-{archetype}".*?</table>', html, re.S).group(0)
        assert table.count('<th scope="row">') == len(summary["contract"]["components"]) == 19
        assert re.search(r'<td class="c failed"[^>]*title="[^"]*payouts · instant_payouts', table), archetype
        assert 'class="c na"' in table  # documents has no features: not applicable, not "not exercised"
    rule_row = re.search(r'<section id="broken".*?</section>', html, re.S).group(0)
    assert (
        BROKEN_RULE in rule_row
        and "grade-doc" in rule_row
        and "create_account_session.md#parameters" in rule_row
    )
    assert html.count('<details class="failure"') == summary["counts"]["failed"]
    assert "curl -sS -X POST" in html and "$STRIPE_API_KEY" in html and "deepdiff (expected" in html
    assert "I01" in html and "I08" in html  # the documentation inconsistencies
    assert "<script" not in html.lower()
    # self-contained: nothing fetched (links to the docs are followed by a reader, not loaded)
    assert not re.search(r'src="(?:https?:)?//', html) and not re.search(r"<link[^>]+href=", html)
    assert (  # the broken rule links to the field's anchor on the published page
        'href="https://docs.stripe.com/api/account_sessions/create'
        '#create_account_session-components-payouts-features-instant_payouts"' in rule_row
    )


def test_no_key_and_no_client_secret_in_any_report(run):
    assert run.secrets, "the mock issued no client secret"
    for path in run.report_dir.iterdir():
        data = path.read_bytes()
        assert run.key.encode() not in data and run.key[8:].encode() not in data, path.name
        leaked = [s for s in run.secrets if s.encode() in data]
        assert not leaked, f"{path.name}: {len(leaked)} client secrets in clear"
    assert "&lt;client_secret:" in run.read("index.html")  # evidence was written, redacted


def test_an_unwritable_report_dir_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = conformance_run("-m", "auth", report_dir=blocker / "reports")
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [
        f"conformance: error: cannot write the reports to {blocker / 'reports'}: "
        f"Not a directory: {blocker / 'reports'}"
    ], proc.stderr
    assert "Traceback" not in proc.stdout
