"""The adapter protocol in-process: one-shot calls, and an adapter that serves
many calls from one process (``--serve``), crashes, hangs or ends."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conformance.sdk.adapter import Adapter, AdapterError

# a serving adapter in miniature: logs each start, echoes each description back
ECHO = """
import json, os, sys
open(os.environ["STARTS"], "a").write(" ".join(sys.argv[1:]) + "\\n")
if sys.argv[1:] == ["--version"]:
    print(json.dumps({"name": "echo", "version": "1", "serve": True}))
    raise SystemExit(0)
def answer(d):
    if d.get("crash"):
        sys.stdout.write('{"half": '); sys.stdout.flush()  # a line it never ends
        raise SystemExit("boom: asked to crash")
    if d.get("hang"):
        open(os.environ["STARTS"] + ".hung", "w").write(str(os.getpid()))
        import time; time.sleep(60)
    print("said to stderr", d["n"], file=sys.stderr, flush=True)
    return {"n": d["n"], "key": os.environ["CONFORMANCE_API_KEY"], "url": os.environ["CONFORMANCE_BASE_URL"]}
if sys.argv[1:] == ["--serve"]:
    for line in iter(sys.stdin.readline, ""):
        print(json.dumps(answer(json.loads(line))), flush=True)
else:
    print(json.dumps(answer(json.loads(sys.stdin.read()))))
"""


@pytest.fixture
def echo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Adapter, Path]:
    script = tmp_path / "echo.py"
    script.write_text(ECHO)
    starts = tmp_path / "starts"
    monkeypatch.setenv("STARTS", str(starts))
    return Adapter("echo", (sys.executable, str(script)), timeout=2.0), starts


def test_a_serving_adapter_answers_every_call_from_one_process(echo):
    adapter, starts = echo
    assert adapter.describe()["serve"] is True
    served = adapter.serve("http://127.0.0.1:9", "sk_test_x")
    try:
        answers = [served.call({"n": n}) for n in range(3)]
    finally:
        served.close()
    assert [a.output for a in answers] == [
        {"n": n, "key": "sk_test_x", "url": "http://127.0.0.1:9"} for n in range(3)
    ]
    assert starts.read_text().splitlines() == ["--version", "--serve"]


def test_a_one_shot_call_is_one_process(echo):
    adapter, starts = echo
    answers = [adapter.call({"n": n}, "http://127.0.0.1:9", "sk_test_x") for n in range(2)]
    assert [a.output["n"] for a in answers] == [0, 1]
    assert starts.read_text().splitlines() == ["", ""]


def test_a_serving_adapter_that_crashes_says_what_it_printed(echo):
    adapter, _ = echo
    served = adapter.serve("http://127.0.0.1:9", "sk_test_x")
    try:
        assert served.call({"n": 1}).output["n"] == 1
        with pytest.raises(
            AdapterError, match=r"crashed on a create call \(exit 1\): .*boom: asked to crash$"
        ):
            served.call({"n": 2, "crash": True})
        # the next call starts it again, and reads nothing the crashed one half-printed
        assert served.call({"n": 3}).output == {"n": 3, "key": "sk_test_x", "url": "http://127.0.0.1:9"}
    finally:
        served.close()


def test_a_serving_adapter_that_hangs_is_killed_at_the_timeout(echo):
    adapter, starts = echo
    served = adapter.serve("http://127.0.0.1:9", "sk_test_x")
    try:
        with pytest.raises(AdapterError, match="did not finish within 2 s"):
            served.call({"n": 1, "hang": True})
        hung = int(Path(f"{starts}.hung").read_text())
        with pytest.raises(ProcessLookupError):  # killed and reaped by the call, not left running
            os.kill(hung, 0)
    finally:
        served.close()
    assert starts.read_text().splitlines() == ["--serve"]
