"""The run's trace: one JSON object a line, streamed to disk, and an in-process bus.

Every line has ``seq`` (1, 2, ...), ``t`` (simulated seconds) and ``kind``. The kinds
and their fields are documented in ``docs/trace.md``. Lines are written as they
happen, so memory stays bounded however long the run.

Observers (the conformance checkers, the metrics collector) subscribe to the same
records in process and receive the full Python objects (arguments and returns of
calls), which the file only summarises.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Literal

import orjson

__all__ = ["TRACE_KINDS", "OutputError", "TraceLevel", "TraceWriter", "microseconds"]

TRACE_KINDS = (
    "call",
    "task",
    "poll",
    "event",
    "lock",
    "rejection",
    "rollback",
    "sync",
    "assignment",
    "backend",
)
TraceLevel = Literal["full", "calls", "off"]
#: Kinds written at each level. ``calls`` leaves out the per-result ``event`` lines, the
#: ``lock`` lines, which dominate at fleet scale, and the per-VM ``assignment`` lines.
_LEVEL_KINDS: dict[str, frozenset[str]] = {
    "full": frozenset(TRACE_KINDS),
    "calls": frozenset({"call", "task", "poll", "rejection", "rollback", "sync", "backend"}),
    "off": frozenset(),
}


_LINE_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
#: The fallback for what orjson refuses (an integer beyond 64 bits, a named tuple, a lone
#: surrogate in a plugin's message): slower, and ASCII so that any str can be written.
_ENCODE_FALLBACK = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode


def _encode_line(record: dict[str, Any]) -> bytes:
    """One trace line, UTF-8, newline-terminated.

    orjson encodes a line about ten times faster than the json module, which matters at
    fleet scale (a datacenter of ``bpcert load`` writes some 185,000 lines a month).
    """
    try:
        return orjson.dumps(record, option=_LINE_OPTIONS)
    except TypeError:
        return (_ENCODE_FALLBACK(record) + "\n").encode("ascii")


class OutputError(Exception):
    """A run's output could not be written: ``path`` and the system's ``cause``.

    What a full disk, a read-only file system or a missing permission raises from the
    trace writer or the report writers; the command line makes it a usage error.
    """

    def __init__(self, path: str, cause: str) -> None:
        # ``args`` are the constructor's: SimPy rebuilds an exception from its args.
        super().__init__(path, cause)
        self.path = path
        self.cause = cause

    def __str__(self) -> str:
        return f"{self.path}: cannot write ({self.cause})"

    @classmethod
    def of(cls, path: Path | str, exc: OSError) -> OutputError:
        """The error for ``exc``, raised while writing ``path``."""
        return cls(str(path), exc.strerror or type(exc).__name__)


def microseconds(value: Any) -> Any:
    """``value`` rounded as a trace line writes it: a float to 6 decimals, else as is."""
    return round(value, 6) if isinstance(value, float) else value


class TraceWriter:
    """Streams trace lines to ``path`` (or nowhere) and fans them out to listeners.

    ``emit`` takes the kind, the simulated time and the fields in the order they are
    to appear; floats are rounded to microseconds so the bytes are stable.
    """

    def __init__(self, path: Path | None = None, *, level: TraceLevel = "full") -> None:
        if level not in _LEVEL_KINDS:
            raise ValueError(f"trace level must be one of {sorted(_LEVEL_KINDS)}, got {level!r}")
        self.path = path
        self.level = level
        self._kinds = _LEVEL_KINDS[level]
        self._file: IO[bytes] | None = None
        #: The write that failed (a full disk), once one has: the file is then closed.
        self.failed: OutputError | None = None
        if path is not None and level != "off":
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._file = path.open("wb")
            except OSError as exc:
                raise OutputError.of(path, exc) from None
        self.seq = 0
        self.counts: dict[str, int] = dict.fromkeys(TRACE_KINDS, 0)
        self._listeners: list[Callable[[dict[str, Any]], None]] = []

    def subscribe(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Call ``listener`` with every record (also those the level does not write)."""
        self._listeners.append(listener)

    def wants(self, kind: str) -> bool:
        """Whether a line of ``kind`` is read by anyone (the file or a listener).

        Hot paths ask first and call :meth:`count` instead of building the fields of a
        line nobody reads; ``seq`` and the counts stay exactly as :meth:`emit` keeps them.
        """
        return bool(self._listeners) or (self._file is not None and kind in self._kinds)

    def count(self, kind: str) -> int:
        """Number and count a line of ``kind`` and return its ``seq``, writing nothing.

        Hot paths call it for a line nobody reads (see :meth:`wants`); :meth:`emit`
        numbers every line through it.
        """
        self.seq += 1
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return self.seq

    def count_many(self, kind: str, n: int) -> None:
        """Number and count ``n`` lines of ``kind`` nobody reads, as ``n`` :meth:`count` calls."""
        if n:
            self.seq += n
            self.counts[kind] = self.counts.get(kind, 0) + n

    def emit(self, kind: str, t: float, **fields: Any) -> int:
        """Record one line and return its ``seq``."""
        if not self.wants(kind):
            return self.count(kind)  # nobody reads this line: number it, build nothing
        record: dict[str, Any] = {"seq": 0, "t": round(t, 6), "kind": kind}
        record.update(fields)
        for key, value in fields.items():
            if isinstance(value, float):
                record[key] = round(value, 6)
        return self.emit_record(record)

    def emit_record(self, record: dict[str, Any]) -> int:
        """Record one line the caller built whole, and return its ``seq``.

        For the lines written most (every plugin call and every task): ``record`` holds
        ``seq`` (any value; it is set here), ``t`` and ``kind`` first, then the fields,
        each float already rounded as :meth:`emit` rounds it (:func:`microseconds`).
        The same line as :meth:`emit` would write, without building it twice. Callers
        ask :meth:`wants` first and :meth:`count` a line nobody reads.
        """
        kind = record["kind"]
        seq = record["seq"] = self.count(kind)
        if self._file is not None and kind in self._kinds:
            try:
                self._file.write(_encode_line(record))
            except OSError as exc:
                raise self._fail(exc) from None
        for listener in self._listeners:
            listener(record)
        return seq

    def _fail(self, exc: OSError) -> OutputError:
        """Close the file after a failed write; the error to raise (also kept in ``failed``)."""
        self.failed = OutputError.of(self.path or "trace", exc)
        file, self._file = self._file, None
        if file is not None:
            # The buffer cannot be written either; closing must not raise again.
            with contextlib.suppress(OSError):
                file.close()
        return self.failed

    def close(self) -> None:
        """Flush and close the file. Safe to call twice; never raises: a failed flush
        (a full disk) is kept in :attr:`failed` for the caller to report."""
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                self._fail(exc)
            self._file = None

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
