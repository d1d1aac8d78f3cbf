"""``conformance replay-failures``: a run keeps its failing generated cases (redacted),
and sending them again reproduces each failure on the same faulty server, passes
on a fixed one, makes accounts of the same kinds and deletes each exactly once.

The runs and replays are in-process (``conformance.cli.main``); the servers are the
embedded mock with a fault, behind ``Hostile``, which logs what it answered."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from conformance.cli import main
from conformance.mock import Behaviour, EmbeddedServer
from conformance.mock.behaviour import Reply
from conformance.redact import key_spellings

from .conftest import closed_port
from .faults import SecretReused
from .hostile import Hostile, answer, stripe_error
from .test_verdicts import NoController

KEY = "sk_test_" + secrets.token_hex(12)  # made at run time: no key-like string on disk


class Broken(Behaviour):
    """Every session lacks tax_settings, and echoes the key and its own client_secret in
    two feature values (a run must keep neither in clear)."""

    def create_session(self, params: Mapping[str, Any], key: str) -> Reply:
        status, body = super().create_session(params, key)
        if status == 200:
            del body["components"]["tax_settings"]
            features = body["components"]["payments"]["features"]
            first, second = list(features)[:2]
            features[first], features[second] = key, body["client_secret"]
        return status, body


class NoDashboardLosesTaxSettings(Behaviour):
    """Only for accounts with no dashboard: tax_settings is left out."""

    def create_session(self, params: Mapping[str, Any], key: str) -> Reply:
        status, body = super().create_session(params, key)
        controller = self.accounts.get(str(params.get("account"))) or {}
        if status == 200 and controller.get("controller.stripe_dashboard.type") == "none":
            del body["components"]["tax_settings"]
        return status, body


def _start(app: Any) -> EmbeddedServer:
    return EmbeddedServer(app).start()


def _run(url: str, report_dir: Path, *args: str) -> int:
    """``conformance run`` in this process, with the key in the environment."""
    before = os.environ.get("STRIPE_API_KEY")
    os.environ["STRIPE_API_KEY"] = KEY
    try:
        return main(
            ["run", "--base-url", url, "--report-dir", str(report_dir), "-p", "no:cacheprovider", *args]
        )
    finally:
        if before is None:
            os.environ.pop("STRIPE_API_KEY", None)
        else:
            os.environ["STRIPE_API_KEY"] = before


def _failed_run(app: Hostile, report_dir: Path, *args: str) -> SimpleNamespace:
    server = _start(app)
    code = _run(server.url, report_dir, "--seed", "7", "--profile", "dev", *args)
    saved = report_dir / "failures.json"
    return SimpleNamespace(
        server=server,
        app=app,
        url=server.url,
        code=code,
        dir=report_dir,
        summary=json.loads((report_dir / "summary.json").read_text()),
        saved=json.loads(saved.read_text()) if saved.is_file() else None,
        text=saved.read_text() if saved.is_file() else "",
    )


@pytest.fixture(scope="module")
def broken(committed, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """A run of the generated checks (fuzz, schemathesis, the state machine) against Broken."""
    run = _failed_run(
        Hostile(committed, behaviour=Broken(committed)),
        tmp_path_factory.mktemp("broken"),
        "-m",
        "fuzz or schemathesis",
    )
    yield run
    run.server.stop()


@pytest.fixture
def replay(capsys, monkeypatch):
    """``replay("DIR", "--base-url", url)``: (exit code, stdout lines, stderr lines)."""

    def run(*args: str, key: str | None = KEY) -> tuple[int, list[str], list[str]]:
        if key is None:
            monkeypatch.delenv("STRIPE_API_KEY", raising=False)
        else:
            monkeypatch.setenv("STRIPE_API_KEY", key)
        capsys.readouterr()
        code = main(["replay-failures", *args])
        out = capsys.readouterr()
        return code, out.out.splitlines(), out.err.splitlines()

    return run


def _copy(run: SimpleNamespace, into: Path, **target: Any) -> Path:
    """The run's failures file in a directory of its own, its target changed as told."""
    into.mkdir(parents=True, exist_ok=True)
    data = json.loads(run.text)
    data["target"].update(target)
    (into / "failures.json").write_text(json.dumps(data))
    return into


def _made_since(app: Hostile, before: set[str]) -> set[str]:
    return set(app.made) - before


# -- what a run keeps -----------------------------------------------------------------------
def test_a_failing_run_keeps_each_failed_generated_check_s_case(broken):
    assert broken.code == 1
    failed = {c["id"]: c for c in broken.summary["checks"] if c["outcome"] == "failed"}
    cases = broken.saved["cases"]
    assert {c["check"] for c in cases} == set(failed) and len(cases) == len(failed) >= 3
    assert {c["judge"] for c in cases} >= {"oracle", "schemathesis:positive"}
    for case in cases:
        broke = {f["rule"] for f in failed[case["check"]]["findings"] if f["severity"] == "failure"}
        assert set(case["rules"]) <= broke and "session.components" in case["rules"]
        assert case["request"]["path"] == "/v1/account_sessions" and case["expected"]["digest"]
        (account,) = case["accounts"].values()  # the run's express account, and how it was made
        assert account["archetype"] == "express" and account["recipe"]["path"] == "/v1/accounts"
        assert "controller[stripe_dashboard][type]=express" in account["recipe"]["form"]
    assert broken.saved["seed"] == broken.summary["seed"] == 7
    assert broken.saved["target"]["base_url"] == broken.url


def test_the_saved_cases_hold_no_key_and_no_client_secret(broken):
    secrets = broken.app.secrets()
    assert secrets and broken.text
    assert not [s for s in key_spellings(KEY) if s in broken.text]
    assert not [s for s in secrets if s in broken.text]
    assert "sk_test_****" in broken.text  # the echoed key was there, masked
    assert "Authorization" not in broken.text and "authorization" not in broken.text


def test_a_run_without_failures_removes_an_older_file(broken, committed, tmp_path, replay):
    stale = _copy(broken, tmp_path / "reports")
    server = _start(Hostile(committed))
    try:
        assert _run(server.url, stale, "-m", "fuzz", "-k", "valid", "--max-examples", "8") == 0
    finally:
        server.stop()
    assert not (stale / "failures.json").exists()
    code, out, err = replay(str(stale))
    assert code == 2 and out == [] and len(err) == 1 and "no saved failures" in err[0]


# -- sending them again -----------------------------------------------------------------------
def test_the_same_faulty_server_still_fails_each_case(broken, replay):
    before = set(broken.app.made)
    code, out, err = replay(str(broken.dir))
    cases = broken.saved["cases"]
    assert code == 1, out + err
    assert len(out) == len(cases) + 1 and all(line.startswith("STILL FAILS") for line in out[:-1])
    assert all("session.components" in line and "account={express}" in line for line in out[:-1])
    assert f"0 passed now, {len(cases)} still fail, 0 inconclusive" in out[-1]
    made = _made_since(broken.app, before)
    assert len(made) == 1  # one fresh express account, shared by the cases
    assert all(broken.app.deletes(account) == 1 for account in made)
    shown = "\n".join(out + err)
    assert KEY not in shown and not [s for s in broken.app.secrets() if s in shown]


def test_a_fixed_server_passes_them_all_now(broken, committed, replay):
    fixed = Hostile(committed)
    server = _start(fixed)
    broken_before = broken.app.count
    try:
        code, out, err = replay(str(broken.dir), "--base-url", server.url)
    finally:
        server.stop()
    cases = broken.saved["cases"]
    assert code == 0, out + err
    assert all(line.startswith("PASSED now") for line in out[:-1]) and len(out) == len(cases) + 1
    assert f"{len(cases)} passed now, 0 still fail" in out[-1] and server.url in out[-1]
    assert len(fixed.made) == 1 and fixed.deletes(fixed.made[0]) == 1
    sessions = [e for e in fixed.log if e.path == "/v1/account_sessions"]
    assert len(sessions) == len(cases) and all(e.status == 200 for e in sessions)
    assert all(json.loads(e.body)["account"] == fixed.made[0] for e in sessions)  # the fresh id
    assert broken.app.count == broken_before  # nothing went to the recorded target


def test_accounts_of_the_kind_the_case_named(committed, tmp_path, replay):
    """A fault only for accounts with no dashboard: the case names one, the replay makes one."""
    run = _failed_run(
        Hostile(committed, behaviour=NoDashboardLosesTaxSettings(committed)),
        tmp_path / "reports",
        "-m",
        "fuzz",
        "-k",
        "valid",
    )
    try:
        assert run.code == 1 and len(run.saved["cases"]) == 1
        (account,) = run.saved["cases"][0]["accounts"].values()
        assert account["archetype"] == "none"
        before = set(run.app.made)
        code, out, _ = replay(str(run.dir))
        assert code == 1 and out[0].startswith("STILL FAILS") and "account={none}" in out[0]
        (made,) = _made_since(run.app, before)
        answer = next(json.loads(e.body) for e in run.app.log if e.body and made in e.body.decode())
        assert answer["controller"]["stripe_dashboard"]["type"] == "none"
        assert run.app.deletes(made) == 1
    finally:
        run.server.stop()


def test_a_state_machine_step_is_inconclusive_not_sent(committed, tmp_path, replay):
    """A reused client_secret is seen only with the steps before it: not judged alone."""
    run = _failed_run(
        Hostile(committed, behaviour=SecretReused(committed)),
        tmp_path / "reports",
        "-m",
        "fuzz",
        "-k",
        "state_machine",
    )
    try:
        assert run.code == 1
        (case,) = run.saved["cases"]
        assert case["judge"] == "sequence" and case["rules"] == ["session.client_secret_unique"]
        count = run.app.count
        code, out, _ = replay(str(run.dir))
        assert code == 1 and out[0].startswith("INCONCLUSIVE") and "conformance run" in out[0]
        assert "0 passed now, 0 still fail, 1 inconclusive" in out[-1]
        assert run.app.count == count  # nothing sent, no account made
    finally:
        run.server.stop()


def test_another_controller_now_is_inconclusive_never_passed(broken, committed, replay):
    """A target that does not report its accounts' controller: the oracle's answer is not
    the run's, so the cases are not judged (a correct server otherwise)."""
    app = Hostile(committed, behaviour=NoController(committed))
    server = _start(app)
    try:
        code, out, _ = replay(str(broken.dir), "--base-url", server.url)
    finally:
        server.stop()
    assert code == 1
    assert all(
        line.startswith("INCONCLUSIVE") and "does not report the controller" in line for line in out[:-1]
    )
    assert len(app.made) == 1 and app.deletes(app.made[0]) == 1


def test_another_contract_now_is_inconclusive_never_passed(broken, committed, tmp_path, replay):
    """The same requests, but a contract whose default differs: not the run's judgement."""
    changed = tmp_path / "contracts"
    shutil.copytree(committed.directory, changed)
    defaults = json.loads((changed / "defaults.json").read_text())
    defaults["payments.capture_payments"]["rule"]["value"] = False
    (changed / "defaults.json").write_text(json.dumps(defaults))
    server = _start(Hostile(committed))
    try:
        code, out, _ = replay(str(broken.dir), "--base-url", server.url, "--contracts", str(changed))
    finally:
        server.stop()
    assert code == 1
    assert all(line.startswith("INCONCLUSIVE") and "contract changed" in line for line in out[:-1])


def test_an_embedded_run_s_cases_get_an_embedded_mock(broken, tmp_path, replay):
    with closed_port() as port:
        dead = f"http://127.0.0.1:{port}"
        directory = _copy(broken, tmp_path / "embedded", mode="embedded", base_url=dead)
        code, out, err = replay(str(directory), key=None)  # the mock's own key, as a run's
    assert code == 0, out + err
    assert dead not in out[-1] and "127.0.0.1" in out[-1] and "1 made, 1 deleted" in out[-1]


def test_ctrl_c_deletes_the_accounts_made(broken, committed, replay):
    main_thread = threading.main_thread().ident
    assert main_thread is not None
    sent: list[int] = []

    async def interrupt(request) -> bool:
        """Ctrl-C while a case is in flight, once an account was made; answered here (the
        mock would read a body the interrupted client no longer sends)."""
        if request.path == "/v1/account_sessions" and request.server.made and not sent:
            sent.append(request.number)
            signal.pthread_kill(main_thread, signal.SIGINT)
            return await answer(request, 400, stripe_error(400, "invalid_request_error", "interrupted"))
        return False

    app = Hostile(committed, interrupt)
    server = _start(app)
    try:
        code, out, err = replay(str(broken.dir), "--base-url", server.url)
    finally:
        server.stop()
    assert sent and code == 2 and len(err) == 1 and "interrupted" in err[0], "\n".join(out + err)
    assert len(app.made) == 1 and app.deletes(app.made[0]) == 1


# -- bad input: one line, exit 2 ---------------------------------------------------------------
def _write(directory: Path, data: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data)
    (directory / "failures.json").write_text(text)
    return directory


def _without(broken: SimpleNamespace, *path: str) -> dict[str, Any]:
    data = json.loads(broken.text)
    node = data
    for key in path[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    del node[path[-1]]
    return data


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda d, b: d / "nowhere", "no saved failures"),
        (
            lambda d, b: _write(d, '{"schema": "conformance-failures", "version": 1, "cases": ['),
            "cannot read",
        ),
        (lambda d, b: _write(d, {"schema": "something else"}), "not a conformance-failures file"),
        (lambda d, b: _write(d, {**json.loads(b.text), "cases": []}), "no cases"),
        (lambda d, b: _write(d, _without(b, "cases", "0", "request")), "case 1: no request"),
        (lambda d, b: _write(d, _without(b, "target", "base_url")), "no target base_url"),
    ],
    ids=["missing", "not-json", "other-schema", "no-cases", "case-without-request", "no-target"],
)
def test_missing_or_malformed_file_exits_2_with_one_line(broken, tmp_path, replay, make, says):
    code, out, err = replay(str(make(tmp_path / "reports", broken)))
    assert code == 2 and out == [], out
    assert len(err) == 1 and err[0].startswith("conformance: error:") and says in err[0], err


def test_unreachable_target_exits_2_with_one_line(broken, tmp_path, replay):
    shutil.copy(broken.dir / "failures.json", tmp_path / "failures.json")
    with closed_port() as port:
        code, out, err = replay(str(tmp_path), "--base-url", f"http://127.0.0.1:{port}")
    assert code == 2 and out == []
    assert len(err) == 1 and "unreachable" in err[0] and "Traceback" not in err[0]


def test_bad_base_url_exits_2_with_one_line(broken, replay):
    code, out, err = replay(str(broken.dir), "--base-url", "ftp://example")
    assert code == 2 and out == [] and len(err) == 1 and "--base-url must start with" in err[0]
