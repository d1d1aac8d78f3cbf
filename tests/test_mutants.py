"""A fast subset of `make mutants`: each fault caught by name, each benign variant accepted."""

from __future__ import annotations

import pytest

from .conftest import run_in_process
from .mutants import MUTANTS, judge

SUBSET = [
    "default_false_answered_true",
    "external_account_collection_over_enforced",
    "unknown_feature_ignored",
    "refusals_stored",
    "expires_in_the_past",
    "no_request_id",
    "other_key_order",
    "other_error_wording",
    "lenient_booleans",
]


def test_catalogue_is_large_and_distinct():
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names))
    assert sum(m.kind == "fault" for m in MUTANTS) >= 40
    assert sum(m.kind == "benign" for m in MUTANTS) >= 8
    assert all(m.rules for m in MUTANTS if m.kind == "fault")
    assert set(SUBSET) <= set(names)


def _in_this_process(args: list[str], env: dict[str, str]) -> int:
    return run_in_process(args, env, timeout=600, inherit=False)[0]


@pytest.mark.parametrize("name", SUBSET)
def test_mutant(name, committed):
    mutant = next(m for m in MUTANTS if m.name == name)
    verdict = judge(mutant, committed, quick=True, run=_in_this_process)
    assert verdict.ok, f"{name}: exit {verdict.code}, rules named {sorted(verdict.named)}"
