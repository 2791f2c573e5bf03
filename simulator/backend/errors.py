"""The error the fake backup system answers with, its kinds, and its own failure."""

from __future__ import annotations

from typing import Any, Literal, get_args

from simulator.faults import HarnessError

__all__ = ["BackupSystemError", "BackupSystemFault", "ErrorKind"]

ErrorKind = Literal["unreachable", "auth", "unavailable", "not_found", "not_restorable", "invalid"]
_KINDS: frozenset[str] = frozenset(get_args(ErrorKind))


class BackupSystemError(Exception):
    """An error the fake backup system answers with.

    ``kind`` is one of ``unreachable`` (no system at that endpoint), ``auth`` (wrong
    credentials), ``unavailable`` (an outage, or the system was shut down), ``not_found``
    (unknown VM or backup id), ``not_restorable`` (backup not done, or expired) and
    ``invalid`` (a malformed request, or a call on a closed session).
    """

    def __init__(self, kind: ErrorKind, message: str) -> None:
        if kind not in _KINDS:
            raise ValueError(
                f"unknown BackupSystemError kind {kind!r}; use one of {sorted(_KINDS)}"
            )
        super().__init__(f"{kind}: {message}")
        self.kind: ErrorKind = kind
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.kind, self.message))


class BackupSystemFault(HarnessError):
    """The fake backup system failed in its own arithmetic: a harness error, never a plugin's.

    A session call answers, or raises :class:`BackupSystemError` for a request the system
    refuses, or raises this when its own computation overflows (a setting or a clock out
    of the range the system represents). The invoker lets it through, so that the run
    ends as a harness error instead of blaming the plugin that made the call.
    """

    def __init__(self, call: str, detail: str) -> None:
        # The arguments are the args, so that a copy (SimPy re-raises one) is equal.
        super().__init__(call, detail)
        self.call = call
        self.detail = detail

    def __str__(self) -> str:
        return (
            f"the fake backup system failed in its own arithmetic during {self.call}: "
            f"{self.detail} (a fault of bpcert's backend or of its settings, not of the plugin)"
        )
