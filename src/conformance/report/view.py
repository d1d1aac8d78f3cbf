"""From the summary to what the page shows: verdict, run facts, categories, failures, findings."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import unquote_plus

from conformance.report.changes import rule_strip
from conformance.report.history import History, pass_rate
from conformance.report.links import doc_link
from conformance.report.matrix import build_matrices, coverage
from conformance.report.trend import trend
from conformance.results import CATEGORIES, COUNT_KEYS

__all__ = ["CATEGORY_ORDER", "build_view", "pretty"]

CATEGORY_ORDER = CATEGORIES  # the order categories are shown in
_VERDICTS = {"conforms": "ok", "does not conform": "bad", "inconclusive": "warn"}  # else: down
_MODES = {"embedded": "embedded mock", "url": "URL", "replay": "replay", "dry-run": "dry run (nothing sent)"}


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _date(started: str) -> str:
    try:
        when = dt.datetime.fromisoformat(started)
    except (TypeError, ValueError):
        return str(started or "—")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _facts(summary: dict[str, Any]) -> list[tuple[str, str]]:
    info = summary.get("target_info") or {}
    mode = str(info.get("mode", ""))
    label = _MODES.get(mode, mode or "—")
    cassettes = info.get("cassettes")
    if cassettes:
        listed = ", ".join(map(str, cassettes)) if isinstance(cassettes, list) else str(cassettes)
        recording = (
            f"recording ({info['record_mode']}) to " if info.get("record_mode") and mode != "replay" else ""
        )
        label += f", {recording}{listed}" if recording else f" of {listed}"
    seed = summary.get("seed")
    facts = [
        ("target", str(summary.get("target") or info.get("base_url") or "—")),
        ("mode", label),
        ("API version", str(info.get("api_version") or "the account's default")),
        ("date", _date(summary.get("started", ""))),
        ("seed", "—" if seed is None else str(seed)),
        ("duration", f"{float(summary.get('duration') or 0):.2f} s"),
    ]
    sdk = summary.get("sdk")
    if isinstance(sdk, dict):
        facts.insert(0, ("SDK", f"{sdk.get('name', '?')} {sdk.get('version') or ''}".strip()))
    return facts


def _profile(summary: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """The target profile as (what, what was found, whether it stops checks from running)."""
    profile = summary.get("target_profile")
    if not isinstance(profile, dict):
        return []
    reported = {True: "reported", False: "not reported: defaults that depend on it are inconclusive"}
    rows = [
        (
            "accounts made with",
            str(profile.get("accounts", "")),
            profile.get("accounts") in ("missing", "refused"),
        ),
        (
            "controller",
            reported.get(bool(profile["controller_reported"]), "")
            if isinstance(profile.get("controller_reported"), bool)
            else "unknown",
            profile.get("controller_reported") is False,
        ),
        ("Account Sessions", str(profile.get("sessions", "")), profile.get("sessions") == "missing"),
        ("API key", str(profile.get("key", "")), False),
    ]
    life = profile.get("lifecycle") or {}
    if life:
        shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in life.items())
        rows.insert(2, ("account lifecycle", shown, False))
    if profile.get("missing"):
        rows.append(("not run, because", str(profile["missing"]), True))
    accounts = summary.get("accounts")
    if isinstance(accounts, dict):
        left = ", ".join(accounts.get("left") or []) or "none"
        kept = " (kept: --keep-accounts)" if accounts.get("kept") else ""
        rows.append(
            (
                "accounts",
                f"{accounts.get('made', 0)} made, left behind: {left}{kept}",
                bool(accounts.get("left")) and not kept,
            )
        )
    return rows


def _categories(summary: dict[str, Any]) -> list[dict[str, Any]]:
    table = summary.get("categories", {})
    names = list(CATEGORY_ORDER) + [n for n in table if n not in CATEGORY_ORDER]
    rows = []
    for name in names:
        row = {k: int(table.get(name, {}).get(k, 0)) for k in COUNT_KEYS.values()}
        row["total"] = sum(row.values())
        rows.append({"name": name, **row})
    return rows


def _evidence(item: dict[str, Any]) -> dict[str, Any]:
    exchange = item.get("exchange") or {}
    request = exchange.get("request") or {}
    response = exchange.get("response") or {}
    body = str(request.get("body") or "")
    return {
        "request_line": f"{request.get('method', '')} {request.get('path', '')}".strip(),
        "form": [unquote_plus(part) for part in body.split("&") if part],
        "status": response.get("status"),
        "response": pretty(response.get("body")),
        "curl": str(exchange.get("curl") or ""),
        "explanation": str(item.get("explanation") or ""),
    }


def _failures(checks: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Failed checks with their evidence, and the broken rules they add up to."""
    failed: list[dict[str, Any]] = []
    rules: dict[str, dict[str, Any]] = {}
    for check in checks:
        if check.get("outcome") != "failed":
            continue
        anchor = f"fail-{len(failed) + 1}"
        findings = [f for f in check.get("findings", []) if f.get("severity") == "failure"]
        for f in findings:
            rule = rules.setdefault(str(f.get("rule")), {**f, "checks": [], "paths": []})
            if (check["id"], anchor) not in rule["checks"]:
                rule["checks"].append((check["id"], anchor))
            if f.get("path") not in rule["paths"]:
                rule["paths"].append(f.get("path"))
        if not findings:
            first = (check.get("message") or "failed").strip().splitlines()[0]
            rule = rules.setdefault(
                "(error)",
                {
                    "rule": "(no rule: the check errored)",
                    "grade": "",
                    "says": first,
                    "sources": [],
                    "checks": [],
                    "paths": [],
                },
            )
            rule["checks"].append((check["id"], anchor))
        failed.append(
            {
                "id": check["id"],
                "anchor": anchor,
                "category": check.get("category", ""),
                "message": check.get("message", ""),
                "findings": [
                    {**f, "expected_text": pretty(f.get("expected")), "actual_text": pretty(f.get("actual"))}
                    for f in findings
                ],
                "evidence": [_evidence(e) for e in check.get("evidence", [])],
            }
        )
    return failed, sorted(rules.values(), key=lambda r: (-len(r["checks"]), str(r["rule"])))


def _linked(rule: dict[str, Any], documents: dict[str, Any]) -> dict[str, Any]:
    """The rule with its sources as (name, public address or "") pairs."""
    path = str((rule.get("paths") or [rule.get("path", "")])[0] or "")
    return {**rule, "links": [(s, doc_link(str(s), path, documents)) for s in rule.get("sources") or []]}


def _findings(checks: list[dict[str, Any]], severity: str) -> list[dict[str, Any]]:
    """Warnings or notes, one entry per distinct finding, naming the checks that met it."""
    grouped: dict[str, dict[str, Any]] = {}
    for check in checks:
        for f in check.get("findings", []):
            if f.get("severity") != severity:
                continue
            key = json.dumps(
                [f.get(k) for k in ("kind", "path", "rule", "expected", "actual")], sort_keys=True
            )
            entry = grouped.setdefault(
                key,
                {
                    **f,
                    "checks": [],
                    "expected_text": pretty(f.get("expected")),
                    "actual_text": pretty(f.get("actual")),
                },
            )
            entry["checks"].append(check["id"])
    return list(grouped.values())


def build_view(summary: dict[str, Any], history: History) -> dict[str, Any]:
    checks = summary.get("checks", [])
    verdict = str(summary.get("verdict", "unknown"))
    failed, broken = _failures(checks)
    matrices = build_matrices(summary)
    contract = summary.get("contract") or {}
    documents = contract.get("documents") or {}
    return {
        "verdict": verdict,
        "verdict_class": _VERDICTS.get(verdict, "down"),
        "stopped": summary.get("stopped"),
        "profile": _profile(summary),
        "counts": summary.get("counts", {}),
        "pass_rate": pass_rate(summary.get("counts", {})),
        "facts": _facts(summary),
        "categories": _categories(summary),
        "matrices": matrices,
        "coverage": coverage(summary, matrices),
        "failures": failed,
        "broken_rules": [_linked(r, documents) for r in broken],
        "accepted_rules": [_linked(r, documents) for r in summary.get("accepted_rules", [])],
        "baseline": summary.get("baseline"),
        "changes": summary.get("changes"),
        "strip": rule_strip(history.entries),
        "top_rules": [r["rule"] for r in summary.get("broken_rules", [])[:3]],
        "more_rules": max(0, len(summary.get("broken_rules", [])) - 3),
        "warnings": _findings(checks, "warning"),
        "notes": _findings(checks, "note"),
        "skipped": [c for c in checks if c.get("outcome") in ("skipped", "inconclusive", "not run")],
        "inconsistencies": [
            {
                "id": i.get("id", ""),
                "kind": i.get("kind", ""),
                "paths": i.get("paths", []),
                "effective": i.get("effective"),
                "stated": pretty(
                    {k: v for k, v in i.items() if k not in ("id", "kind", "paths", "effective")}
                ),
            }
            for i in contract.get("inconsistencies", [])
        ],
        "unparsed": contract.get("unparsed", []),
        "trend": trend(history.entries),
        "history_skipped": history.skipped,
        "schema_version": summary.get("version"),
    }
