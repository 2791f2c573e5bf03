"""The run directory: where a run writes, made sure of before the run starts.

- ``--out`` given: that directory. Not given: ``out/<run id>-<UTC timestamp>-<random>``, so
  that two runs never share a default directory, and ``out/latest`` is pointed at it.
- It is created and probed with a write before any simulation, so a file given as
  ``--out``, a directory without write permission or a path under ``/proc`` is a usage
  error naming the path and the cause, never a traceback at the end of the run.
- The run holds an exclusive lock on it (``.bpcert.lock``, ``flock``) until it ends; a
  second run into the same directory is refused while the first is running.
- :class:`OutputError` is what writing into it may raise later (a disk that fills up
  mid-run): the command line reports it as a usage error naming the path and the cause.
  :func:`write_run_report` writes the report files so.

Every command that writes a run directory (``run``, ``check``, ``load``, ``sweep``,
``certify``) opens it through :func:`open_run_dir`; ``verify`` opens a given ``--out`` as a
:class:`RunDir` (without one its re-run goes to a temporary directory).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from conformance.usage import UsageError
from simulator.trace import OutputError

if TYPE_CHECKING:
    from reports.model import RunReport

__all__ = [
    "LOCK_FILE",
    "OutputError",
    "RunDir",
    "default_run_dir",
    "open_run_dir",
    "write_run_report",
]

#: The lock file a run holds in its run directory.
LOCK_FILE = ".bpcert.lock"
#: Where default run directories go, and the name of the link to the newest one.
DEFAULT_ROOT = Path("out")
LATEST = "latest"


def default_run_dir(run_id: str, root: Path = DEFAULT_ROOT) -> Path:
    """A fresh directory name for a run: its id, a UTC timestamp and a random part."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return root / f"{run_id}-{stamp}-{secrets.token_hex(3)}"


def open_run_dir(out: Path | None, run_id: str) -> RunDir:
    """The run directory of a command: ``--out`` (``out``), or a fresh default one."""
    if out is not None:
        return RunDir(out)
    return RunDir(default_run_dir(run_id), default=True)


def write_run_report(report: RunReport, out: Path, **kwargs: Any) -> dict[str, Path]:
    """:func:`reports.render.write_report` into a run directory; a failed write (a disk
    that fills up) is an :class:`OutputError` naming the path and the cause."""
    from reports.render import write_report

    try:
        # An interrupted run has seconds to end in: its plots are left to `bpcert report`.
        return write_report(report, out, plots=report.verdict != "interrupted", **kwargs)
    except OSError as exc:
        raise OutputError.of(exc.filename or out, exc) from None


class RunDir:
    """A run directory, created, writable and locked for one run (a context manager)."""

    def __init__(self, path: Path, *, default: bool = False) -> None:
        self.path = path
        self.default = default
        self._lock: IO[str] | None = None

    def __enter__(self) -> RunDir:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Create the directory, probe it and take its lock; :class:`UsageError` if not."""
        path = self.path
        if path.exists() and not path.is_dir():
            raise UsageError(f"--out {path}: it is a file, not a directory; name a directory")
        try:
            path.mkdir(parents=True, exist_ok=True)
            lock = (path / LOCK_FILE).open("a+")
        except OSError as exc:
            raise UsageError(f"--out {path}: cannot write there ({_cause(exc)})") from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            lock.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise UsageError(
                    f"--out {path}: another bpcert run is writing into it ({holder}); wait "
                    "for it to end, or give this run another --out"
                ) from None
            raise UsageError(f"--out {path}: cannot lock it ({_cause(exc)})") from None
        try:
            lock.seek(0)
            lock.truncate()
            lock.write(f"pid {os.getpid()}, since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n")
            lock.flush()
        except OSError as exc:
            lock.close()
            raise UsageError(f"--out {path}: cannot write there ({_cause(exc)})") from None
        self._lock = lock
        if self.default:
            _point_latest(path)

    def close(self) -> None:
        """Release the lock (the lock file stays: removing it would race a waiting run)."""
        if self._lock is not None:
            with contextlib.suppress(OSError):
                self._lock.close()
            self._lock = None


def _cause(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _point_latest(path: Path) -> None:
    """Point ``<root>/latest`` at ``path`` (atomically; quietly not where links fail)."""
    link = path.parent / LATEST
    temporary = path.parent / f".{LATEST}-{secrets.token_hex(4)}"
    try:
        temporary.symlink_to(path.name, target_is_directory=True)
        os.replace(temporary, link)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
