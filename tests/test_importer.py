"""The importer: faithful to the docs, independent of line breaks, honest about
what it cannot read, and in step with the committed contracts."""

from __future__ import annotations

import filecmp
import json
import re
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from conformance.contracts.importer import import_documents
from conformance.contracts.model import GENERATED_FILES
from conformance.contracts.store import write_contracts

from .conftest import CONTRACTS, SEEDS

needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the API docs are not at {SEEDS}")


def _seed_paths() -> list[Path]:
    return sorted(SEEDS.glob("*.md"))


@needs_seeds
def test_committed_contracts_match_a_fresh_import(tmp_path):
    write_contracts(import_documents(_seed_paths()), tmp_path)
    generated = [
        *GENERATED_FILES,
        *(f"examples/{p.name}" for p in (tmp_path / "examples").glob("*.json")),
    ]
    committed_examples = {p.name for p in (CONTRACTS / "examples").glob("*.json")}
    assert committed_examples == {p.name for p in (tmp_path / "examples").glob("*.json")}
    stale = [name for name in generated if not filecmp.cmp(tmp_path / name, CONTRACTS / name, shallow=False)]
    assert not stale, (
        f"contracts/ differ from a fresh import of {SEEDS}: {stale}; run `conformance contracts import`"
    )


@needs_seeds
def test_line_breaks_do_not_matter(tmp_path):
    """Every page collapsed onto one line imports to the same facts."""
    one_line = []
    for path in _seed_paths():
        flat = tmp_path / path.name
        flat.write_text(" ".join(path.read_text().split()))
        one_line.append(flat)
    a, b = import_documents(_seed_paths()), import_documents(one_line)
    assert a.components == b.components
    assert a.defaults == b.defaults
    assert a.constraints == b.constraints
    assert a.inconsistencies == b.inconsistencies
    assert {k: v.get("body", v.get("params")) for k, v in a.examples.items()} == {
        k: v.get("body", v.get("params")) for k, v in b.examples.items()
    }
    assert b.unparsed == []


@needs_seeds
def test_what_the_docs_say():
    r = import_documents(_seed_paths())
    assert len(r.components) == 19
    assert r.components["documents"]["features"] == {}
    assert r.fields["request"]["account"] == {
        "type": "string",
        "required": True,
        "sources": ["create_account_session.md#parameters"],
    }
    assert r.components["payments"]["enabled"]["required"] is True
    assert r.defaults["payouts.instant_payouts"]["rule"] == {
        "kind": "conditional",
        "when": {"controller.losses.payments": "stripe"},
        "then": True,
        "else": False,
    }
    assert r.defaults["payments.refund_management"]["rule"] == {"kind": "constant", "value": True}
    assert r.defaults["payments.destination_on_behalf_of_charge_management"]["rule"] == {
        "kind": "constant",
        "value": False,
    }
    assert r.defaults["balances.disable_stripe_user_authentication"]["rule"] == {
        "kind": "opposite",
        "of": "external_account_collection",
    }
    assert r.defaults["financial_account.send_money"]["grade"] == "example-only"
    money = r.components["financial_account"]["features"]["money_movement"]
    assert money["request"] is False and money["response"] is True
    by_id = {c["id"]: c for c in r.constraints}
    assert by_id["payouts.disable_stripe_user_authentication=true"]["requires"] == {
        "controller.requirement_collection": "application"
    }
    assert by_id["payouts.external_account_collection=false"]["requires"] == {
        "controller.requirement_collection": "application"
    }
    assert r.fields["response"]["client_secret"]["secret"] is True
    assert r.fields["response"]["livemode"]["follows"] == "key_mode"


@needs_seeds
def test_inconsistencies_are_listed_not_resolved_silently():
    kinds = {}
    for item in import_documents(_seed_paths()).inconsistencies:
        kinds.setdefault(item["kind"], []).append(item)
    sets = kinds["component_set"][0]
    assert sorted(sets["counts"].values()) == [11, 19]
    values = kinds["example_value"]
    assert [v["paths"] for v in values] == [
        ["components.financial_account.features.external_account_collection"]
    ]
    assert values[0]["effective"] == "create_account_session.md#parameters"
    assert "rule_phrasing" in kinds and "constraint" in kinds and "response_only_field" in kinds


def test_unreadable_rules_are_reported_not_guessed(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Create a thing\n## Parameters\n"
        "- `components` (object, required)\n  Components.\n"
        "  - `components.x` (object, optional)\n    The x.\n"
        "    - `components.x.enabled` (boolean, required)\n      Whether enabled.\n"
        "    - `components.x.features.y` (boolean, optional)\n"
        "      Whether y. The default depends on the phase of the moon.\n"
        "    - `components.x.features.z` (boolean, optional)\n"
        "      Whether z. Default `true` when the platform is happy, default `false` otherwise.\n"
    )
    result = import_documents([page])
    statements: dict[str, list[str]] = {}
    for item in result.unparsed:
        statements.setdefault(item["path"], []).append(item["statement"])
    assert "The default depends on the phase of the moon." in statements["components.x.features.y"]
    assert any("platform is happy" in s for s in statements["components.x.features.z"])
    assert "x.y" not in result.defaults or result.defaults["x.y"]["grade"] != "doc"
    assert "x.z" not in result.defaults or result.defaults["x.z"]["grade"] != "doc"


def test_openapi_is_valid_and_form_encoded():
    spec = yaml.safe_load((CONTRACTS / "openapi.yaml").read_text())
    validate(spec)
    post = spec["paths"]["/v1/account_sessions"]["post"]
    assert list(post["requestBody"]["content"]) == ["application/x-www-form-urlencoded"]
    schemas = spec["components"]["schemas"]
    assert {"account_session", "error", "account_session_create_params"} <= set(schemas)
    assert len(schemas["account_session"]["properties"]["components"]["required"]) == 19


def test_contracts_hold_facts_not_sentences():
    """No sentence of the docs is copied: no committed file but the documented
    example payloads holds a run of eight or more words of the docs' prose."""
    if not SEEDS.is_dir():
        pytest.skip(f"the API docs are not at {SEEDS}")

    def prose_words(text: str) -> list[str]:  # identifiers and code are facts, not prose
        tokens = (t.strip(".,;:()\"'") for t in text.split())
        return [t.lower() for t in tokens if re.fullmatch(r"[A-Za-z]+", t)]

    words = prose_words(" ".join(p.read_text() for p in _seed_paths()))
    shingles = {" ".join(words[i : i + 8]) for i in range(len(words) - 8)}
    for path in CONTRACTS.rglob("*"):
        if path.is_file() and path.parent.name != "examples":
            text_words = prose_words(path.read_text())
            for i in range(len(text_words) - 8):
                assert " ".join(text_words[i : i + 8]) not in shingles, f"{path} copies the docs"


def test_conventions_are_well_formed(committed):
    conv = committed.conventions
    assert set(conv["archetypes"]) == {"full", "express", "none"}
    from conformance.catalogue import Grade, catalogue

    rules = catalogue(committed)  # grades and categories are the enums' (else ValueError)
    keys = {"category", "grade", "source", "sources", "says", "free", "prerequisite"}
    for rule_id, info in conv["rules"].items():
        assert set(info) <= keys, info  # a stray key: a YAML comma
        rule = rules[rule_id]
        assert rule.grade in (Grade.DOC, Grade.CONVENTION) and rule.sources and rule.says
    for spec in conv["errors"].values():
        assert 400 <= spec["status"] < 600 and spec["type"].endswith("_error")
    json.dumps(conv)


def test_documented_cassettes_follow_the_contracts(tmp_path, committed):
    from conformance.documented import SET, write_documented_cassettes

    written = write_documented_cassettes(committed, tmp_path)
    assert written
    for path in [*written, tmp_path / SET / "meta.yaml"]:
        twin = CONTRACTS.parent / "cassettes" / path.relative_to(tmp_path)
        assert twin.is_file() and twin.read_text() == path.read_text(), (
            f"{twin} is stale: run `conformance contracts import`"
        )
