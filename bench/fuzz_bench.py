"""Fuzzing speed, side by side against one embedded mock over loopback HTTP:

- the ceiling: a bare sequential httpx loop sending one valid request;
- this suite: checked fuzz cases per second (generate, send, oracle, compare);
- schemathesis's own CLI on contracts/openapi.yaml with the bracket serializer.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings

from common import KEY, ROOT, account, env, mock_process
from conformance.contracts.model import load_contract
from conformance.fuzz import valid_cases
from conformance.fuzz.schema import CHECKS as CHECK_FUNCTIONS

CHECKS = ",".join(check.__name__ for check in CHECK_FUNCTIONS)


def bare_loop(url: str, seconds: float, cases: int) -> float:
    """The ceiling for this workload: the same kind of generated requests, sent
    back to back with nothing checked (bodies made before the clock starts)."""
    contract = load_contract(ROOT / "contracts")
    accounts = {arch: account(url, spec["legacy_type"]) for arch, spec in contract.archetypes.items()}
    bodies: list[str] = []

    @settings(max_examples=cases, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(valid_cases(contract))
    def collect(case: Any) -> None:
        bodies.append(case.form(accounts[case.archetype]))

    collect()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    count = 0
    with httpx.Client(base_url=url, auth=(KEY, "")) as client:
        end = time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < end:
            client.post("/v1/account_sessions", content=bodies[count % len(bodies)], headers=headers)
            count += 1
        return count / (time.perf_counter() - started)


def suite_fuzz(url: str, cases: int) -> float:
    """Runs the fuzz suite's valid and invalid checks; cases over their own durations."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "conformance.cli",
                "run",
                "--base-url",
                url,
                "-m",
                "fuzz",
                "-k",
                "requests",
                "--max-examples",
                str(cases),
                "--seed",
                "1",
                "--report-dir",
                tmp,
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            check=True,
            cwd=ROOT,
            env={**env(), "STRIPE_API_KEY": KEY},
            stdout=subprocess.DEVNULL,
        )
        summary = json.loads((Path(tmp) / "summary.json").read_text())
    spent = sum(c["duration"] for c in summary["checks"] if c["category"] == "fuzz")
    return summary["fuzz_cases"] / spent


def schemathesis_cli(url: str, cases: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        out = subprocess.run(
            [
                str(Path(sys.executable).with_name("st")),
                "run",
                str(ROOT / "contracts" / "openapi.yaml"),
                "-u",
                url,
                "-a",
                f"{KEY}:",
                "-c",
                CHECKS,
                "--phases",
                "fuzzing",
                "-n",
                str(cases),
                "--workers",
                "1",
                "--no-color",
            ],
            cwd=tmp,
            env={**env(), "SCHEMATHESIS_HOOKS": "conformance.fuzz.st_hooks"},
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
    found = re.search(r"(\d+) generated", out.stdout)
    if not found:
        raise RuntimeError(f"schemathesis CLI said nothing of its cases:\n{out.stdout[-2000:]}")
    return int(found.group(1)) / elapsed


def run(seconds: float = 5.0, cases: int = 1000, rounds: int = 3) -> dict[str, Any]:
    """The loop and the suite take turns on one mock, ``rounds`` times (one pair a few
    seconds apart varies by a tenth on a shared machine); the median round is reported."""
    pairs = []
    with mock_process() as url:
        for _ in range(rounds):
            bare = bare_loop(url, seconds, cases)
            pairs.append((suite_fuzz(url, cases) / bare, bare))
        cli = schemathesis_cli(url, min(cases, 300))
    ratio, bare = sorted(pairs)[len(pairs) // 2]
    return {
        "bare_loop_rps": round(bare, 1),
        "suite_fuzz_cases_per_s": round(ratio * bare, 1),
        "schemathesis_cli_cases_per_s": round(cli, 1),
        "ratio_suite_fuzz_to_bare_loop": round(ratio, 3),
        "ratio_suite_fuzz_to_bare_loop_rounds": [round(r, 3) for r, _ in pairs],
        "ratio_schemathesis_cli_to_bare_loop": round(cli / bare, 3),
        "goal_suite_fuzz_to_bare_loop": 0.8,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
