"""``conformance contracts import``: API reference pages -> ``contracts/`` files.

What comes out is structure and facts: names, types, required flags, default
rules, constraints, example payloads, where each fact was stated, where the
pages disagree, and which normative sentences could not be read. No sentence of
the docs is copied.

Precedence when pages disagree (recorded, never silent): a page's parameter
list outranks another page's attribute list, and any prose rule outranks an
example value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from conformance.contracts import crosscheck
from conformance.contracts.docparse import curl_form_pairs, parse_doc, sentences
from conformance.contracts.facts import (
    ATTRIBUTES,
    EXAMPLE,
    PARAMETERS,
    REQUEST_EXAMPLE,
    ImportResult,
)
from conformance.contracts.facts import Doc as _Doc
from conformance.contracts.facts import component as _component
from conformance.contracts.facts import feature as _feature
from conformance.contracts.facts import sources as _sources
from conformance.contracts.statements import Statement, classify
from conformance.forms import FormError, decode_form, encode_form

__all__ = ["ImportResult", "import_documents"]


def _read_entries(result: ImportResult, doc: _Doc) -> None:
    for entry in doc.parsed.entries:
        section = entry.section.split(" ")[0].lower() if entry.section else ""
        part = PARAMETERS if section == "parameters" else ATTRIBUTES if section == "attributes" else None
        if part is None:
            result.unparsed.append(
                {
                    "source": doc.name,
                    "path": entry.path,
                    "statement": "entry outside a parameters or attributes section",
                }
            )
            continue
        ref = doc.ref(part)
        parts = entry.path.split(".")
        info: dict[str, Any] = {"type": entry.type}
        if part == PARAMETERS:
            info["required"] = entry.required
        if len(parts) == 1:
            target = result.fields["request" if part == PARAMETERS else "response"].setdefault(
                parts[0], {"sources": [], **info}
            )
            _check_type(result, entry.path, target, entry.type, ref)
            _sources(target, ref)
        elif parts[0] == "components" and len(parts) == 2:
            _sources(_component(result, parts[1]), ref)
        elif parts[0] == "components" and len(parts) == 3 and parts[2] == "enabled":
            enabled = _component(result, parts[1])["enabled"]
            _check_type(result, entry.path, enabled, entry.type, ref)
            if part == PARAMETERS:
                enabled["required"] = entry.required
            _sources(enabled, ref)
        elif parts[0] == "components" and len(parts) == 3 and parts[2] == "features":
            _component(result, parts[1])
        elif parts[0] == "components" and len(parts) == 4 and parts[2] == "features":
            feat = _feature(result, parts[1], parts[3])
            _check_type(result, entry.path, feat, entry.type, ref)
            feat["request" if part == PARAMETERS else "response"] = True
            _sources(feat, ref)
        else:
            result.unparsed.append(
                {
                    "source": doc.name,
                    "path": entry.path,
                    "statement": "field at an unexpected place",
                }
            )
            continue
        _read_prose(result, doc, ref, parts, entry.text)


def _check_type(result: ImportResult, path: str, target: dict[str, Any], typ: str, ref: str) -> None:
    if not target.get("sources"):  # the first page to state it gives the type
        target["type"] = typ
    elif target.get("type") not in (None, typ):
        result.inconsistent("type", [path], stated={ref: typ, "elsewhere": target["type"]})


def _read_prose(result: ImportResult, doc: _Doc, ref: str, parts: list[str], text: str) -> None:
    for sentence in sentences(text):
        if sentence[-1] not in ".!?":
            sentence += "."
        found = classify(sentence)
        if found is None:
            continue
        path = ".".join(parts)
        if isinstance(found, str):
            result.unparsed.append({"source": ref, "path": path, "statement": found})
            continue
        if not _apply(result, ref, parts, found):
            result.unparsed.append({"source": ref, "path": path, "statement": sentence})


def _apply(result: ImportResult, ref: str, parts: list[str], st: Statement) -> bool:
    is_feature = len(parts) == 4 and parts[0] == "components" and parts[2] == "features"
    if st.kind == "default" and is_feature:
        result._stated.setdefault((parts[1], parts[3]), {})[ref] = (st.data, st.interpreted)
    elif st.kind == "constraint" and is_feature:
        result._constraints.setdefault((parts[1], parts[3]), {})[ref] = (st.data, st.interpreted)
    elif st.kind == "illustration" and is_feature:
        result._illustrations.append((ref, parts[1], parts[3], st.data))
    elif st.kind == "empty_features" and parts[-1] == "features":
        _component(result, parts[1])["features_documented_empty"] = True
    elif st.kind in ("secret", "mode") and len(parts) == 1:
        target = result.fields["response"].setdefault(parts[0], {"sources": []})
        if st.kind == "secret":
            target["secret"] = True
        else:
            target["follows"] = st.data["follows"]
    elif st.kind == "reference":
        pass
    else:
        return False
    return True


def _read_examples(result: ImportResult, doc: _Doc) -> None:
    for block in doc.parsed.code:
        stem = doc.name.rsplit(".", 1)[0]
        if block.lang == "json":
            try:
                payload = json.loads(block.code)
            except json.JSONDecodeError as exc:
                result.unparsed.append(
                    {
                        "source": doc.name,
                        "path": "example",
                        "statement": f"example JSON does not parse: {exc}",
                    }
                )
                continue
            result.examples[f"{stem}.response"] = {
                "source": doc.ref(EXAMPLE),
                "section": block.section,
                "body": payload,
            }
        elif block.lang == "curl":
            pairs = curl_form_pairs(block.code)
            form = "&".join(f"{k}={v}" for k, v in pairs)
            try:
                params = decode_form(form)
            except FormError as exc:
                result.unparsed.append(
                    {
                        "source": doc.name,
                        "path": "example",
                        "statement": f"example request does not decode: {exc}",
                    }
                )
                continue
            result.examples[f"{stem}.request"] = {
                "source": doc.ref(REQUEST_EXAMPLE),
                "method": "POST",
                "path": _curl_path(block.code),
                "form": encode_form(params),
                "params": _typed(params),
            }


def _curl_path(code: str) -> str:
    for word in code.split():
        if word.startswith("https://"):
            return "/" + word.split("/", 3)[3]
    return ""


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if value in ("true", "false"):
        return value == "true"
    return value


# where the pages are published, by title: the report links each broken rule to the field's
# anchor there (``{address}#{anchor}-components-payouts-features-instant_payouts``)
PUBLISHED = {
    "Create an Account Session": {
        "address": "https://docs.stripe.com/api/account_sessions/create",
        "anchor": "create_account_session",
    },
    "The Account Session object": {
        "address": "https://docs.stripe.com/api/account_sessions/object",
        "anchor": "account_session_object",
    },
}


def import_documents(paths: Iterable[Path]) -> ImportResult:
    result = ImportResult()
    docs = []
    for path in sorted(paths, key=lambda p: p.name):
        text = path.read_text(encoding="utf-8")
        doc = _Doc(path.name, text, parse_doc(text))
        docs.append(doc)
        result.provenance[path.name] = {
            "title": doc.parsed.title,
            **PUBLISHED.get(doc.parsed.title, {}),
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "bytes": len(text.encode()),
            "entries": len(doc.parsed.entries),
            "examples": sum(1 for b in doc.parsed.code if b.lang in ("json", "curl")),
        }
    for doc in docs:
        _read_entries(result, doc)
        _read_examples(result, doc)
    crosscheck.example_sources(result)
    crosscheck.merge_defaults(result)
    crosscheck.absent_references(result)
    crosscheck.example_only_defaults(result)
    crosscheck.structure_diffs(result, docs)
    crosscheck.group_phrasings(result)
    crosscheck.example_diffs(result)
    crosscheck.check_illustrations(result)
    crosscheck.group(result)
    for number, item in enumerate(result.inconsistencies, 1):
        item["id"] = f"I{number:02d}"
    return result
