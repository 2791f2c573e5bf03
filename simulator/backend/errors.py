"""The error the fake backup system answers with, and its kinds."""

from __future__ import annotations

from typing import Any, Literal, get_args

__all__ = ["BackupSystemError", "ErrorKind"]

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
