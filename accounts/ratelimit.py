"""Failed logins, limited: after `max_failures` failures within `window_s` seconds for one user name,
or from one client address, further attempts are refused until the oldest failure is that old.

Refused attempts do not check the password at all, so guessing costs the guesser the window, not
the server a bcrypt each. In memory, per server process: each app host counts its own.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from accounts.errors import TooManyAttempts


class LoginLimiter:
    def __init__(self, max_failures: int = 5, window_s: float = 60.0, clock=time.monotonic):
        self.max_failures, self.window_s, self.clock = max_failures, window_s, clock
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def check(self, user: str, address: str) -> None:
        """Raise TooManyAttempts if this user or this address failed too often lately."""
        if self.max_failures <= 0:
            return
        now = self.clock()
        with self._lock:
            for key in (f"user:{user}", f"addr:{address}"):
                failures = self._recent(key, now)
                if len(failures) >= self.max_failures:
                    wait = max(1, math.ceil(failures[0] + self.window_s - now))
                    raise TooManyAttempts(f"Too many failed logins lately; try again in {wait} s.", retry_after=wait)

    def failed(self, user: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in (f"user:{user}", f"addr:{address}"):
                self._recent(key, now).append(now)
            if len(self._failures) > 10_000:  # forget keys with no recent failure
                for key in [k for k, q in self._failures.items() if not self._recent(k, now)]:
                    del self._failures[key]

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{user}", None)
