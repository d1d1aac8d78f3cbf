"""`make bench`: run every benchmark, print the figures and ratios, keep them in bench/results.json."""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fuzz_bench

HERE = Path(__file__).resolve().parent


def main() -> int:
    results: dict[str, object] = {
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
    }
    print("fuzzing: this suite vs a bare loop vs schemathesis's CLI (same mock, loopback)")
    results["fuzz"] = fuzz = fuzz_bench.run()
    for key, value in fuzz.items():
        print(f"  {key:<40} {value}")
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {HERE / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
