"""The wall-clock watchdog that interrupts a hung in-process plugin call."""

from __future__ import annotations

import importlib
import os
import signal
import threading
from typing import Any

__all__ = ["CallTimeout", "Watchdog"]


class CallTimeout(BaseException):
    """Raised inside a hung in-process plugin by the wall-clock watchdog.

    A ``BaseException`` so that a plugin's ``except Exception`` cannot swallow it.
    """


# The C module behind ``signal``: the same calls without the enum conversions of the
# Python wrapper, which cost four times the two system calls themselves.
try:
    _sig: Any = importlib.import_module("_signal")
except ImportError:  # pragma: no cover - every CPython has it
    _sig = signal


_HAS_ITIMER = hasattr(signal, "setitimer")
_MAIN_THREAD = threading.main_thread().ident


class _Alarm:
    """The process's ``SIGALRM`` state as the watchdogs share it.

    Installing a handler costs two system calls and the signal module's bookkeeping, as
    much again as arming the timer, so it is installed once and left in place:
    :func:`_fire` raises :class:`CallTimeout` only while a call is armed, and otherwise
    passes the signal on to the handler it replaced (another user of ``SIGALRM``, such
    as a test timeout, keeps working). Whoever replaces it later is replaced in turn at
    the next armed call, and forwarded to.
    """

    armed = False
    previous: Any = signal.SIG_DFL


def _fire(signum: int, frame: Any) -> None:
    if _Alarm.armed:
        raise CallTimeout()
    previous = _Alarm.previous
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_DFL:  # what SIGALRM would have done: end the process
        _sig.signal(signal.SIGALRM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGALRM)


class Watchdog:
    """Interrupts a hung in-process call with :class:`CallTimeout` after ``seconds``.

    Uses ``SIGALRM`` on the main thread (a timer armed and disarmed a call, see
    :class:`_Alarm`); elsewhere it only measures, and a hang cannot be interrupted
    (use ``--isolation process``).
    """

    __slots__ = ("armed", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.armed = False

    def __enter__(self) -> Watchdog:
        if self.seconds > 0 and _HAS_ITIMER and threading.get_ident() == _MAIN_THREAD:
            if _sig.getsignal(signal.SIGALRM) is not _fire:
                _Alarm.previous = _sig.signal(signal.SIGALRM, _fire)
            _Alarm.armed = self.armed = True
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _Alarm.armed = self.armed = False
