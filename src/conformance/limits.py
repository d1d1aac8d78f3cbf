"""What a request may cost: the limits a run sets (timeout, deadline, answer size,
retries, a budget of waiting), the rate cap, and when and how long to retry."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx

__all__ = ["Limits", "Pace", "retry_delay", "transient"]

_RETRY_STATUSES = (502, 503)


@dataclass(frozen=True)
class Limits:
    timeout: float = 15.0  # seconds a request may take, body included
    deadline: float | None = None  # time.time() after which nothing more is sent
    max_body: int = 1024 * 1024  # bytes of an answer that are read
    max_depth: int = 64  # levels of JSON nesting that are walked
    throttle_budget: float = 120.0  # seconds this process may wait on 429s and retried 5xx
    max_connect: int = 2  # retries of a request the target did not answer, before it is dead
    retries_5xx: int = 2  # retries of a 502/503 or a 5xx with Stripe-Should-Retry: true


class Pace:
    """At most ``rate`` requests per second across threads (None: no cap)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next)
            self.next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


def transient(status: int, headers: httpx.Headers) -> bool:
    """A 502/503 (a proxy's, a deploy's), or a 5xx the server marks worth retrying."""
    should = (headers.get("stripe-should-retry") or "").lower()
    if should == "false":
        return False
    return status in _RETRY_STATUSES or (status >= 500 and should == "true")


def retry_delay(retry_after: object, attempt: int) -> float:
    """Seconds to wait before a retry: ``Retry-After`` when it is a number, else
    exponential backoff; never under 50 ms or over 10 s."""
    try:
        wait = float(str(retry_after))
    except ValueError:
        wait = 0.25 * 2**attempt
    if wait != wait:  # NaN
        wait = 0.25 * 2**attempt
    return max(0.05, min(wait, 10.0))
