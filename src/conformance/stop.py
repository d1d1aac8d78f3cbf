"""A run stopped from outside (SIGINT, SIGTERM): the flag every request looks at.

The signal handler sets it and raises ``KeyboardInterrupt``; should that
exception land somewhere that swallows it (a weakref callback, a library's
``except``), the next request raises :class:`Interrupted` all the same, so a
stopped run never goes on and never blames the target.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from conformance.errors import RunAborted

__all__ = ["Interrupted", "clear", "install", "quiet_interrupts", "raise_if_stopped", "stop", "stopped"]

_reason: str | None = None
_lock = threading.Lock()


class Interrupted(RunAborted):
    verdict = "interrupted"


def stop(reason: str) -> None:
    global _reason
    with _lock:
        if _reason is None:
            _reason = reason


def stopped() -> str | None:
    return _reason


def clear() -> None:
    global _reason
    with _lock:
        _reason = None


def raise_if_stopped() -> None:
    if _reason is not None:
        raise Interrupted(_reason)


def install() -> Callable[[], None]:
    """Handle SIGINT and SIGTERM (main thread only): note the stop, then interrupt the
    main thread as Ctrl-C does. Returns a function that puts the old handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Any] = {}

    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        first = _reason is None
        stop(f"interrupted by {name}")
        if first:
            raise KeyboardInterrupt(name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handle)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def quiet_interrupts() -> Callable[[], None]:
    """Keep an interrupt that lands where it cannot propagate (a gc or weakref callback,
    in the controller or an xdist worker) from being printed as a traceback: the stop
    reaches the run all the same (the flag, the controller's shutdown). Every other
    unraisable exception goes on to the hook that was there. Returns the undo."""
    unraisable = sys.unraisablehook

    def quiet(info: Any) -> None:
        if isinstance(info.exc_value, KeyboardInterrupt):
            return
        unraisable(info)

    sys.unraisablehook = quiet

    def restore() -> None:
        if sys.unraisablehook is quiet:
            sys.unraisablehook = unraisable

    return restore
