"""Errors that end a check or a run with one clear line (no traceback)."""

from __future__ import annotations

__all__ = ["AccountSetupError", "SettingsError", "TargetUnreachable", "UnplayedRequest"]


class TargetUnreachable(Exception):
    """The target did not answer (refused, timed out, or dropped the connection)."""


class SettingsError(ValueError):
    """A setting that cannot work; the message is one line for the user."""


class AccountSetupError(RuntimeError):
    """The target could not create a connected account of an archetype."""


class UnplayedRequest(Exception):
    """Replaying: the suite sent a request its cassette holds no answer for."""
