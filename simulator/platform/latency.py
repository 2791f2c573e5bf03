"""How long a plugin call lasts in simulated time: the latency model.

A scenario's ``latency`` section says it: ``fixed`` seconds a call, the ``measured`` wall
time times a factor, or a duration sampled per operation (:class:`LatencyModel`). In the
measured mode, :class:`RunQueueClock` tells how long the harness waited for a CPU during
the call, so that a busy machine does not make a plugin look slow.
"""

from __future__ import annotations

import os
import random
import threading
import weakref
from typing import Any, Protocol

__all__ = ["LatencyModel", "LatencySettings", "RunQueueClock"]


class _Distribution(Protocol):
    def sample(self, rng: random.Random) -> float: ...


class LatencySettings(Protocol):
    """What the invoker needs of a scenario's ``latency`` section."""

    @property
    def mode(self) -> str: ...

    @property
    def fixed(self) -> float: ...

    @property
    def factor(self) -> float: ...

    @property
    def operations(self) -> Any: ...

    @property
    def default(self) -> Any: ...


class LatencyModel:
    """Turns a call into simulated seconds: fixed, measured wall time × factor, or sampled.

    Sampling uses its own ``random.Random`` so that the number of calls to other
    random streams never shifts it.
    """

    def __init__(self, settings: LatencySettings, rng: random.Random) -> None:
        self.mode = settings.mode
        self.fixed = float(settings.fixed)
        self.factor = float(settings.factor)
        self._ops: dict[str, _Distribution] = dict(settings.operations)
        self._default: _Distribution = settings.default
        self._rng = rng

    @property
    def deterministic(self) -> bool:
        """False when simulated durations follow measured wall time."""
        return self.mode != "measured"

    def duration(self, op: str, wall_s: float) -> float:
        """Simulated seconds for a call of ``op`` that took ``wall_s`` wall seconds."""
        if self.mode == "fixed":
            return self.fixed
        if self.mode == "measured":
            return wall_s * self.factor
        return max(0.0, self._ops.get(op, self._default).sample(self._rng))


class RunQueueClock:
    """How long the calling thread has waited for a CPU while runnable (Linux only).

    The ``measured`` latency mode subtracts this from a call's wall time, so that other
    processes on a busy machine preempting the harness do not make checks look long:
    what remains is the time the plugin ran or blocked (on I/O, a child process, a
    lock). It reads the run-queue delay of ``/proc/thread-self/schedstat``, which the
    kernel updates whenever the thread gets a CPU back. Elsewhere, or from another
    thread than the one that built it, :meth:`read` returns ``None`` and wall time is
    used as is.
    """

    def __init__(self) -> None:
        self._thread = threading.get_ident()
        self._fd: int | None = None
        try:
            self._fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
            int(os.pread(self._fd, 128, 0).split()[1])
        except (OSError, ValueError, IndexError):
            if self._fd is not None:
                os.close(self._fd)
            self._fd = None
        if self._fd is not None:
            weakref.finalize(self, os.close, self._fd)

    def read(self) -> float | None:
        """Seconds this thread has waited on a run queue so far, or None if unknown."""
        if self._fd is None or threading.get_ident() != self._thread:
            return None
        try:
            return int(os.pread(self._fd, 128, 0).split()[1]) * 1e-9
        except (OSError, ValueError, IndexError):
            return None
