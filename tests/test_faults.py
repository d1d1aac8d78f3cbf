"""The suites have teeth: `conformance run` against each fault-injected mock
exits 1 and names the broken rule; against a correct one it exits 0.

The hand-written suites name every fault of FAULTS, with no seed to decide it, so
that is what each fault's run is (a second or two); the generated suites' teeth are
shown on the faults only they catch (here, and in tests/test_fuzz.py), and whole
ci-budget runs on the correct mock and the independent server."""

from __future__ import annotations

import re

import pytest

from .faults import FAULTS, FUZZ_ONLY_FAULTS


def test_correct_mock_conforms(committed, serve, cli):
    """A whole ci-profile run against a correct server: it conforms, with no
    inconclusive check, and the server saw at most five accounts made, each deleted once."""
    from .hostile import Hostile

    server = Hostile(committed)
    run = cli("run", "--base-url", serve(server))
    assert run.code == 0, run.stdout[-3000:] + run.stderr
    summary = run.summary
    assert summary["verdict"] == "conforms" and summary["counts"]["failed"] == 0
    assert summary["counts"]["passed"] > 150 and summary["counts"]["inconclusive"] == 0
    assert 3 <= len(server.made) <= 5 and all(server.deletes(a) == 1 for a in server.made)
    assert summary["accounts"]["made"] == len(server.made) and not summary["accounts"]["left"]
    sent = sum(summary["requests"].values())
    assert sent == server.count - 2  # all but the two round trips conformance run measures first


HAND_WRITTEN = ["-m", "not fuzz and not schemathesis"]


def _category(contract, rule: str) -> str:
    """The category whose checks judge ``rule`` (a prefix ending in ":" names a family)."""
    from conformance.catalogue import catalogue

    (category,) = {
        r.category
        for rid, r in catalogue(contract).items()
        if rid == rule or (rule[-1:] == ":" and rid.startswith(rule))
    }
    return str(category)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault_is_caught(fault, committed, serve, cli):
    """The hand-written checks of the rule's own category name the fault (the other
    categories' checks would only add time: `make mutants` runs every suite on each)."""
    category = _category(committed, fault.rule)
    run = cli("run", "--base-url", serve(fault.build(committed)), "-m", category)
    assert run.code == 1, run.stdout[-3000:] + run.stderr
    named = run.failed_rules()
    assert any(
        rule == fault.rule or (fault.rule.endswith(":") and rule.startswith(fault.rule)) for rule in named
    ), f"{fault.name}: the suites named {sorted(named)}"
    assert run.summary["verdict"] == "does not conform"
    assert fault.rule.rstrip(":") in run.stdout


def test_independent_implementation_conforms(serve, cli):
    """A server written without the toolkit's code passes: the suites do not merely
    agree with their own mock."""
    from .independent import make_app

    run = cli("run", "--base-url", serve(make_app()))
    assert run.code == 0, run.stdout[-4000:] + run.stderr
    assert run.summary["counts"]["failed"] == 0


@pytest.mark.parametrize("fault", FUZZ_ONLY_FAULTS, ids=[f.name for f in FUZZ_ONLY_FAULTS])
def test_only_fuzzing_catches(fault, committed, serve, cli):
    """Two components together, or one archetype only: the hand-written suites
    pass, the generated cases find it and shrink it to a minimal request."""
    url = serve(fault.build(committed))
    core = cli("run", "--base-url", url, *HAND_WRITTEN)
    assert core.code == 0, core.stdout[-3000:]
    # the generated valid requests find it (the other fuzz checks would only add time); seed 1
    # shrinks both faults' failures in ~1.3 s of CPU, 1234 (the first one used) in ~2 s
    fuzzed = cli("run", "--base-url", url, "-m", "fuzz", "-k", "test_valid_requests", "--seed", "1")
    assert fuzzed.code == 1, fuzzed.stdout[-3000:] + fuzzed.stderr
    assert fault.rule in fuzzed.failed_rules()
    assert "minimal failing case after shrinking" in fuzzed.stdout
    assert re.search(r"--seed 1\b", fuzzed.stdout) and "curl" in fuzzed.stdout
