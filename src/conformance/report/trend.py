"""Geometry of the pass-rate trend chart (the template draws it as inline SVG)."""

from __future__ import annotations

from typing import Any

__all__ = ["trend"]

WIDTH, HEIGHT = 560, 170
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 12, 30
_CLASSES = {"conforms": "ok", "does not conform": "bad"}


def _short_date(date: str) -> str:
    return date[:16].replace("T", " ") if date else "?"


def trend(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Points (x, y in SVG units) for each run, oldest first; runs with no rate leave a gap."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / (len(entries) - 1) if len(entries) > 1 else 0.0
    points: list[dict[str, Any]] = []
    segments: list[list[str]] = [[]]
    for i, entry in enumerate(entries):
        x = LEFT + (i * step if len(entries) > 1 else plot_w / 2)
        rate = entry.get("pass_rate")
        if rate is None:
            segments.append([])
            continue
        y = TOP + (1 - float(rate)) * plot_h
        segments[-1].append(f"{x:.1f},{y:.1f}")
        verdict = str(entry.get("verdict", ""))
        points.append(
            {
                "x": round(x, 1),
                "y": round(y, 1),
                "cls": _CLASSES.get(verdict, "down"),
                "title": f"{_short_date(entry.get('date', ''))} · {verdict} · {100 * float(rate):.1f}% passed"
                f" · {entry.get('target', '')}",
            }
        )
    grid = [{"y": round(TOP + (1 - v) * plot_h, 1), "label": f"{round(v * 100)}%"} for v in (0, 0.5, 1)]
    latest = next((e.get("pass_rate") for e in reversed(entries) if e.get("pass_rate") is not None), None)
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "bottom": HEIGHT - BOTTOM,
        "grid": grid,
        "lines": [" ".join(s) for s in segments if len(s) > 1],
        "points": points,
        "count": len(entries),
        "first": _short_date(entries[0].get("date", "")) if entries else "",
        "last": _short_date(entries[-1].get("date", "")) if entries else "",
        "latest": None if latest is None else f"{100 * float(latest):.1f}%",
    }
