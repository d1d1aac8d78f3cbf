"""The conformance report: ``index.html``, ``junit.xml`` and ``history.jsonl`` from the summary.

``note_changes(directory, summary)`` adds what changed since the last run on the
same target (from ``history.jsonl``); ``write_reports(directory, summary)`` then
writes everything, ``summary.json`` and ``summary.md`` included, once per run. The summary is already
redacted; anything that still looks like an API key or a ``client_secret`` is
masked again here, so no writer can put one on disk.

A damaged ``history.jsonl`` costs one line on stderr, never the run. A report
directory that cannot be written raises :class:`OSError` for the caller to
report in one line.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

__all__ = ["SCHEMA_PATH", "cannot_write", "note_changes", "scrub", "write_reports"]

SCHEMA_PATH = Path(__file__).resolve().parent / "summary.schema.json"
HISTORY_SIZE = 30  # runs the trend chart shows
_PLACEHOLDER = re.compile(r"<client_secret(?::\d+)?>")


def scrub(data: Any, key: str = "") -> Any:
    """A copy with key-like strings masked and any clear ``client_secret`` value replaced."""
    from conformance.redact import KEY_PATTERN, mask

    if isinstance(data, dict):
        return {k: scrub(v, k) for k, v in data.items()}
    if isinstance(data, list):
        return [scrub(v, key) for v in data]
    if isinstance(data, str):
        if key == "client_secret" and data and not _PLACEHOLDER.fullmatch(data):
            return "<client_secret>"
        return KEY_PATTERN.sub(lambda m: mask(m.group(0)), data)
    return data


def _warn(line: str) -> None:
    print(f"conformance: {line}", file=sys.stderr)


def cannot_write(directory: Path, exc: OSError, config: pytest.Config | None = None) -> None:
    """The one line for a report directory that cannot be written (on a line of its own
    after pytest's progress dots)."""
    if config is not None and config.pluginmanager.has_plugin("terminalreporter"):
        writer = config.get_terminal_writer()
        if writer.width_of_current_line:
            writer.line()
    detail = f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else str(exc)
    print(f"conformance: error: cannot write the reports to {directory}: {detail}", file=sys.stderr)


def note_changes(directory: Path, summary: dict[str, Any]) -> dict[str, Any]:
    """``summary`` with its ``changes`` against the last comparable run in ``directory``'s
    history (read before this run's line is appended)."""
    from conformance.report.changes import changes
    from conformance.report.history import HISTORY_FILE, read_history

    try:
        earlier = read_history(directory / HISTORY_FILE, last=10_000).entries
    except OSError:
        earlier = []
    return {**summary, "changes": changes(summary, earlier)}


def write_reports(
    directory: Path, summary: dict[str, Any] | Path, history_size: int = HISTORY_SIZE
) -> list[Path]:
    """Write ``summary.json`` (when given a dict), ``history.jsonl`` (one line appended),
    ``junit.xml``, ``index.html`` and ``summary.md`` (appended to ``$GITHUB_STEP_SUMMARY``
    when that is set); return their paths.

    ``summary`` is the summary dict, or the path of the ``summary.json`` holding it."""
    from conformance.report.history import HISTORY_FILE, History, append_run, history_entry, read_history
    from conformance.report.html import write_html
    from conformance.report.junit import write_junit
    from conformance.report.markdown import write_markdown

    data = json.loads(summary.read_text(encoding="utf-8")) if isinstance(summary, Path) else summary
    clean: dict[str, Any] = scrub(data)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    if not isinstance(summary, Path):
        written.append(directory / "summary.json")
        written[-1].write_text(json.dumps(clean, indent=2) + "\n", encoding="utf-8")
    history_path = directory / HISTORY_FILE
    try:
        append_run(history_path, clean)
        history = read_history(history_path, history_size)
    except OSError as exc:
        _warn(f"history not updated, {history_path}: {exc.strerror or exc}")
        history = History(entries=[history_entry(clean)])
    if history.skipped:
        _warn(f"skipped {history.skipped} malformed line(s) in {history_path}")
    markdown = write_markdown(directory / "summary.md", clean)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as handle:
                handle.write(markdown.read_text(encoding="utf-8") + "\n")
        except OSError as exc:
            _warn(f"job summary not written, {step_summary}: {exc.strerror or exc}")
    return [
        *written,
        history_path,
        write_junit(directory / "junit.xml", clean),
        write_html(directory / "index.html", clean, history),
        markdown,
    ]
