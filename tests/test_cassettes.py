"""Record and replay: the same verdict offline, nothing secret on disk, drift reported."""

from __future__ import annotations

import socket
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from conformance.cassettes import form_body
from conformance.mock import Behaviour, create_app
from conformance.oracle import ExpectedSession

SUBSET = ["-m", "shape or validation or idempotency or fuzz or drift", "--max-examples", "15"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Issuing(Behaviour):
    """Remembers every client_secret it hands out."""

    issued: list[str]

    def client_secret(self) -> str:
        secret = super().client_secret()
        self.issued.append(secret)
        return secret


def test_record_then_replay_offline(committed, cli, tmp_path):
    behaviour = Issuing(committed)
    behaviour.issued = []
    from conformance.mock import EmbeddedServer

    key = "sk_test_" + "Q" * 28
    with EmbeddedServer(create_app(committed, behaviour)) as server:
        recorded = cli(
            "run",
            "--base-url",
            server.url,
            "--api-key",
            key,
            "--record-mode",
            "once",
            "--cassette-dir",
            str(tmp_path / "cassettes"),
            "--cassettes",
            "mine",
            *SUBSET,
        )
    assert recorded.code == 0, recorded.stdout[-2000:]
    files = list((tmp_path / "cassettes" / "mine").rglob("*.yaml"))
    assert len(files) > 20
    # the server is gone: a request that reached the network would fail as unreachable
    replayed = cli(
        "run",
        "--base-url",
        server.url,
        "--record-mode",
        "none",
        "--cassette-dir",
        str(tmp_path / "cassettes"),
        "--cassettes",
        "mine",
        *SUBSET,
    )
    assert replayed.code == 0, replayed.stdout[-3000:] + replayed.stderr
    assert replayed.summary["target_info"]["mode"] == "replay"
    assert replayed.summary["counts"] == recorded.summary["counts"]
    # nothing secret on disk
    written = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert key.encode() not in written and key[8:].encode() not in written
    assert behaviour.issued and not [s for s in behaviour.issued if s.encode() in written]
    assert b"<client_secret:" in written and b"<api-key>" in written
    assert b"Idempotency-Key" in written or b"idempotency-key" in written


def _recorded(cli, tmp_path, app_url, name, *extra):
    run = cli(
        "run",
        "--base-url",
        app_url,
        "--record-mode",
        "all",
        "--cassette-dir",
        str(tmp_path / "c"),
        "--cassettes",
        name,
        *extra,
    )
    return run


def test_unplayed_request_is_named(committed, serve, cli, tmp_path):
    url = serve(create_app(committed))
    _recorded(cli, tmp_path, url, "cut", "-m", "validation", "-k", "rejected")
    victim = next((tmp_path / "c" / "cut" / "test_validation").glob("test_rejected_components_missing_.yaml"))
    data = yaml.safe_load(victim.read_text())
    data["interactions"] = []
    victim.write_text(yaml.safe_dump(data))
    run = cli(
        "run",
        "--record-mode",
        "none",
        "--cassette-dir",
        str(tmp_path / "c"),
        "--cassettes",
        "cut",
        "-m",
        "validation",
        "-k",
        "rejected",
    )
    assert run.code == 1
    assert "no recorded answer for POST /v1/account_sessions" in run.stdout
    failed = [c["id"] for c in run.summary["checks"] if c["outcome"] == "failed"]
    assert failed == ["suites/test_validation.py::test_rejected[components_missing]"]


def test_broken_cassette_exits_2(committed, serve, cli, tmp_path):
    url = serve(create_app(committed))
    _recorded(cli, tmp_path, url, "broken", "-m", "auth")
    victim = next((tmp_path / "c" / "broken" / "test_auth").glob("*.yaml"))
    victim.write_text("interactions: [ {{{ not yaml")
    run = cli(
        "run",
        "--record-mode",
        "none",
        "--cassette-dir",
        str(tmp_path / "c"),
        "--cassettes",
        "broken",
        "-m",
        "auth",
    )
    assert run.code == 2
    assert "broken cassette" in run.stdout + run.stderr and "Traceback" not in run.stdout + run.stderr


def test_unknown_record_mode_lists_the_valid_ones(cli):
    run = cli("run", "--record-mode", "sometimes")
    assert run.code == 2
    assert "none, once, new_episodes, all" in run.stderr and len(run.stderr.strip().splitlines()) == 1


class Grown(Behaviour):
    """A later API: one more component, one more feature."""

    def session_body(self, expected: ExpectedSession) -> dict[str, Any]:
        body = super().session_body(expected)
        body["components"]["balance_report"] = {"enabled": False, "features": {}}
        body["components"]["payments"]["features"]["smart_disputes_management"] = False
        return body


class Shrunk(Behaviour):
    """A server that lost a documented feature."""

    def session_body(self, expected: ExpectedSession) -> dict[str, Any]:
        body = super().session_body(expected)
        del body["components"]["payments"]["features"]["refund_management"]
        return body


@pytest.mark.parametrize(("kind", "code"), [(Grown, 0), (Shrunk, 1)])
def test_replayed_drift(kind, code, committed, serve, cli, tmp_path):
    url = serve(create_app(committed, kind(committed)))
    recorded = _recorded(cli, tmp_path, url, "drift", "-m", "drift or shape")
    assert recorded.code == code
    run = cli(
        "run",
        "--record-mode",
        "none",
        "--cassette-dir",
        str(tmp_path / "c"),
        "--cassettes",
        "drift",
        "-m",
        "drift or shape",
    )
    assert run.code == code, run.stdout[-3000:]
    findings = [f for c in run.summary["checks"] for f in c["findings"]]
    if kind is Grown:
        assert run.summary["counts"]["warnings"] > 0
        paths = {f["path"] for f in findings if f["severity"] == "warning"}
        assert {
            "components.balance_report",
            "components.payments.features.smart_disputes_management",
        } <= paths
    else:
        assert "components.payments.features.refund_management" in {
            f["path"] for f in findings if f["severity"] == "failure"
        }


def test_documented_exchange_offline(cli):
    run = cli("run", "--record-mode", "none", "--cassettes", "documented")
    assert run.code == 0, run.stdout[-3000:]
    checks = run.summary["checks"]
    assert [c["id"] for c in checks] == [
        "suites/test_documented.py::test_documented_example[create_account_session]"
    ]
    notes = [f["path"] for f in checks[0]["findings"] if f["severity"] == "note"]
    assert notes == ["components.financial_account.features.external_account_collection"]


def test_dry_run_sends_nothing(cli):
    url = f"http://127.0.0.1:{_closed_port()}"
    run = cli("run", "--dry-run", "--base-url", url, "-m", "shape")
    assert run.code == 0, run.stdout[-2000:] + run.stderr
    assert f"calls would be sent to {url}" in run.stdout
    listed = (run.report_dir / "dry-run.txt").read_text().splitlines()
    assert listed and all(line.startswith(("POST ", "GET ", "DELETE ")) for line in listed)
    assert any("/v1/account_sessions" in line for line in listed)


def test_accounts_are_deleted_even_when_checks_fail(committed, serve, cli):
    from .faults import FAULTS

    app = next(f for f in FAULTS if f.name == "wrong_default").build(committed)
    run = cli("run", "--base-url", serve(app), "-m", "defaults or fuzz", "--max-examples", "10")
    assert run.code == 1
    assert len(app.state.behaviour.accounts) == 0


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("account=a&components[p][enabled]=true", "components%5Bp%5D%5Benabled%5D=true&account=a", True),
        ("account=a&components[p][enabled]=true", "account=a&components[p][enabled]=false", False),
        ("not a form", "not a form", True),
    ],
)
def test_matching_ignores_spelling(a, b, same):
    r1, r2 = SimpleNamespace(body=a.encode()), SimpleNamespace(body=b)
    if same:
        form_body(r1, r2)
    else:
        with pytest.raises(AssertionError):
            form_body(r1, r2)


@pytest.mark.parametrize("seed", [3, 7, 19])
def test_replay_gives_the_recordings_verdict_check_by_check(seed, serve, cli, tmp_path):
    """Recorded against a server written without the toolkit, replayed with no server:
    every check has the outcome it had when recorded (schemathesis's negative cases
    included: a replay judges what went on the wire, as the recording did)."""
    from .independent import make_app

    url = serve(make_app())
    where = ["--cassette-dir", str(tmp_path / "c"), "--cassettes", "ind", "--seed", str(seed)]
    picked = ["-m", "fuzz or schemathesis or validation", "--max-examples", "10"]
    recorded = cli("run", "--base-url", url, "--record-mode", "all", *where, *picked)
    assert recorded.code == 0, recorded.stdout[-3000:]
    replayed = cli("run", "--record-mode", "none", *where, *picked)
    outcomes = {c["id"]: c["outcome"] for c in replayed.summary["checks"]}
    assert outcomes == {c["id"]: c["outcome"] for c in recorded.summary["checks"]}, replayed.stdout[-3000:]
    assert replayed.code == 0 and replayed.summary["fuzz_cases"] == recorded.summary["fuzz_cases"]
