"""``index.html``: one self-contained page (inline CSS and SVG, no script), from Jinja2 templates."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.report.history import History
from conformance.report.view import build_view

__all__ = ["TEMPLATES", "render_html", "write_html"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
SYMBOLS = {"passed": "✓", "failed": "✗", "warning": "!", "none": "·", "na": ""}
LABELS = {
    "passed": "passed",
    "failed": "failed",
    "warning": "warning (drift)",
    "none": "not exercised",
    "na": "not applicable",
}


def breakable(text: Any) -> Any:
    """``text`` escaped, with a line-break opportunity after each ``.``, ``_``, ``:``, ``=`` and
    ``/``: long rule ids and paths wrap between their words, never inside one."""
    from markupsafe import Markup, escape

    return Markup(re.sub(r"([._:=/])", r"\1<wbr>", str(escape(text))))


def render_html(summary: dict[str, Any], history: History) -> str:
    return _environment().get_template("index.html").render(**build_view(summary, history))


@cache
def _environment() -> Any:
    """One jinja2 environment a process: its templates are compiled once (a fifth of a
    second each time), not once a report."""
    import jinja2  # lazy: only the report needs it

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(symbols=SYMBOLS, labels=LABELS, version=__version__)
    env.filters["breakable"] = breakable
    return env


def write_html(path: Path, summary: dict[str, Any], history: History) -> Path:
    path.write_text(render_html(summary, history), encoding="utf-8")
    return path
