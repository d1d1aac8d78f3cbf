"""`make bench`: run every benchmark, print the figures with their goals and ratios,
keep them in bench/results.json. ``--markdown`` prints the table of the last
results.json (as the README shows it) without measuring anything.

Exit status: 0 when every benchmark ran (a goal missed is printed, not an
error: these are measurements), 1 when one could not run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fuzz_bench
import load_bench
import remote_bench
import run_cost

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"

Row = dict[str, Any]  # figure, value, goal, ratio, ok (True, False or None: no goal)


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _row(figure: str, value: str, goal: str = "", ratio: str = "", ok: bool | None = None) -> Row:
    return {"figure": figure, "value": value, "goal": goal, "ratio": ratio, "ok": ok}


def run_rows(cost: dict[str, Any]) -> list[Row]:
    rows = []
    for key, name in (("serial", "`make run` (ci profile)"), ("n2", "`conformance run -n 2` (ci profile)")):
        f = cost[key]
        rows.append(
            _row(
                f"{name}: wall time",
                f"{f['wall_s']:.1f} s",
                f"< {f['goal_wall_s_under']:.0f} s",
                f"{f['ratio_wall_to_goal']:.2f} of the goal",
                f["ratio_wall_to_goal"] < 1,
            )
        )
        rows.append(
            _row(
                f"{name}: peak memory, process tree",
                f"{f['peak_rss_mb']:.0f} MB RSS ({f['peak_pss_mb']:.0f} MB PSS)",
                f"< {f['goal_peak_rss_mb_under']:.0f} MB",
                f"{f['ratio_rss_to_goal']:.2f} of the goal",
                f["ratio_rss_to_goal"] < 1,
            )
        )
    return rows


def replay_rows(replay: dict[str, Any]) -> list[Row]:
    return [
        _row("record once into cassettes (ci profile)", f"{replay['record']['wall_s']:.1f} s"),
        _row(
            "replay only from them (`--record-mode none`)",
            f"{replay['replay']['wall_s']:.1f} s",
            "",
            f"{replay['ratio_replay_to_record']:.2f} of recording",
        ),
    ]


def load_rows(load: dict[str, Any]) -> list[Row]:
    if "skipped" in load:
        return [_row("load: skipped", load["skipped"])]
    mock, ref, goals, r = load["mock"], load["stripe_mock_reference"], load["goals"], load["ratios"]
    prism = load["prism"]
    has_prism = "skipped" not in prism
    rows = []
    for conns, key, label in ((16, "16", "16 connections"), (1, "1", "1 connection")):
        rps = mock[f"c{conns}"]["rps"]
        vs_prism = r.get(f"mock_to_prism_rps_{key}")
        ratio = f"{r[f'mock_to_stripe_mock_rps_{key}']:.2f} of stripe-mock"
        ratio += f"; {vs_prism:.2f}× Prism" if vs_prism else ""
        ok = rps >= goals[f"mock_rps_{key}_at_least"] and (vs_prism is None or vs_prism > 1)
        goal = f"≥ {_n(goals[f'mock_rps_{key}_at_least'])} (½ stripe-mock) and > Prism"
        rows.append(_row(f"mock: requests/s, {label}", _n(rps), goal, ratio, ok))
    p99 = mock["c16"]["p99_ms"]
    vs_prism = r.get("mock_to_prism_p99_16")
    rows.append(
        _row(
            "mock: p99 latency, 16 connections",
            f"{p99:.1f} ms",
            f"≤ {goals['mock_p99_16_ms_at_most']:.0f} ms (2× stripe-mock's)",
            f"{r['mock_to_stripe_mock_p99_16']:.2f} of stripe-mock's"
            + (f"; {vs_prism:.2f} of Prism's" if vs_prism else ""),
            p99 <= goals["mock_p99_16_ms_at_most"],
        )
    )
    vs_prism = r.get("mock_to_prism_p99_1")
    rows.append(
        _row(
            "mock: p99 latency, 1 connection",
            f"{mock['c1']['p99_ms']:.2f} ms",
            "",
            f"{vs_prism:.2f} of Prism's" if vs_prism else "",
        )
    )
    vs_prism = r.get("mock_to_prism_rss")
    rows.append(
        _row(
            "mock: memory (RSS) under load",
            f"{mock['rss_mb_under_load']:.0f} MB",
            "",
            f"{r['mock_to_stripe_mock_rss']:.2f}× stripe-mock's 18 MB"
            + (f"; {vs_prism:.2f} of Prism's" if vs_prism else ""),
        )
    )
    if has_prism:
        name = f"Prism {prism['version']}"
        rows += [
            _row(
                f"{name}: requests/s, 16 / 1 connections",
                f"{_n(prism['c16']['rps'])} / {_n(prism['c1']['rps'])}",
            ),
            _row(
                f"{name}: p99, 16 / 1 connections",
                f"{prism['c16']['p99_ms']:.1f} / {prism['c1']['p99_ms']:.1f} ms",
            ),
            _row(f"{name}: memory (RSS) under load", f"{prism['rss_mb_under_load']:.0f} MB"),
        ]
    else:
        rows.append(_row("Prism: skipped", prism["skipped"]))
    measured = load.get("stripe_mock")
    if measured:
        ratio = r["mock_to_stripe_mock_rps_16"]
        rows += [
            _row(
                "stripe-mock, measured side by side: requests/s, 16 / 1 connections",
                f"{_n(measured['c16']['rps'])} / {_n(measured['c1']['rps'])}",
                "the mock at least as fast",
                f"the mock: {ratio:.2f}× at 16, {r['mock_to_stripe_mock_rps_1']:.2f}× at 1",
                ratio >= 1.0,
            ),
            _row("stripe-mock: p99, 16 connections", f"{measured['c16']['p99_ms']:.1f} ms"),
            _row("stripe-mock: memory (RSS) under load", f"{measured['rss_mb_under_load']:.0f} MB"),
        ]
        return rows
    stripe = "stripe-mock (issue 7's figures, not measured here: set STRIPE_MOCK_BIN)"
    rows += [
        _row(f"{stripe}: requests/s, 16 / 1 connections", f"{_n(ref['rps_16'])} / {_n(ref['rps_1'])}"),
        _row(f"{stripe}: p99, 16 connections", f"{ref['p99_16_ms']:.0f} ms"),
        _row(f"{stripe}: memory", f"{ref['rss_mb']:.0f} MB"),
    ]
    return rows


def remote_rows(remote: dict[str, Any]) -> list[Row]:
    runs, goals, proxy = remote["runs"], remote["goals"], remote["proxy"]
    base = runs["loopback"]
    rows = [
        _row("a ci run against `conformance serve`, loopback", f"{base['wall_s']:.1f} s ({base['verdict']})"),
        _row(
            "the same, every answer 80 ms late",
            f"{runs['latency_80ms']['wall_s']:.1f} s ({runs['latency_80ms']['verdict']})",
            f"≤ {goals['latency_ratio_at_most']}× loopback",
            f"{remote['ratio_latency_to_loopback']:.2f}× loopback",
            remote["ratio_latency_to_loopback"] <= goals["latency_ratio_at_most"],
        ),
        _row(
            "the same, limited to 25 requests/s (429 past it)",
            f"{runs['rate_25']['wall_s']:.1f} s ({runs['rate_25']['verdict']}; "
            f"{runs['rate_25']['retries'].get('429', 0)} 429s retried)",
            "",
            f"{remote['ratio_rate_limited_to_loopback']:.2f}× loopback",
        ),
    ]
    by = ", ".join(f"{route} {n:,}" for route, n in sorted(base["requests"].items(), key=lambda kv: -kv[1]))
    rows.append(_row("requests a ci run sends", f"{base['requests_total']:,} ({by})"))
    accounts = base["accounts"]
    made = int(accounts.get("made", 0))
    rows.append(
        _row(
            "accounts a ci run makes, and deletes",
            f"{made} made, {accounts.get('deleted', 0)} deleted at the end (1 by the profile)",
            f"≤ {goals['accounts_at_most']}, each deleted once",
            "",
            made <= goals["accounts_at_most"] and not accounts.get("left"),
        )
    )
    rows.append(
        _row(
            "recording proxy: added a request",
            f"{proxy['added_ms']:.2f} ms"
            f" ({proxy['direct_ms']:.2f} direct, {proxy['proxy_ms']:.2f} through it)",
            f"≤ {goals['proxy_ms_at_most']:.0f} ms",
            "",
            proxy["added_ms"] <= goals["proxy_ms_at_most"],
        )
    )
    return rows


def fuzz_rows(fuzz: dict[str, Any]) -> list[Row]:
    goal = fuzz["goal_suite_fuzz_to_bare_loop"]
    ratio = fuzz["ratio_suite_fuzz_to_bare_loop"]
    return [
        _row("fuzz: bare request loop (the ceiling)", f"{_n(fuzz['bare_loop_rps'])} req/s"),
        _row(
            "fuzz: this suite, checked cases",
            f"{_n(fuzz['suite_fuzz_cases_per_s'])} /s",
            f"≥ {goal} of the bare loop",
            f"{ratio:.2f} of the bare loop (median of "
            + ", ".join(f"{r:.2f}" for r in fuzz.get("ratio_suite_fuzz_to_bare_loop_rounds", [ratio]))
            + ")",
            ratio >= goal,
        ),
        _row(
            "fuzz: schemathesis CLI",
            f"{_n(fuzz['schemathesis_cli_cases_per_s'], 1)} /s",
            "",
            f"{fuzz['ratio_schemathesis_cli_to_bare_loop']:.3f} of the bare loop",
        ),
    ]


def table(results: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for key, make in (
        ("make_run", run_rows),
        ("replay", replay_rows),
        ("load", load_rows),
        ("fuzz", fuzz_rows),
        ("remote", remote_rows),
    ):
        section = results.get(key)
        if section is None:
            continue
        if "error" in section:
            rows.append(_row(f"{key}: could not run", section["error"].splitlines()[-1][:200]))
            continue
        rows += make(section)
    return rows


def _mark(ok: bool | None) -> str:
    return {True: "yes", False: "NO", None: ""}[ok]


def print_table(rows: list[Row]) -> None:
    width = max(len(r["figure"]) for r in rows)
    vwidth = max(len(r["value"]) for r in rows)
    for r in rows:
        extra = " | ".join(x for x in (r["goal"] and f"goal {r['goal']}", r["ratio"], _mark(r["ok"])) if x)
        print(f"  {r['figure']:<{width}}  {r['value']:<{vwidth}}  {extra}".rstrip())


def markdown(rows: list[Row]) -> str:
    lines = ["| figure | measured | goal | ratio | met |", "|---|---|---|---|---|"]
    for r in rows:
        cells = (r["figure"], r["value"], r["goal"] or "—", r["ratio"] or "—", _mark(r["ok"]) or "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _section(title: str, results: dict[str, Any], key: str, measure: Callable[[], dict[str, Any]]) -> bool:
    print(title, flush=True)
    started = time.perf_counter()
    try:
        results[key] = measure()
    except Exception as exc:  # one benchmark failing must not lose the others' figures
        traceback.print_exc()
        results[key] = {"error": f"{type(exc).__name__}: {exc}"}
        return False
    print_table(table({key: results[key]}))
    print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    return True


def _node_version() -> str | None:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip() or None
    except OSError:
        return None


def main(argv: list[str]) -> int:
    if argv[:1] == ["--markdown"]:
        print(markdown(json.loads(RESULTS.read_text())["table"]))
        return 0
    results: dict[str, Any] = {
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "node": _node_version(),
            "system": platform.platform(),
        },
    }
    ran = [
        _section(
            "fuzzing: this suite vs a bare loop vs schemathesis's CLI (same mock, loopback)",
            results,
            "fuzz",
            fuzz_bench.run,
        ),
        _section(
            "a whole run: `make run` and `-n 2`, wall time and memory", results, "make_run", run_cost.make_run
        ),
        _section(
            "replay only: record once, then replay from the cassettes", results, "replay", run_cost.replay
        ),
        _section(
            "load: the mock vs Prism (and stripe-mock with STRIPE_MOCK_BIN), side by side, wrk on loopback",
            results,
            "load",
            load_bench.run,
        ),
        _section(
            "against a remote-like API: 80 ms answers, 25 requests/s; what a run sends; the proxy",
            results,
            "remote",
            remote_bench.run,
        ),
    ]
    rows = results["table"] = table(results)
    missed = [r["figure"] for r in rows if r["ok"] is False]
    results["goals_missed"] = missed
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print("\nall figures:")
    print_table(rows)
    print("goals missed: " + ("; ".join(missed) if missed else "none"))
    print(f"written: {RESULTS}")
    return 0 if all(ran) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
