"""Interrupts of the harness, told apart from a plugin's own ``KeyboardInterrupt``.

An in-process plugin shares the harness's interpreter, so a ``KeyboardInterrupt`` that
reaches the invoker may be a user's Ctrl-C or the plugin's own ``raise``. The harness's
signal handler raises :class:`HarnessInterrupt`, a subclass, for SIGINT and (in the
command line) SIGTERM; the invoker lets only that through, and judges any other
``KeyboardInterrupt`` (or ``SystemExit``) raised during a call as the plugin's.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["HarnessInterrupt", "PluginStoppedAnswering", "RunDeadline", "harness_interrupts"]


class HarnessInterrupt(KeyboardInterrupt):
    """A signal asked the harness to stop (SIGINT, or SIGTERM from the command line)."""

    def __init__(self, signum: int) -> None:
        # ``args`` is ``(signum,)``: SimPy rebuilds an exception from its args when it
        # leaves a process.
        super().__init__(signum)
        self.signum = signum

    def __str__(self) -> str:
        return f"interrupted by {signal.Signals(self.signum).name}"


class PluginStoppedAnswering(BaseException):
    """A plugin method missed its wall-clock deadline several times in a row: the
    scenario stops there, its remaining rules not exercised, and the run goes on.

    A ``BaseException``, like ``KeyboardInterrupt``, so that no ``except Exception`` on
    the way out of the simulation holds it up.
    """

    def __init__(self, op: str, misses: int, timeout_s: float) -> None:
        super().__init__(op, misses, timeout_s)
        self.op = op
        self.misses = misses
        self.timeout_s = timeout_s

    def __str__(self) -> str:
        return (
            f"the plugin stopped answering: {self.op} missed its {self.timeout_s:g} s "
            f"deadline {self.misses} times in a row"
        )


class RunDeadline(BaseException):
    """The run reached its ``--max-wall`` limit: every world stops where it is."""

    def __init__(self, max_wall_s: float) -> None:
        super().__init__(max_wall_s)
        self.max_wall_s = max_wall_s

    def __str__(self) -> str:
        return f"--max-wall {self.max_wall_s:g} s reached"


def _raise(signum: int, frame: FrameType | None) -> None:
    raise HarnessInterrupt(signum)


@contextmanager
def harness_interrupts(*, sigterm: bool = False) -> Iterator[None]:
    """While inside, SIGINT (and SIGTERM if asked) raise :class:`HarnessInterrupt`.

    Only on the main thread (elsewhere signals cannot be handled), and a handler that
    someone else installed is left alone: SIGINT is taken over only from Python's
    default, SIGTERM only from the system's. The previous handlers come back on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, Any] = {}
    wanted: list[tuple[signal.Signals, Any]] = [(signal.SIGINT, signal.default_int_handler)]
    if sigterm:
        wanted.append((signal.SIGTERM, signal.SIG_DFL))
    for signum, default in wanted:
        if signal.getsignal(signum) in (default, _raise):
            previous[signum] = signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
