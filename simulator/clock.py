"""Clocks: simulated time over a SimPy environment, and wall time for real-time runs.

Simulated time in the environment is a float of seconds since the world's start
instant. :class:`SimClock` turns it into aware UTC datetimes for plugins and the
backup system, and back.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import simpy

__all__ = ["DEFAULT_START", "SimClock", "WallClock", "hold"]

#: Where simulated time starts unless a scenario says otherwise: a Monday, 00:00 UTC.
DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)


def hold(env: simpy.Environment, delay: float) -> simpy.Event | None:
    """Let ``delay`` seconds of simulated time pass for the calling process.

    Returns the timeout to yield, or ``None`` when the time has already passed: if no
    event is scheduled at or before ``now + delay``, nothing else can happen meanwhile
    (only a running process schedules events, and the caller is the one running), so
    the clock is moved on at once. The caller's next step, and every other event's order
    and time, are the same as after yielding a timeout; what is saved is the event: a
    plugin call holds simulated time, and a check at fleet scale makes thousands of
    calls in a row with nothing else due (docs/performance.md). Yield the result only
    when it is not ``None``::

        wait = hold(env, duration)
        if wait is not None:
            yield wait
    """
    end = env._now + delay
    if env.peek() > end:
        env._now = end  # the instant a timeout would have resumed the caller at
        return None
    return env.timeout(delay)


class SimClock:
    """The current simulated instant of ``env``, starting at ``start``.

    ``now()`` is what a plugin sees through ``PluginContext.clock``.
    """

    def __init__(self, env: simpy.Environment, start: datetime = DEFAULT_START) -> None:
        if start.tzinfo is None:
            raise ValueError(f"start must be timezone-aware, got naive {start.isoformat()}")
        self.env = env
        self.start = start.astimezone(UTC)
        # One-entry cache: a task or a check asks the time many times at one instant.
        self._at: float | None = None
        self._instant = self.start

    def now(self) -> datetime:
        """The current simulated instant, aware UTC."""
        t = float(self.env.now)
        if t != self._at:
            self._at = t
            self._instant = self.start + timedelta(seconds=t)
        return self._instant

    def at(self, seconds: float) -> datetime:
        """The instant ``seconds`` of simulated time after the start."""
        return self.start + timedelta(seconds=seconds)

    def seconds(self, instant: datetime) -> float:
        """Simulated seconds from the start to ``instant`` (negative before the start)."""
        return (instant - self.start).total_seconds()


class WallClock:
    """The real current instant, for runs against real backup systems."""

    def now(self) -> datetime:
        """The current wall-clock instant, aware UTC."""
        return datetime.now(UTC)

    @staticmethod
    def monotonic() -> float:
        """A monotonic reading in seconds, for measuring durations."""
        return time.perf_counter()
