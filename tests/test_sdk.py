"""The SDK gate end to end: ``conformance sdk`` with the shipped adapters, with
adapters broken on purpose, and with adapters that cannot run.

The shipped adapters serve (one process for all of a worker's calls): the full
sdk suite, about 33 calls, takes ~3 s with either SDK. The broken adapters answer
one call per process, so the one-shot path runs too; they run with ``-k`` on the
cases that show their fault (about 2 s each). ``test_sdk_adapter.py`` tests the
adapter protocol in-process.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from importlib.metadata import version
from typing import Any

import pytest
from starlette.applications import Starlette

from conformance.contracts.model import Contract
from conformance.mock import Behaviour, create_app
from conformance.oracle import ExpectedSession

from .conftest import ROOT

BROKEN = f"{sys.executable} -m tests.sdk_"  # + module name: run from the checkout


def sdk(cli, tmp_path, adapter: str, *extra: str, env: dict[str, str] | None = None):
    report = str(tmp_path / "reports")
    return cli("sdk", "--adapter", adapter, "--report-dir", report, "-p", "no:cacheprovider", *extra, env=env)


def failures(run) -> list[dict[str, Any]]:
    return [
        f
        for c in run.summary["checks"]
        if c["outcome"] == "failed"
        for f in c["findings"]
        if f["severity"] == "failure"
    ]


def _node_pin() -> str:
    return json.loads((ROOT / "adapters" / "node" / "package.json").read_text())["dependencies"]["stripe"]


@pytest.mark.parametrize(
    ("adapter", "name", "pinned"),
    [("python", "stripe-python", version("stripe")), ("node", "stripe-node", _node_pin())],
)
def test_shipped_adapter_conforms_against_the_embedded_mock(cli, tmp_path, adapter, name, pinned):
    run = sdk(cli, tmp_path, adapter, "-q")
    assert run.code == 0, run.stdout[-3000:] + run.stderr
    summary = run.summary
    assert summary["verdict"] == "conforms"
    assert summary["sdk"] == {**summary["sdk"], "name": name, "version": pinned, "adapter": adapter}
    assert {c["category"] for c in summary["checks"]} == {"sdk"}
    ids = {c["id"].split("::")[1] for c in summary["checks"]}
    components = json.loads((ROOT / "contracts" / "components.json").read_text())
    assert {f"test_component_with_every_feature[{c}]" for c in components} <= ids
    assert {
        "test_documented_example",
        "test_idempotency_key_and_version",
        "test_error[enabled_missing]",
    } <= ids
    passed = [c for c in summary["checks"] if c["outcome"] == "passed"]
    assert len(passed) >= 28 and all("sdk.request.params" in c["rules"] for c in passed)
    assert f"verdict: {name} {pinned} (against embedded mock) CONFORMS" in run.stdout
    assert summary["sdk"]["serve"] is True  # one adapter process per worker, not per call


def test_python_sdk_is_pinned_in_the_sdk_extra():
    text = (ROOT / "pyproject.toml").read_text()
    assert f'"stripe=={version("stripe")}"' in text


@pytest.mark.parametrize(
    ("module", "select", "path", "rule"),
    [
        (
            "booleans_as_python",
            "example or every_feature and payments",
            "components[payments][enabled]",
            "sdk.request.booleans",
        ),
        (
            "drops_features",
            "every_feature and payments",
            "components[payments][features][refund_management]",
            "sdk.request.params",
        ),
        ("loses_field", "example", "components.payments.features.refund_management", "sdk.parsed"),
    ],
    ids=["booleans-as-True", "drops-features", "loses-a-field"],
)
def test_broken_adapter_is_caught_naming_the_path(cli, tmp_path, module, select, path, rule):
    run = sdk(cli, tmp_path, BROKEN + module, "-k", select)
    assert run.code == 1, run.stdout[-3000:] + run.stderr
    assert run.summary["verdict"] == "does not conform"
    assert any(f["path"] == path and f["rule"] == rule for f in failures(run)), failures(run)
    assert path in run.stdout  # in the terminal's account of the failure too
    assert "broken on purpose" in run.summary["sdk"]["name"]


@pytest.mark.parametrize(
    ("adapter", "says"),
    [
        ("/nonexistent/adapter", "no such command"),
        (f"{sys.executable} -c 'import sys; sys.exit(3)'", "crashed on --version (exit 3)"),
        ("echo not json", "printed no JSON object"),
    ],
    ids=["missing", "crashing", "not-json"],
)
def test_adapter_that_cannot_run_exits_2_with_one_line(cli, tmp_path, adapter, says):
    run = sdk(cli, tmp_path, adapter)
    assert run.code == 2, run.stdout[-2000:] + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], run.stderr
    assert "Traceback" not in run.stdout + run.stderr


def _client_secrets(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "client_secret"] + [
            s for v in node.values() for s in _client_secrets(v)
        ]
    if isinstance(node, list):
        return [s for v in node for s in _client_secrets(v)]
    return []


def test_reports_hold_no_key_and_no_client_secret(cli, tmp_path):
    key = "sk_test_" + secrets.token_hex(12)
    run = sdk(
        cli, tmp_path, BROKEN + "loses_field", "--api-key", key, "-k", "example or every_feature and payments"
    )
    assert run.code == 1, run.stdout[-3000:] + run.stderr
    text = (tmp_path / "reports" / "summary.json").read_text()
    assert key not in text and key not in run.stdout + run.stderr
    shown = _client_secrets(run.summary)
    assert shown and all(str(s).startswith("<client_secret:") for s in shown), shown


CRASHY = (
    "import sys\n"
    "if sys.argv[1:] == ['--version']:\n"
    '    print(\'{"name": "crashy", "version": "0", "serve": %s}\')\n'
    "else:\n"
    "    raise SystemExit('boom: the SDK exploded')\n"
)


@pytest.mark.parametrize("serves", ["false", "true"], ids=["one-shot", "serving"])
def test_adapter_crashing_mid_run_exits_2(cli, tmp_path, serves):
    script = tmp_path / "crash.py"
    script.write_text(CRASHY % serves)
    run = sdk(cli, tmp_path, f"{sys.executable} {script}", "-k", "example")
    assert run.code == 2, run.stdout[-2000:] + run.stderr
    assert run.summary["verdict"] == "error"
    verdict = next(line for line in run.stdout.splitlines() if line.startswith("verdict:"))
    assert verdict.startswith("verdict: crashy 0 (against embedded mock) ERROR")
    assert "boom: the SDK exploded" in verdict
    assert "Traceback" not in run.stdout + run.stderr and "_pytest.outcomes" not in run.stdout + run.stderr


def test_a_missing_adapter_file_shows_what_node_said(cli, tmp_path):
    run = sdk(cli, tmp_path, f"node {tmp_path / 'no-such-adapter.js'}")
    assert run.code == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Cannot find module" in lines[0], run.stderr


def test_plain_run_deselects_the_sdk_suite():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "conformance.suites",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert "test_sdk.py" not in proc.stdout and "skipped" not in proc.stdout
    assert "deselected" in proc.stdout


class Grown(Behaviour):
    """An API newer than the SDKs: a component and a field no SDK model knows."""

    def session_body(self, expected: ExpectedSession) -> dict[str, Any]:
        body = super().session_body(expected)
        body["components"]["zz_future_component"] = {
            "enabled": False,
            "features": {"zz_future_feature": True},
        }
        body["components"]["payments"]["features"]["zz_future_feature"] = False
        body["zz_future_field"] = {"nested": [1, "two", None]}
        return body


@pytest.mark.parametrize("adapter", ["python", "node"])
def test_sdks_keep_what_their_models_do_not_know(cli, tmp_path, serve, committed: Contract, adapter):
    app: Starlette = create_app(committed, Grown(committed))
    run = sdk(cli, tmp_path, adapter, "--base-url", serve(app), "-k", "example or every_feature and payments")
    assert run.code == 0, run.stdout[-3000:] + run.stderr
    checks = run.summary["checks"]
    assert len(checks) == 2 and all(c["outcome"] == "passed" and not c["findings"] for c in checks)
