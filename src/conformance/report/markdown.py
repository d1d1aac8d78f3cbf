"""``summary.md``: the run in a page of Markdown a CI job shows as its summary (GitHub's
``$GITHUB_STEP_SUMMARY``, a GitLab merge-request note). Plain GitHub-flavoured Markdown:
tables, lists and code spans only, every cell escaped, so it renders the same on both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.report.links import doc_link

__all__ = ["markdown", "write_markdown"]

SHOWN = 20  # broken rules listed; the HTML report has every one
_MARK = {"conforms": "✅", "does not conform": "❌", "inconclusive": "⚠️"}
_COLUMNS = ("passed", "failed", "accepted", "warnings", "inconclusive", "not_run", "skipped")


def _cell(value: Any) -> str:
    text = " ".join(str(value).split())
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(value: Any) -> str:
    text = " ".join(str(value).split()).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if text else ""


def _sources(sources: list[str], path: str, contract: dict[str, Any]) -> str:
    shown = []
    for source in sources:
        link = doc_link(source, path, contract.get("documents") or {})
        shown.append(f"[{_cell(source)}]({link})" if link else _cell(source))
    return ", ".join(shown)


def _table(header: list[str], rows: list[list[str]], right: int = 0) -> list[str]:
    aligns = ["---"] * (len(header) - right) + ["---:"] * right
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(aligns) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _when(date: Any) -> str:
    return str(date or "?")[:16].replace("T", " ")


def _changes(changes: dict[str, Any] | None) -> list[str]:
    if not changes:
        return []
    lines = ["", "### Since the last run", ""]
    if changes.get("previous") is None:
        return [*lines, "No earlier run against this target in the history."]
    lines.append(f"Compared with the run of {_when(changes['previous'])}:")
    lines.append("")
    for key, label in (("new", "Newly broken"), ("fixed", "Fixed"), ("new_warnings", "New drift warnings")):
        rules = changes.get(key) or []
        lines.append(f"- **{label}** ({len(rules)}): " + (", ".join(_code(r) for r in rules) or "none"))
    still = changes.get("still_broken") or []
    shown = ", ".join(f"{_code(s['rule'])} since {_when(s['since'])}" for s in still[:SHOWN])
    more = f" and {len(still) - SHOWN} more" if len(still) > SHOWN else ""
    lines.append(f"- **Still broken** ({len(still)}): " + (shown + more or "none"))
    return lines


def _baseline(summary: dict[str, Any]) -> list[str]:
    baseline = summary.get("baseline")
    if not baseline:
        return []
    rows = [
        [
            _code(e["rule"]) + (f" at {_code(e['path'])}" if e.get("path") else ""),
            _cell(e["reason"]),
            _cell(e["expires"]),
            _cell(e["status"] + (f": {e['note']}" if e.get("note") else "")),
        ]
        for e in baseline.get("entries", [])
    ]
    head = ["", f"### Accepted deviations (baseline {_code(baseline.get('file', ''))})", ""]
    if not rows:
        return [*head, "The baseline has no entries."]
    return head + _table(["rule", "reason", "until", "this run"], rows)


def markdown(summary: dict[str, Any]) -> str:
    verdict = str(summary.get("verdict", "?"))
    counts = summary.get("counts") or {}
    info = summary.get("target_info") or {}
    subject = info.get("name") or summary.get("target", "")
    if info.get("subject"):  # the SDK gate: the SDK under test is the subject, the mock its target
        subject = f"{info['subject']} (against {subject})"
    lines = [f"## {_MARK.get(verdict, '⛔')} Account Sessions conformance: {verdict}", ""]
    shown = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items() if v and k != "total")
    lines.append(
        f"**Target** {_code(subject)} · {shown or 'no checks'} · {float(summary.get('duration') or 0):.1f} s"
        f" · started {_when(summary.get('started'))}"
    )
    if summary.get("stopped"):
        lines += ["", f"> The run stopped: {_cell(summary['stopped'])}"]
    missing = (summary.get("target_profile") or {}).get("missing")
    if missing:  # why checks were not run: the target lacks what they need
        lines += ["", f"> Not run: {_cell(missing)}"]
    broken = summary.get("broken_rules") or []
    if broken:
        top = ", ".join(_code(r["rule"]) for r in broken[:3])
        lines += ["", f"Breaks {top}" + (f" and {len(broken) - 3} more." if len(broken) > 3 else ".")]
    rows = [
        [name, *(str(row.get(c, 0) or "") for c in _COLUMNS)]
        for name, row in (summary.get("categories") or {}).items()
        if any(row.values())
    ]
    if rows:
        lines += ["", *_table(["category", *(c.replace("_", " ") for c in _COLUMNS)], rows, len(_COLUMNS))]
    if broken:
        contract = summary.get("contract") or {}
        rule_rows = [
            [
                _code(r["rule"]),
                _cell(r.get("grade", "")),
                _sources(list(r.get("sources") or []), str(r.get("path", "")), contract),
                str(r.get("checks", "")),
                _cell(r.get("says", "")),
            ]
            for r in broken[:SHOWN]
        ]
        lines += ["", f"### Broken rules ({len(broken)})", ""]
        lines += _table(["rule", "grade", "source", "checks", "says"], rule_rows)
        if len(broken) > SHOWN:
            lines += ["", f"…and {len(broken) - SHOWN} more in the HTML report."]
    lines += _changes(summary.get("changes"))
    lines += _baseline(summary)
    lines += [
        "",
        "The full report: `index.html` in the report directory (this job's artifacts), with"
        " `summary.json` and `junit.xml` beside it.",
        "",
    ]
    return "\n".join(lines)


def write_markdown(path: Path, summary: dict[str, Any]) -> Path:
    path.write_text(markdown(summary), encoding="utf-8")
    return path
