"""Generation one request at a time: a first-come, first-served line in front of the model.

Each request takes a ticket; `position` says how many are ahead of it (0: its turn). A request
that gives up (its client disconnected) leaves the line and those behind it move up.
"""

from __future__ import annotations

import itertools
import threading
from contextlib import contextmanager
from typing import Callable, Iterator


class Cancelled(Exception):
    """The client went away: its place in the line, or its generation, is given up."""


class GenerationQueue:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._line: list[int] = []
        self._numbers = itertools.count(1)

    def join(self) -> int:
        with self._cond:
            ticket = next(self._numbers)
            self._line.append(ticket)
            return ticket

    def position(self, ticket: int) -> int:
        with self._cond:
            return self._line.index(ticket) if ticket in self._line else -1

    def waiting(self) -> int:
        with self._cond:
            return max(0, len(self._line) - 1)

    def wait_turn(
        self, ticket: int, cancelled: threading.Event, on_position: Callable[[int], None] | None = None
    ) -> None:
        """Block until `ticket` is first in line; raise Cancelled (having left the line) if `cancelled` is set."""
        last = None
        with self._cond:
            while True:
                if cancelled.is_set():
                    self._remove(ticket)
                    raise Cancelled()
                place = self._line.index(ticket)
                if place != last and on_position:
                    on_position(place)
                last = place
                if place == 0:
                    return
                self._cond.wait(timeout=0.2)

    def leave(self, ticket: int) -> None:
        with self._cond:
            self._remove(ticket)

    def _remove(self, ticket: int) -> None:
        if ticket in self._line:
            self._line.remove(ticket)
            self._cond.notify_all()

    @contextmanager
    def turn(self, cancelled: threading.Event, on_position: Callable[[int], None] | None = None) -> Iterator[None]:
        ticket = self.join()
        try:
            self.wait_turn(ticket, cancelled, on_position)
            yield
        finally:
            self.leave(ticket)
