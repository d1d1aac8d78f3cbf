"""The command line: verdicts, exit codes, and one clear line for bad input."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from .conftest import ROOT, SEEDS, closed_port


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_embedded_run_conforms_and_writes_summary(cli_process):
    """End to end through ``python -m conformance.cli``: its exit code, its report (every
    category, on the dev budget: tests/test_faults.py runs the ci budget)."""
    run = cli_process("run", "-q", "--profile", "dev")
    assert run.code == 0, run.stdout[-2000:] + run.stderr
    summary = run.summary
    assert summary["verdict"] == "conforms"
    assert set(summary["counts"]) >= {"passed", "failed", "warnings", "skipped"}
    check = summary["checks"][0]
    assert set(check) >= {"id", "category", "outcome", "message"}
    assert {c["category"] for c in summary["checks"]} == {
        "shape",
        "defaults",
        "validation",
        "auth",
        "idempotency",
        "fuzz",
        "schemathesis",
        "drift",
    }
    assert summary["fuzz_cases"] > 0


def test_nothing_listening_exits_2_with_one_line(cli_process):
    """End to end: exit 2 from the process, one line on its stderr."""
    with closed_port() as port:
        run = cli_process("run", "--base-url", f"http://127.0.0.1:{port}")
    assert run.code == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "unreachable" in lines[0] and "Traceback" not in run.stderr
    # the reports say so too: a nightly job gets a report on the night the target was down
    assert run.summary["verdict"] == "unreachable" and "did not answer" in run.summary["stopped"]
    assert "conformance: unreachable" in (run.report_dir / "summary.md").read_text()


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (("run", "--no-such-flag"), {}, "unrecognized arguments"),
        (("run", "--base-url", "ftp://x"), {}, "--base-url must start with"),
        (("run",), {"STRIPE_API_KEY": "sk_live_" + "x" * 8}, "live-mode"),
        (("run", "-m", "not_a_category"), {}, "not_a_category"),
        (("run", "--contracts", "/nonexistent"), {}, "cannot load contracts"),
        (("frobnicate",), {}, "invalid choice"),
        (("contracts", "import", "/nonexistent.md"), {}, "no such document"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, args, env, says):
    run = cli(*args, env=env)
    assert run.code == 2, run.stdout[-1000:] + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], run.stderr
    assert "Traceback" not in run.stdout + run.stderr


def test_live_key_refused_before_any_request(committed, serve, cli):
    from conformance.mock import create_app

    app = create_app(committed)
    url = serve(app)
    run = cli("run", "--base-url", url, env={"STRIPE_API_KEY": "sk_live_" + "y" * 8})
    assert run.code == 2
    assert len(app.state.behaviour.accounts) == 0


def test_serve_port_in_use_exits_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "conformance.cli", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
        )
    assert proc.returncode == 2 and "cannot listen" in proc.stderr


def test_serve_answers(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        import httpx

        deadline = time.monotonic() + 120  # a start-up, however busy the machine: not a speed
        while True:
            try:
                r = httpx.post(
                    f"http://127.0.0.1:{port}/v1/accounts",
                    data={"type": "custom"},
                    auth=("sk_test_serve", ""),
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "conformance serve did not start"
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["controller"]["requirement_collection"] == "application"
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert "sk_test_serve" not in out + err


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the API docs are not at {SEEDS}")
def test_contracts_import(cli, tmp_path):
    out = tmp_path / "contracts"
    run = cli("contracts", "import", *map(str, sorted(SEEDS.glob("*.md"))), "--out", str(out))
    assert run.code == 0, run.stderr
    assert "19 components" in run.stdout and "0 unparsed" in run.stdout
    assert json.loads((out / "unparsed.json").read_text()) == []
    assert (out / "openapi.yaml").is_file()


def test_shards_merge_into_one_report(cli, tmp_path):
    """A CI matrix: each machine runs some categories; the merged report equals one run."""
    import json as _json

    whole = cli("run", "-m", "shape or validation or auth", "--seed", "3").summary
    parts = []
    for index, marker in enumerate(("shape", "validation", "auth")):
        run = cli("run", "-m", marker, "--seed", "3")
        assert run.code == 0
        shard = tmp_path / f"shard{index}"
        shard.mkdir()
        (shard / "summary.json").write_text((run.report_dir / "summary.json").read_text())
        parts.append(str(shard))
    merged = cli("report", "merge", *parts, "--out", str(tmp_path / "merged"))
    assert merged.code == 0, merged.stderr
    summary = _json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert summary["counts"] == whole["counts"] and summary["shards"] == 3
    assert [c["id"] for c in summary["checks"]] == [c["id"] for c in whole["checks"]]
    assert (tmp_path / "merged" / "index.html").is_file() and (tmp_path / "merged" / "junit.xml").is_file()
