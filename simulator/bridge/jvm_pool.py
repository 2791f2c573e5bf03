"""Warm bridge JVMs for ``jar:`` plugins: the JVM of a closed plugin instance serves the next.

A JVM takes a second or more to start; a check builds a handful of plugin instances per
world. :class:`JvmPool` keeps the JVM of a closed instance idle for the next instance of
the same command line, while each instance still has a process of its own
(:mod:`simulator.bridge.jvm` starts them through :data:`POOL`).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from simulator.bridge.child import ChildProcess
from simulator.bridge.process import ChildSource

__all__ = ["POOL", "READY", "JvmPool"]


class JvmPool(ChildSource):
    """Warm bridge JVMs: the JVM of a closed plugin instance serves the next instance.

    A JVM is in use by one instance at a time, so the components of a world each still
    have a process (and a crash or a hang takes down only its own). When an instance
    closes, the bridge (started with ``--reuse``) drops the instance and its class loader,
    puts back the JVM-wide state it changed, prints :data:`READY` to stderr and answers
    ``shutdown`` with ``{"reused": true}``; the JVM then waits here, idle, for the next
    instance of the same command line. The stderr tail it hands out holds only what came
    after :data:`READY`, and its request ids start again at 1, so a warm JVM looks to the
    next instance exactly like a new one. A bridge that cannot vouch for a clean JVM (the
    plugin left a thread running) answers null and exits, and the next instance gets a
    new JVM. ``started`` and ``reused`` count both kinds of acquisition.
    """

    #: How many idle JVMs are kept per command line (a world holds about four instances).
    MAX_IDLE = 6
    #: How long to wait for :data:`READY` on stderr after the ``shutdown`` answer.
    READY_WAIT_S = 2.0

    def __init__(self) -> None:
        self._idle: dict[tuple[str, ...], list[ChildProcess]] = {}
        self._lock = threading.Lock()
        self.started = 0
        self.reused = 0

    def acquire(self, argv: tuple[str, ...], cwd: Path | None) -> ChildProcess:
        """An idle JVM of ``argv`` that is still alive, else a new one."""
        with self._lock:
            idle = self._idle.get(tuple(argv), [])
            while idle:
                child = idle.pop()
                if child.popen.poll() is None and _quiet(child):
                    self.reused += 1
                    child.next_id = 1
                    return child
                child.kill()
            self.started += 1
        return ChildProcess(argv, cwd)

    def release(self, child: ChildProcess, shutdown_answer: object) -> None:
        """Keep ``child`` idle when its bridge said it is ready for another instance."""
        if shutdown_answer == {"reused": True} and self._ready(child):
            with self._lock:
                idle = self._idle.setdefault(child.argv, [])
                if len(idle) < self.MAX_IDLE:
                    idle.append(child)
                    return
        super().release(child, shutdown_answer)

    def _ready(self, child: ChildProcess) -> bool:
        """Wait for :data:`READY` on stderr and drop the tail up to it (the ended instance's)."""
        deadline = time.monotonic() + self.READY_WAIT_S
        while not _has_ready(child):
            if time.monotonic() > deadline or child.popen.poll() is not None:
                return False
            time.sleep(0.002)
        while child.stderr_tail and child.stderr_tail.popleft() != READY:
            pass
        return _quiet(child)

    def close(self) -> None:
        """Stop every idle JVM (they are also killed when the harness exits)."""
        with self._lock:
            idle = [c for children in self._idle.values() for c in children]
            self._idle.clear()
        for child in idle:
            child.stop(0.5)


#: The stderr line with which a reused bridge ends an instance (``Main.READY``).
READY = "bpcert bridge: ready for a new plugin instance"


def _quiet(child: ChildProcess) -> bool:
    """Whether ``child`` has no stdout pending (a line no request asked for, or its end)."""
    return child.receive(0.0) is None


def _has_ready(child: ChildProcess) -> bool:
    """Whether :data:`READY` is in the stderr tail, which its reader thread appends to."""
    try:
        return READY in child.stderr_tail
    except RuntimeError:  # appended to while compared: look again
        return False


#: The JVMs of every ``jar:`` plugin of this process.
POOL = JvmPool()
