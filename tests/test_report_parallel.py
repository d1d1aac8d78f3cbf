"""Under pytest-xdist (``-n 2``) the reports hold every check exactly once and the same
counts as a serial run: results are collected on the controller, from the reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter

from .test_report import conformance_run

SELECTION = ("-m", "not fuzz and not schemathesis")  # every category that answers fast


def _outcomes(summary: dict) -> dict[str, str]:
    return {c["id"]: c["outcome"] for c in summary["checks"]}


def test_two_workers_report_what_a_serial_run_reports(tmp_path):
    parallel_dir, serial_dir = tmp_path / "parallel", tmp_path / "serial"
    parallel = conformance_run(*SELECTION, "-n", "2", report_dir=parallel_dir)
    serial = conformance_run(*SELECTION, report_dir=serial_dir)
    assert parallel.returncode == serial.returncode == 0, parallel.stdout[-2000:] + parallel.stderr
    assert "2 workers" in parallel.stdout  # really distributed
    one = json.loads((parallel_dir / "summary.json").read_text())
    other = json.loads((serial_dir / "summary.json").read_text())
    ids = [c["id"] for c in one["checks"]]
    assert len(ids) == len(set(ids)) == one["counts"]["total"] > 150
    assert one["counts"] == other["counts"] and one["categories"] == other["categories"]
    assert _outcomes(one) == _outcomes(other)
    cells = Counter(tuple(cell) for c in one["checks"] for cell in c["cells"])
    assert cells == Counter(tuple(cell) for c in other["checks"] for cell in c["cells"])
    junit = ET.parse(parallel_dir / "junit.xml").getroot()
    names = [case.get("name") for case in junit.iter("testcase")]
    assert sorted(names) == sorted(ids)
    html = (parallel_dir / "index.html").read_text().replace("<wbr>", "")
    assert f"<b>{one['counts']['total']}</b> of {one['counts']['total']} checks passed" in html
    history = (parallel_dir / "history.jsonl").read_text().splitlines()
    assert len(history) == 1 and json.loads(history[0])["counts"] == one["counts"]
