"""Errors that end a check or a run with one clear line (no traceback).

Two families: a check that cannot or need not run (:class:`CheckSkipped`,
:class:`NotRun`) ends that check only; a run that cannot go on
(:class:`RunAborted` and its kinds) ends the run. The latter derive from
``BaseException``, as ``KeyboardInterrupt`` does, so that nothing on the way
(hypothesis's shrinking above all) mistakes them for a failed case and retries.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccountSetupError",
    "CheckSkipped",
    "ConformanceFailure",
    "NotRun",
    "RunAborted",
    "SettingsError",
    "TargetUnreachable",
    "UnplayedRequest",
]


class ConformanceFailure(AssertionError):
    """A check found broken rules; the message (redacted) names each rule, expected
    and received, the request and a ``curl`` to replay it. ``outcome`` holds the findings."""

    def __init__(self, message: str, outcome: Any) -> None:
        super().__init__(message)
        self.message = message
        self.outcome = outcome


class SettingsError(ValueError):
    """A setting that cannot work; the message is one line for the user."""


class CheckSkipped(Exception):
    """The check does not apply here (every archetype satisfies this constraint, say)."""


class NotRun(CheckSkipped):
    """The check needs something the target does not have (an endpoint, an account): it
    is reported *not run* for that reason, which the run's verdict accounts for."""


class AccountSetupError(NotRun):
    """The target could not create a connected account of an archetype."""


class UnplayedRequest(Exception):
    """Replaying: the suite sent a request its cassette holds no answer for."""


class RunAborted(BaseException):
    """The run cannot go on (the target is gone, throttles without end, the run is out
    of time or was interrupted). The message is the one line the user sees."""

    verdict = "aborted"


class TargetUnreachable(RunAborted):
    """The target did not answer (refused, timed out, or dropped the connection)."""

    verdict = "unreachable"
