"""The words results are told in: what a check's records are kept under, the outcomes
a check can have, and the verdicts a run can reach. Standard library only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "ABORTED",
    "CATEGORY_KEY",
    "FAILING_CASE",
    "INCONCLUSIVE_PREFIX",
    "NOT_RUN_PREFIX",
    "OUTCOMES",
    "RECORD",
    "TRAFFIC",
    "VERDICTS",
    "first_inconclusive",
]

RECORD = "conformance"  # user_properties key of what a check recorded (a dict)
CATEGORY_KEY = "conformance_category"  # user_properties key of a check's category
TRAFFIC = "conformance_traffic"  # user_properties key: {"sent": {route: n}, "retried": {cause: n}}
ABORTED = "conformance_aborted"  # user_properties key: [verdict, message] of a run that cannot go on
FAILING_CASE = "failing_case"  # record key: a failed generated check's case, redacted, to re-send
NOT_RUN_PREFIX = "not run: "  # a skip reason so prefixed: the target lacks what the check needs
INCONCLUSIVE_PREFIX = "inconclusive: "  # ...: the check could not judge

# a check's outcome, best first; a check that ran twice (merged shards) keeps the worse
# (accepted: failed, every failure matched by a live entry of the baseline)
OUTCOMES = ("passed", "skipped", "warning", "accepted", "inconclusive", "not run", "failed")
# a run's verdict -> its exit code
VERDICTS = {
    "conforms": 0,
    "does not conform": 1,
    "inconclusive": 1,
    "unreachable": 2,
    "interrupted": 2,
    "aborted": 2,
    "error": 2,
}


def first_inconclusive(properties: Iterable[tuple[str, Any]]) -> str | None:
    """The first inconclusive finding a check recorded, as one line; None if none."""
    for key, record in properties:
        if key != RECORD or not isinstance(record, dict):
            continue
        for finding in record.get("findings", []):
            if finding.get("severity") == "inconclusive":
                return f"{finding.get('expected')} -- {finding.get('path')} ({finding.get('rule')})"
    return None
