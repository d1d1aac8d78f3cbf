"""``conformance contracts diff`` and the summary ``contracts import`` prints when it
writes over a contract: edited copies of the real pages, imported and compared."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main

from .conftest import SEEDS

pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the API docs are not at {SEEDS}")

CREATE, OBJECT = "create_account_session.md", "account_session_object.md"

# the instant payouts default, worded as the newest SDK words it (our sentence, the docs' style)
NEW_INSTANT_PAYOUTS = (
    "Whether to allow creation of instant payouts. Defaults to `enabled` when Stripe is"
    " responsible for negative balances on the account, otherwise `use_dashboard_rules`."
)
OLD_INSTANT_PAYOUTS = {
    CREATE: "Whether to allow creation of instant payouts. Defaults to `true` when"
    " `controller.losses.payments` is set to `stripe` for the account, otherwise `false`.",
    OBJECT: "Whether to allow creation of instant payouts. Default `true` when Stripe owns Loss"
    " Liability, default `false` otherwise.",
}
CONDITIONAL = "defaults to true when controller.losses.payments is stripe, else false (doc)"


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("old") / "contracts"
    assert main(["contracts", "import", *map(str, sorted(SEEDS.glob("*.md"))), "--out", str(out)]) == 0
    return out


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    """Copies of the pages, to edit."""
    where = tmp_path / "pages"
    where.mkdir()
    for page in SEEDS.glob("*.md"):
        shutil.copy(page, where / page.name)
    return where


def edit(page: Path, old: str, new: str, count: int = 1) -> None:
    """Replace ``old`` (found exactly ``count`` times: an edit that misses fails the test)."""
    text = page.read_text(encoding="utf-8")
    assert text.count(old) == count, (page.name, old, text.count(old))
    page.write_text(text.replace(old, new), encoding="utf-8")


def edit_example(page: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the page's JSON example response."""
    text = page.read_text(encoding="utf-8")
    found = re.search(r"```json\s*(.*?)```", text, re.S)
    assert found
    body = json.loads(found[1])
    change(body)
    page.write_text(text.replace(found[1], json.dumps(body, indent=2) + "\n"), encoding="utf-8")


def drop_entry(page: Path, path: str) -> None:
    """Remove the entry of ``path`` (its line and its prose) from a page with line breaks."""
    text = page.read_text(encoding="utf-8")
    entry = re.compile(rf"\n[ \t]*- `{re.escape(path)}` \([^)]*\)\n[^\n]*\n")
    assert len(entry.findall(text)) == 1, path
    page.write_text(entry.sub("\n", text), encoding="utf-8")


def imported(pages: Path, out: Path) -> Path:
    assert main(["contracts", "import", *map(str, sorted(pages.glob("*.md"))), "--out", str(out)]) == 0
    return out


def diff(capsys: pytest.CaptureFixture[str], old: Path, new: Path, *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["contracts", "diff", str(old), str(new), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def section(out: str, title: str) -> list[str]:
    """The lines of one group (``breaking``, ``additive``, ``notes``) of the text output."""
    lines = out.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(f"{title} (")]
    if not starts:
        return []
    rest = lines[starts[0] + 1 :]
    return [
        line.strip() for line in rest[: next((i for i, x in enumerate(rest) if not x.startswith("  ")), None)]
    ]


def test_identical_contracts_and_reflowed_pages_are_no_changes(capsys, old, pages, tmp_path):
    assert diff(capsys, old, old)[:2] == (0, "no changes\n")
    for page in pages.glob("*.md"):  # every page on one line: formatting only
        page.write_text(" ".join(page.read_text(encoding="utf-8").split()), encoding="utf-8")
    new = imported(pages, tmp_path / "new")
    assert json.loads((old / "provenance.json").read_text()) != json.loads(
        (new / "provenance.json").read_text()
    )
    assert diff(capsys, old, new)[:2] == (0, "no changes\n")
    assert diff(capsys, old, new, "--json")[:2] == (0, "[]\n")


def test_a_new_component_is_additive(capsys, old, pages, tmp_path):
    edit(
        pages / CREATE,
        "  - `components.disputes_list` (object, optional)\n",
        "  - `components.reporting_chart` (object, optional)\n"
        "    Configuration for the reporting chart embedded component.\n\n"
        "    - `components.reporting_chart.enabled` (boolean, required)\n"
        "      Whether the embedded component is enabled.\n\n"
        "    - `components.reporting_chart.features` (object, optional)\n"
        "      The list of features enabled in the embedded component.\n\n"
        "      - `components.reporting_chart.features.export` (boolean, optional)\n"
        "        Whether to allow exporting the chart. The default value for this feature is `true`.\n\n"
        "  - `components.disputes_list` (object, optional)\n",
    )
    code, out, _ = diff(capsys, old, imported(pages, tmp_path / "new"))
    assert code == 0, out
    assert section(out, "breaking") == []
    assert section(out, "additive") == ['component added: components.reporting_chart: ["export"]']
    # the create page now knows one more component than the object page: a note, not breaking
    (note,) = section(out, "notes")
    assert note.startswith("inconsistency changed: ") and "components.reporting_chart" in note
    was, now = note.split("; now ")
    assert '{"counts.create_account_session.md#parameters": 19, ' in was
    assert now.startswith('{"counts.create_account_session.md#parameters": 20, ')
    assert out.splitlines()[-1].endswith(": 0 breaking, 1 additive, 1 notes")


@pytest.mark.parametrize("where", ["both pages", "create page, no example"])
def test_a_default_reworded_like_the_newest_sdk_is_breaking(capsys, old, pages, tmp_path, where):
    """The new wording is not one the importer reads: the diff says the rule changed or
    disappeared, with the old rule and the sentence it could not read."""
    if where == "both pages":
        edit(pages / CREATE, OLD_INSTANT_PAYOUTS[CREATE], NEW_INSTANT_PAYOUTS, count=3)
        edit(pages / OBJECT, OLD_INSTANT_PAYOUTS[OBJECT], NEW_INSTANT_PAYOUTS, count=2)
        components = ["balances", "instant_payouts_promotion", "payouts"]
    else:  # instant_payouts_promotion: stated once, and the example no longer shows it
        text = (pages / CREATE).read_text(encoding="utf-8")
        start = text.index("`components.instant_payouts_promotion.features.instant_payouts`")
        at = text.index(OLD_INSTANT_PAYOUTS[CREATE], start)
        end = at + len(OLD_INSTANT_PAYOUTS[CREATE])
        (pages / CREATE).write_text(text[:at] + NEW_INSTANT_PAYOUTS + text[end:], encoding="utf-8")
        edit_example(
            pages / CREATE,
            lambda b: b["components"]["instant_payouts_promotion"]["features"].pop("instant_payouts"),
        )
        components = ["instant_payouts_promotion"]
    new = imported(pages, tmp_path / "new")
    code, out, _ = diff(capsys, old, new)
    assert code == 1, out
    breaking = section(out, "breaking")
    for comp in components:
        path = f"components.{comp}.features.instant_payouts"
        line = next(
            x for x in breaking if x.startswith(("default changed: " + path, "default removed: " + path))
        )
        assert f"[default:{comp}.instant_payouts]: was {CONDITIONAL}; now " in line
        assert "not understood: " in line and "use_dashboard_rules" in line
    code, out, _ = diff(capsys, old, new, "--json")
    assert code == 1
    changes = json.loads(out)
    assert all(set(c) == {"kind", "severity", "path", "old", "new", "rule"} for c in changes)
    for comp in components:
        (change,) = [c for c in changes if c["rule"] == f"default:{comp}.instant_payouts"]
        assert change["severity"] == "breaking"
        assert change["old"]["rule"] == {
            "kind": "conditional",
            "when": {"controller.losses.payments": "stripe"},
            "then": True,
            "else": False,
        }
        if where == "both pages":  # the examples show false: that is all the contract knows now
            assert change["kind"] == "default changed"
            assert change["new"]["rule"] == {"kind": "constant", "value": False}
            assert change["new"]["grade"] == "example-only"
        else:
            assert change["kind"] == "default removed" and change["new"]["rule"] is None
        assert any("use_dashboard_rules" in s for s in change["new"]["not_understood"])


def test_a_rule_reworded_on_one_page_only_is_not_silent(capsys, old, pages, tmp_path):
    """The object page still states the rule, so the default is unchanged; the sentence the
    importer could not read is still breaking until someone reads it."""
    text = (pages / CREATE).read_text(encoding="utf-8")
    at = text.index(OLD_INSTANT_PAYOUTS[CREATE], text.index("`components.balances.features.instant_payouts`"))
    (pages / CREATE).write_text(
        text[:at] + NEW_INSTANT_PAYOUTS + text[at + len(OLD_INSTANT_PAYOUTS[CREATE]) :], encoding="utf-8"
    )
    code, out, _ = diff(capsys, old, imported(pages, tmp_path / "new"))
    assert code == 1, out
    (line,) = section(out, "breaking")
    assert line.startswith("rule not understood: components.balances.features.instant_payouts: ")
    assert "create_account_session.md#parameters" in line and "use_dashboard_rules" in line


def test_a_removed_feature_is_breaking(capsys, old, pages, tmp_path):
    drop_entry(pages / CREATE, "components.issuing_card.features.spend_control_management")
    edit_example(
        pages / CREATE,
        lambda b: b["components"]["issuing_card"]["features"].pop("spend_control_management"),
    )
    code, out, _ = diff(capsys, old, imported(pages, tmp_path / "new"))
    assert code == 1, out
    assert section(out, "breaking") == [
        "feature removed: components.issuing_card.features.spend_control_management:"
        " was boolean parameter and response field, defaults to false (example-only)"
    ]
    assert (
        "example changed: examples/create_account_session.response:"
        "body.components.issuing_card.features.spend_control_management: was false"
    ) in section(out, "notes")


def test_a_type_change_is_breaking(capsys, old, pages, tmp_path):
    edit(
        pages / CREATE,
        "`components.payments.features.capture_payments` (boolean,",
        "`components.payments.features.capture_payments` (string,",
    )
    edit(
        pages / OBJECT,
        "`components.payments.features.capture_payments` (boolean)",
        "`components.payments.features.capture_payments` (string)",
    )
    edit(pages / OBJECT, "`expires_at` (timestamp)", "`expires_at` (integer)")
    code, out, _ = diff(capsys, old, imported(pages, tmp_path / "new"))
    assert code == 1, out
    assert section(out, "breaking") == [
        "type changed: response.expires_at: was timestamp; now integer",
        "type changed: components.payments.features.capture_payments: was boolean; now string",
    ]


ONLY_PLATFORM = (
    "This value can only be `true` for accounts where `controller.requirement_collection` is"
    " `application` for the account. "
)


@pytest.mark.parametrize(
    ("change", "code", "severity", "expected"),
    [
        (
            "added",
            1,
            "breaking",
            "constraint added: components.payments.features.refund_management"
            " [constraint:payments.refund_management=true]:"
            " refund_management may be true only when controller.requirement_collection is application",
        ),
        (
            "removed",
            0,
            "additive",
            "constraint removed: components.issuing_cards_list.features.disable_stripe_user_authentication"
            " [constraint:issuing_cards_list.disable_stripe_user_authentication=true]: was"
            " disable_stripe_user_authentication may be true only when"
            " controller.requirement_collection is application",
        ),
        (
            "changed",
            1,
            "breaking",
            "constraint changed: components.issuing_cards_list.features.disable_stripe_user_authentication"
            " [constraint:issuing_cards_list.disable_stripe_user_authentication=true]: was"
            " disable_stripe_user_authentication may be true only when"
            " controller.requirement_collection is application; now disable_stripe_user_authentication"
            " may be true only when controller.requirement_collection is stripe",
        ),
    ],
)
def test_constraints(capsys, old, pages, tmp_path, change, code, severity, expected):
    """Added narrows what a client may send (breaking); removed widens it (additive)."""
    page = pages / CREATE
    entry = (
        "`components.issuing_cards_list.features.disable_stripe_user_authentication` (boolean, optional)\n"
    )
    prose = "        Whether Stripe user authentication is disabled. "
    if change == "added":
        refunds = "`components.payments.features.refund_management` (boolean, optional)\n"
        text = page.read_text(encoding="utf-8")
        end = text.index("\n", text.index(refunds) + len(refunds))
        at = end - len("This is `true` by default.")
        assert text[at:end] == "This is `true` by default."
        page.write_text(text[:at] + ONLY_PLATFORM + text[at:], encoding="utf-8")
    elif change == "removed":
        edit(page, entry + prose + ONLY_PLATFORM, entry + prose)
    else:
        edit(
            page,
            entry + prose + ONLY_PLATFORM,
            entry + prose + ONLY_PLATFORM.replace("`application`", "`stripe`"),
        )
    got, out, _ = diff(capsys, old, imported(pages, tmp_path / "new"))
    assert got == code, out
    assert expected in section(out, "breaking" if severity == "breaking" else "additive"), out


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (lambda d: shutil.rmtree(d), "no such directory"),
        (lambda d: (shutil.rmtree(d), d.mkdir()), "is not a contracts directory"),
        (lambda d: (d / "defaults.json").write_text("{"), "defaults.json is malformed"),
        (lambda d: (d / "constraints.json").unlink(), "constraints.json is missing"),
        (
            lambda d: (d / "components.json").write_text('{"payments": 1}'),
            "not a contract this version reads",
        ),
        (
            lambda d: (d / "defaults.json").write_text('{"payments.capture_payments": {"grade": "doc"}}'),
            "KeyError",
        ),
        (lambda d: (d / "fields.json").write_text('{"request": {"account": "string"}}'), "must be objects"),
    ],
)
@pytest.mark.parametrize("side", ["old", "new"])
def test_bad_input_exits_2_with_one_line(capsys, old, tmp_path, spoil, says, side):
    bad = tmp_path / "bad"
    shutil.copytree(old, bad)
    spoil(bad)
    args = (bad, old) if side == "old" else (old, bad)
    for extra in ((), ("--json",)):
        code, out, err = diff(capsys, *args, *extra)
        assert code == 2 and out == ""
        (line,) = err.splitlines()
        assert line.startswith("conformance: error: ") and says in line, line


def test_import_over_a_contract_prints_what_changed(capsys, pages, tmp_path):
    out = tmp_path / "contracts"
    capsys.readouterr()
    imported(pages, out)
    assert "changes from" not in capsys.readouterr().out  # nothing was there
    imported(pages, out)
    assert capsys.readouterr().out.splitlines()[-2:] == [
        f"changes from the contract {out} held before:",
        "  no changes",
    ]
    drop_entry(pages / CREATE, "components.issuing_card.features.spend_control_management")
    edit_example(
        pages / CREATE,
        lambda b: b["components"]["issuing_card"]["features"].pop("spend_control_management"),
    )
    imported(pages, out)  # the import itself succeeds: exit 0
    printed = capsys.readouterr().out.splitlines()
    assert "    feature removed: components.issuing_card.features.spend_control_management:" in "\n".join(
        printed
    )
    assert printed[-1] == "  2 change(s): 1 breaking, 0 additive, 1 notes"
    (out / "defaults.json").write_text("{")  # what was there cannot be read: imported anyway, said so
    imported(pages, out)
    captured = capsys.readouterr()
    assert "not compared" in captured.err and "defaults.json is malformed" in captured.err
    assert "changes from" not in captured.out
    assert json.loads((out / "defaults.json").read_text())
