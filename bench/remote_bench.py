"""What a run costs against a real API, measured on loopback side by side:

- the same ci-profile run against ``conformance serve`` three ways: as it is, with
  every answer 80 ms late (``--latency 0.08``: a round trip to a remote API), and
  limited to 25 requests a second (``--rate-limit 25``: Stripe's test mode); the
  time to a verdict of each, as a ratio to the plain run's;
- what the run sent and made: requests by endpoint, accounts made and deleted;
- the recording proxy's cost: the same requests straight to the mock and through
  ``conformance proxy``, the difference a request.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from common import KEY, ROOT, account, env, free_port, mock_process, wait_http

SEED = "20261130"
GOALS = {"latency_ratio_at_most": 2.5, "proxy_ms_at_most": 5.0, "accounts_at_most": 5}


def timed_run(url: str) -> dict[str, Any]:
    """``conformance run`` (ci profile) against ``url``: wall time, verdict, what it sent."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "conformance.cli", "run", "--base-url", url, "--seed", SEED,
             "--report-dir", tmp, "-q", "-p", "no:cacheprovider"],
            cwd=ROOT, env={**env(), "STRIPE_API_KEY": KEY}, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        wall = time.perf_counter() - started
        summary = json.loads((Path(tmp) / "summary.json").read_text())
    return {
        "wall_s": round(wall, 1),
        "exit": proc.returncode,
        "verdict": summary["verdict"],
        "requests": summary.get("requests", {}),
        "requests_total": sum(summary.get("requests", {}).values()),
        "retries": summary.get("retries", {}),
        "accounts": summary.get("accounts", {}),
    }


def proxy_overhead(requests: int = 300) -> dict[str, Any]:
    """Milliseconds the recording proxy adds to a request (sequential, one connection)."""
    with mock_process() as url:
        port = free_port()
        proxy = subprocess.Popen(
            [sys.executable, "-m", "conformance.cli", "proxy", "--upstream", url, "--port", str(port)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            through = f"http://127.0.0.1:{port}"
            wait_http(through + "/v1/account_sessions")
            acct = account(url)
            form = {"account": acct, "components[payments][enabled]": "true"}
            per: dict[str, float] = {}
            for name, base in (("direct", url), ("proxy", through)):
                with httpx.Client(base_url=base, auth=(KEY, "")) as client:
                    client.post("/v1/account_sessions", data=form)  # warm: one connection kept
                    started = time.perf_counter()
                    for _ in range(requests):
                        assert client.post("/v1/account_sessions", data=form).status_code == 200
                    per[name] = (time.perf_counter() - started) / requests * 1000
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)
    return {
        "direct_ms": round(per["direct"], 2),
        "proxy_ms": round(per["proxy"], 2),
        "added_ms": round(per["proxy"] - per["direct"], 2),
    }


def run() -> dict[str, Any]:
    runs = {}
    for name, extra in (
        ("loopback", []),
        ("latency_80ms", ["--latency", "0.08"]),
        ("rate_25", ["--rate-limit", "25"]),
    ):
        with mock_process(*extra) as url:
            runs[name] = timed_run(url)
    base = runs["loopback"]["wall_s"]
    return {
        "runs": runs,
        "ratio_latency_to_loopback": round(runs["latency_80ms"]["wall_s"] / base, 2),
        "ratio_rate_limited_to_loopback": round(runs["rate_25"]["wall_s"] / base, 2),
        "proxy": proxy_overhead(),
        "goals": GOALS,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
