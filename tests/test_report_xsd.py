"""``junit.xml`` against the JUnit schema Jenkins reads (``tests/data/junit-10.xsd``).

No XSD processor ships with the project (lxml and xmlschema are not
dependencies), so :func:`validate` interprets the schema itself: the subset
of XML Schema that file uses (global elements and ``ref``, ``sequence`` and
``choice`` with occurrence bounds, ``mixed`` content, attributes with
``use="required"``, string restrictions with a ``pattern``). Anything else in
a schema raises ``NotImplementedError`` rather than being skipped, and the
tests below show it rejects what the schema forbids.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from conformance.report.junit import junit_tree

XSD_FILE = Path(__file__).parent / "data" / "junit-10.xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"
_BUILTIN = {"xs:string": None, "xs:int": r"[+-]?\d+", "xs:decimal": r"[+-]?(\d+(\.\d*)?|\.\d+)"}


class Schema:
    def __init__(self, path: Path) -> None:
        root = ET.parse(path).getroot()
        self.elements = {e.get("name"): e for e in root.findall(f"{XS}element")}
        self.complex = {t.get("name"): t for t in root.findall(f"{XS}complexType")}
        self.simple = {t.get("name"): t for t in root.findall(f"{XS}simpleType")}

    def pattern(self, type_name: str | None) -> str | None:
        if type_name is None or type_name in _BUILTIN:
            return _BUILTIN.get(type_name or "xs:string")
        restriction = self.simple[type_name].find(f"{XS}restriction")
        if restriction is None or restriction.get("base") != "xs:string":
            raise NotImplementedError(f"simple type {type_name}")
        facets = [f for f in restriction if f.tag != f"{XS}pattern"]
        if facets:
            raise NotImplementedError(f"facets of {type_name}: {[f.tag for f in facets]}")
        return "|".join(f"(?:{p.get('value')})" for p in restriction.findall(f"{XS}pattern"))

    def particle(self, node: ET.Element) -> str:
        """A regular expression over ``<tag>`` tokens for a content-model particle."""
        low = node.get("minOccurs", "1")
        high = node.get("maxOccurs", "1")
        quantifier = f"{{{low},}}" if high == "unbounded" else f"{{{low},{high}}}"
        if node.tag == f"{XS}element":
            name = node.get("ref") or node.get("name")
            return f"(?:{re.escape(f'<{name}>')}){quantifier}"
        parts = [self.particle(child) for child in node if child.tag != f"{XS}annotation"]
        if node.tag == f"{XS}sequence":
            return f"(?:{''.join(parts)}){quantifier}"
        if node.tag == f"{XS}choice":
            return f"(?:{'|'.join(parts)}){quantifier}"
        raise NotImplementedError(node.tag)

    def declaration(self, element: ET.Element, decl: ET.Element) -> list[str]:
        type_name = decl.get("type")
        if type_name in self.complex:
            return self.check_complex(element, self.complex[type_name])
        inline = decl.find(f"{XS}complexType")
        if inline is not None:
            return self.check_complex(element, inline)
        errors = [f"<{element.tag}> may hold no element" for _ in element[:1]]
        errors += [f"<{element.tag}> may have no attribute {a}" for a in element.attrib]
        return errors

    def check_complex(self, element: ET.Element, ctype: ET.Element) -> list[str]:
        errors: list[str] = []
        declared = {a.get("name"): a for a in ctype.findall(f"{XS}attribute")}
        for name, attr in declared.items():
            value = element.get(name)
            if value is None:
                if attr.get("use") == "required":
                    errors.append(f"<{element.tag}> lacks the required attribute {name}")
                continue
            pattern = self.pattern(attr.get("type"))
            if pattern is not None and not re.fullmatch(pattern, value):
                errors.append(f"<{element.tag} {name}={value!r}> does not match {attr.get('type')}")
        errors += [
            f"<{element.tag}> has an undeclared attribute {a}" for a in element.attrib if a not in declared
        ]
        models = [c for c in ctype if c.tag in (f"{XS}sequence", f"{XS}choice")]
        unknown = [c.tag for c in ctype if c.tag not in (f"{XS}sequence", f"{XS}choice", f"{XS}attribute")]
        if unknown:
            raise NotImplementedError(unknown)
        tokens = "".join(f"<{child.tag}>" for child in element)
        model = self.particle(models[0]) if models else ""
        if not re.fullmatch(model, tokens):
            errors.append(f"<{element.tag}> children {tokens or '(none)'} break its content model")
        if ctype.get("mixed") != "true" and (element.text or "").strip():
            errors.append(f"<{element.tag}> may hold no text")
        local = {d.get("name"): d for d in ctype.iter(f"{XS}element") if d.get("name")}
        for child in element:
            decl = local.get(child.tag) or self.elements.get(child.tag)
            if decl is None:
                errors.append(f"<{child.tag}> is not declared")
                continue
            errors += self.declaration(child, decl)
            if (child.tail or "").strip() and ctype.get("mixed") != "true":
                errors.append(f"text after <{child.tag}> in <{element.tag}>")
        return errors

    def validate(self, root: ET.Element) -> list[str]:
        if root.tag not in self.elements:
            return [f"<{root.tag}> is not a global element of the schema"]
        return self.declaration(root, self.elements[root.tag])


@cache
def jenkins_schema() -> Schema:
    return Schema(XSD_FILE)


def validate(path_or_root: Path | ET.Element) -> list[str]:
    root = ET.parse(path_or_root).getroot() if isinstance(path_or_root, Path) else path_or_root
    return jenkins_schema().validate(root)


def _summary(*checks: dict) -> dict:
    return {
        "started": "2026-01-02T03:04:05+00:00",
        "duration": 1.5,
        "target": "embedded",
        "verdict": "does not conform",
        "counts": {"failed": 1},
        "checks": list(checks),
    }


def _check(outcome: str, **extra) -> dict:
    return {
        "id": f"suites/test_x.py::test_{outcome}",
        "category": "shape",
        "outcome": outcome,
        "duration": 0.0123456,
        "message": "",
        "findings": [],
        **extra,
    }


def test_the_schema_is_the_committed_jenkins_one():
    text = XSD_FILE.read_text(encoding="utf-8")
    assert "The MIT License" in text and 'name="testsuite"' in text
    assert set(jenkins_schema().elements) >= {"testsuites", "testsuite", "testcase", "failure", "skipped"}


def test_writer_output_of_every_outcome_validates():
    warning = {
        "severity": "warning",
        "path": "components.new_thing",
        "rule": "drift.additive",
        "expected": None,
        "actual": {"enabled": False},
    }
    summary = _summary(
        _check("passed"),
        _check(
            "failed",
            message="1 rule(s) broken:\n  - x\x1b[31m\x00",
            findings=[
                {"severity": "failure", "rule": "session.enabled", "grade": "doc", "path": "p", "says": "s"}
            ],
        ),
        _check("skipped", message="not for this target"),
        _check("warning", findings=[warning]),
    )
    root = junit_tree(summary).getroot()
    assert validate(root) == []
    cases = {c.get("name").rsplit("_", 1)[-1]: c for c in root.iter("testcase")}
    assert cases["failed"].find("failure").get("message").startswith("session.enabled [doc] at p")
    assert "\x00" not in cases["failed"].find("failure").text  # not representable in XML: replaced
    assert cases["skipped"].find("skipped").get("message") == "not for this target"
    assert cases["warning"].find("failure") is None
    assert "components.new_thing" in cases["warning"].find("system-out").text
    assert cases["passed"].get("time") == "0.012" and cases["passed"].get("classname") == "conformance.shape"


SUITE = '<testsuite name="a" tests="1" failures="0" errors="0"'


@pytest.mark.parametrize(
    ("xml", "complaint"),
    [
        (
            '<testsuites><testsuite tests="1" failures="0" errors="0"/></testsuites>',
            "lacks the required attribute name",
        ),
        (
            '<testsuites><testsuite name="a" tests="1" failures="0" errors="0" time="1.23456"/></testsuites>',
            "does not match SUREFIRE_TIME",
        ),
        (
            f"<testsuites>{SUITE}><testcase/></testsuite></testsuites>",
            "lacks the required attribute name",
        ),
        (
            f"<testsuites>{SUITE}><bogus/></testsuite></testsuites>",
            "break its content model",
        ),
        ('<testsuites><testcase name="a"/></testsuites>', "break its content model"),
        (
            '<testsuites><testsuite name="a" tests="1" failures="0" errors="0" color="red"/></testsuites>',
            "undeclared attribute color",
        ),
        ('<testsuite name="a" tests="1" failures="0" errors="0">loose text</testsuite>', "may hold no text"),
        (
            f'{SUITE}><system-out a="1">x</system-out></testsuite>',
            "may have no attribute",
        ),
        ("<report/>", "not a global element"),
    ],
)
def test_the_validator_rejects_what_the_schema_forbids(xml, complaint):
    errors = validate(ET.fromstring(xml))
    assert any(complaint in e for e in errors), errors
