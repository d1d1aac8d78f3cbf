"""What a whole run costs, each measured as a child process of this one:

- ``make run``: ``conformance run`` with the ``ci`` profile against the embedded
  mock (serial, as ``make run`` does it), and the same spread over both cores
  with ``-n 2``: wall time, and peak memory of the process tree;
- replay only: record once into a temporary cassette directory, then the same
  run with ``--record-mode none`` from it (no server, no network).

Memory: the resident memory (RSS) of every process of the run (the command,
pytest workers and whatever they start), summed, sampled every 0.1 s from
/proc; this is the figure held to the goal. RSS counts pages that processes
share once in each, so the sum is an upper bound: the PSS sum (shared pages
split) is given beside it, and the largest single process as the kernel keeps
it (``getrusage(RUSAGE_CHILDREN).ru_maxrss`` in a small wrapper process).
Every run uses the same seed so that each run generates the same cases.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import MB, ROOT, TreeMemory, env

CONFORMANCE = [sys.executable, "-m", "conformance.cli"]
SEED = "20261125"
GOALS = {"wall_s_under": 60.0, "peak_rss_mb_under": 300.0}

# runs the command, then writes the largest resident size among its descendants (KiB)
_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    f.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def measure(args: list[str], *, timeout: float = 600) -> dict[str, Any]:
    """``conformance ARGS`` in a child process: wall time, exit code, memory."""
    with tempfile.TemporaryDirectory() as tmp:
        maxrss = Path(tmp) / "maxrss"
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRAPPER, str(maxrss), *CONFORMANCE, *args],
            cwd=ROOT,
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        with TreeMemory(proc.pid, include_root=False) as memory:
            _, err = proc.communicate(timeout=timeout)
        wall = time.perf_counter() - started
        largest_kib = int(maxrss.read_text() or 0) if maxrss.exists() else 0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"conformance {' '.join(args)} exited {proc.returncode}:\n{err[-2000:]}")
    return {
        "command": "conformance " + " ".join(a if not a.startswith("/") else "TMP" for a in args),
        "exit": proc.returncode,
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(memory.peak / MB, 1),
        "peak_pss_mb": round(memory.peak_pss / MB, 1),
        "largest_process_rss_mb": round(largest_kib / 1024, 1),
    }


def _with_goals(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        **figures,
        "goal_wall_s_under": GOALS["wall_s_under"],
        "goal_peak_rss_mb_under": GOALS["peak_rss_mb_under"],
        "ratio_wall_to_goal": round(figures["wall_s"] / GOALS["wall_s_under"], 3),
        "ratio_rss_to_goal": round(figures["peak_rss_mb"] / GOALS["peak_rss_mb_under"], 3),
    }


def make_run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as reports:
        serial = measure(["run", "--profile", "ci", "--seed", SEED, "--report-dir", reports])
    with tempfile.TemporaryDirectory() as reports:
        parallel = measure(["run", "--profile", "ci", "--seed", SEED, "--report-dir", reports, "-n", "2"])
    return {"serial": _with_goals(serial), "n2": _with_goals(parallel)}


def replay() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        reports, cassettes = str(Path(tmp) / "reports"), str(Path(tmp) / "cassettes")
        base = ["run", "--profile", "ci", "--seed", SEED, "--report-dir", reports]
        base += ["--cassette-dir", cassettes]
        record = measure([*base, "--record-mode", "once"])
        replayed = measure([*base, "--record-mode", "none"])
    return {
        "record": record,
        "replay": replayed,
        "ratio_replay_to_record": round(replayed["wall_s"] / record["wall_s"], 3),
    }


if __name__ == "__main__":
    print(json.dumps({"make_run": make_run(), "replay": replay()}, indent=2))
