"""The pytest plugin as another project loads it: by its entry point, beside other
plugins, with its own fixtures in a team's own tests, and the suites as a package."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")


def test_help_shows_the_options_in_their_own_group(pytester: pytest.Pytester):
    result = pytester.runpytest_inprocess("--help")
    text = result.stdout.str()
    group = text.split("conformance: Stripe Account Sessions conformance checks:", 1)
    assert len(group) == 2, text[-3000:]
    for flag in (
        "--conformance-base-url",
        "--conformance-api-key",
        "--conformance-timeout",
        "--conformance-seed",
    ):
        assert flag in group[1]
    assert "--record-mode" not in group[1].split("\n\n", 1)[0].replace("--conformance-record-mode", "")


def test_it_coexists_with_pytest_recording(pytester: pytest.Pytester):
    pytest.importorskip("pytest_recording")
    result = pytester.runpytest_inprocess("--help")
    text = result.stdout.str()
    assert "--record-mode" in text and "--conformance-record-mode" in text  # theirs and ours
    assert result.ret == 0


def test_a_teams_own_test_uses_the_fixtures(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_ours="""
        def test_our_fake_answers_like_stripe(conformance_check, conformance_accounts, conformance_client):
            account = conformance_accounts["express"]
            exchange = conformance_check.session(
                {"account": account.id, "components": {"payments": {"enabled": True}}}, focus=["payments"]
            )
            assert exchange.status == 200
            assert conformance_client.retrieve_account(account.id).status == 200

        def test_a_second_mock_for_comparisons(conformance_mock_url):
            assert conformance_mock_url.startswith("http://127.0.0.1:")

        def test_an_argument_named_component_is_ours_to_give(component="mine"):
            assert component == "mine"  # the plugin parametrizes nothing outside its suites
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert "DOES NOT CONFORM" not in result.stdout.str()


def test_a_teams_failing_test_is_their_failure_not_the_targets(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_ours="""
        def test_plain():
            assert 1 + 1 == 3
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "assert (1 + 1) == 3" in out or "assert 2 == 3" in out
    assert "verdict:" not in out and not (pytester.path / "reports").exists()


def test_the_suites_run_from_anywhere_and_report_in_the_working_directory(pytester: pytest.Pytester):
    result = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-m", "conformance_shape", "-p", "no:cacheprovider"
    )
    assert result.ret == 0, result.stdout.str()[-3000:]
    summary = json.loads((pytester.path / "reports" / "summary.json").read_text())
    assert summary["verdict"] == "conforms" and {c["category"] for c in summary["checks"]} == {"shape"}
    assert "conformance target: embedded mock" in result.stdout.str()


def test_long_checks_start_each_workers_share():
    """Spread over workers, each worker's contiguous share (what work stealing hands out)
    begins with a long check, so none is left to start last; every check is kept once."""
    from conformance.pytest.collection import spread

    items = [f"short{i}" for i in range(40)] + ["long-a", "long-b", "long-c", "long-d", "long-e"]
    spread_out = spread(items, lambda item: item.startswith("long"), 4)
    assert sorted(spread_out) == sorted(items)
    share = -(-len(items) // 4)
    firsts = [spread_out[i * share] for i in range(4)]
    assert all(first.startswith("long") for first in firsts), firsts
    assert spread(items, lambda item: item.startswith("long"), 1) == items
