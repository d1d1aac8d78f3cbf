"""The report of a failing run, opened in headless Chromium: a screenshot is kept in
``reports/report-screenshot.png`` and the verdict, the matrix and the failing rule are
checked to be laid out, visible, in the first screenful.

Chromium is Debian's ``chromium`` package, installed by ``make chromium`` (a step of
``make test``). Visibility is measured by Chromium itself: a copy of the page gets a
probe script (the report has none) that records each element's box and computed style
into the DOM, which ``--dump-dom`` prints. The screenshot's own pixels are checked for
the verdict's banner colour.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from .conftest import ROOT
from .test_report import BROKEN_RULE, faulty_report

WIDTH, HEIGHT = 1440, 2400
SCREENSHOT = ROOT / "reports" / "report-screenshot.png"
BAD_RED = (0xB3, 0x26, 0x1E)  # --bad in style.css: the "does not conform" banner

PROBE = """<script>(() => {
  const targets = {verdict: "header h1", matrix: "table.grid", failedCell: "td.c.failed",
                   rule: "#broken code.rule-id", facts: "dl.facts"};
  const out = {};
  for (const [name, selector] of Object.entries(targets)) {
    const el = document.querySelector(selector);
    if (!el) { out[name] = null; continue; }
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    out[name] = {x: box.x, y: box.y, w: box.width, h: box.height, text: el.textContent.trim().slice(0, 300),
                 shown: style.visibility === "visible" && style.display !== "none" && style.opacity !== "0",
                 font: parseFloat(style.fontSize), color: style.color, background: style.backgroundColor};
  }
  const pre = document.createElement("pre");
  pre.id = "probe"; pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
})();</script>"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("Chromium is not installed (Debian's `chromium` package; `make chromium` installs it)")
    return found


def _browse(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{HEIGHT}",
    ]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=120)


def _png_rows(data: bytes, count: int) -> tuple[int, int, int, list[bytes]]:
    """Width, height, bytes per pixel and the first ``count`` rows (RGB or RGBA, 8 bit) of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    stride, raw = width * bpp, zlib.decompressobj().decompress(idat, (width * bpp + 1) * count)
    rows, prev = [], bytearray(stride)
    for y in range(count):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


@pytest.fixture(scope="module")
def page(tmp_path_factory, committed):
    binary = _chromium()
    run = faulty_report(tmp_path_factory, committed)
    assert run.code == 1, run.stderr
    work = tmp_path_factory.mktemp("browser")
    shot = work / "screenshot.png"
    # one Chromium start (~2.5 s of CPU) for both: the probe's <pre> goes below the fold
    probed = work / "probed.html"
    probed.write_text(run.read("index.html").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _browse(binary, work / "profile", f"--screenshot={shot}", "--dump-dom", probed.as_uri())
    assert shot.is_file(), dom.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.S)
    assert found, dom.stderr[-2000:]
    SCREENSHOT.parent.mkdir(exist_ok=True)
    shutil.copyfile(shot, SCREENSHOT)
    return {"probe": json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")), "shot": shot}


def _on_screen(box: dict | None) -> bool:
    return (
        bool(box)
        and box["shown"]
        and box["w"] > 0
        and box["h"] > 0
        and box["y"] >= 0
        and box["y"] + box["h"] <= HEIGHT
    )


def test_the_verdict_is_readable_at_a_glance(page):
    verdict = page["probe"]["verdict"]
    assert _on_screen(verdict) and verdict["y"] < 150
    assert verdict["text"] == "DOES NOT CONFORM" and verdict["font"] >= 36
    assert _on_screen(page["probe"]["facts"]) and "127.0.0.1" in page["probe"]["facts"]["text"]
    width, height, bpp, rows = _png_rows(page["shot"].read_bytes(), 60)
    assert (width, height) == (WIDTH, HEIGHT)
    band = [tuple(row[i : i + 3]) for row in rows[10:60] for i in range(0, bpp * 400, bpp)]
    red = sum(1 for px in band if all(abs(a - b) <= 8 for a, b in zip(px, BAD_RED, strict=True)))
    assert red / len(band) > 0.5, "the top of the page is not the red 'does not conform' banner"


def test_the_matrix_and_the_failing_rule_are_visible(page):
    probe = page["probe"]
    assert _on_screen(probe["matrix"]) and probe["matrix"]["w"] > 400 and probe["matrix"]["h"] > 19 * 18
    assert _on_screen(probe["failedCell"]) and probe["failedCell"]["text"] == "✗"
    assert probe["failedCell"]["background"] == "rgb(179, 38, 30)"
    assert _on_screen(probe["rule"]) and probe["rule"]["text"] == BROKEN_RULE
    assert page["shot"].stat().st_size > 50_000  # a rendered page, not a blank one
    assert SCREENSHOT.read_bytes() == page["shot"].read_bytes()
