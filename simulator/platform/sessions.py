"""The ``openSession`` slots of a backup manager (``abiquo.virtualfactory.backup.openSession``)."""

from __future__ import annotations

from collections import deque

import simpy

__all__ = ["SessionPool"]


class SessionPool:
    """The ``openSession`` slots of a backup manager: a FIFO of callers, ``capacity`` at once.

    It behaves as a ``simpy.Resource`` of that capacity, but costs no SimPy event when a
    slot is free (:meth:`acquire` returns ``None``) and one when a waiter is handed the
    slot of a caller that leaves: at fleet scale, sessions are taken millions of times.
    """

    __slots__ = ("_waiters", "capacity", "env", "in_use")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"a session pool needs a capacity of at least 1, got {capacity}")
        self.env = env
        self.capacity = capacity
        self.in_use = 0
        self._waiters: deque[simpy.Event] = deque()

    @property
    def waiting(self) -> int:
        """How many callers wait for a slot."""
        return len(self._waiters)

    def acquire(self) -> simpy.Event | None:
        """Take a slot now (``None``), or get an event that fires when one is yours."""
        if self.in_use < self.capacity and not self._waiters:
            self.in_use += 1
            return None
        event = self.env.event()
        self._waiters.append(event)
        return event

    def release(self) -> None:
        """Give the slot back, straight to the first waiter if there is one."""
        if self._waiters:
            self._waiters.popleft().succeed()
        else:
            self.in_use -= 1
