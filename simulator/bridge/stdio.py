"""An in-process plugin's own output, with the run's secrets redacted.

An isolated plugin's stderr reaches the harness through a pipe, and the invoker redacts
what it quotes. An in-process plugin writes straight to bpcert's own stdout and stderr:
``print``, a ``logging`` handler made at import, a C extension, a subprocess that
inherited them. While a world with an in-process plugin runs, :func:`redacted_output`
therefore puts a pipe under file descriptors 1 and 2 and a thread that copies it to the
real ones a line at a time, every secret replaced. Everything written there passes
through it, bpcert's own progress lines included (they hold no secret).

A line is held until its newline; a partial line goes out after
:data:`QUIET_S` seconds without more output, except a tail that could begin a secret,
which goes out at the next quiet period. Nothing is lost when the world ends: the pipes
are drained before the descriptors are restored. Only where there is ``os.pipe`` and
``select`` on pipes (POSIX); elsewhere the output is left alone.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

__all__ = ["QUIET_S", "redacted_output"]

#: How long a partial line waits for its end before it is written out.
QUIET_S = 0.05
#: How long restoring the descriptors waits for a writer that holds the pipe open (a
#: subprocess of the plugin that inherited it); the copy goes on in the background.
_DRAIN_S = 2.0
_FDS = (1, 2)


@dataclass
class _Stream:
    """One redirected descriptor: the read end of its pipe and where the copy goes."""

    fd: int  # the descriptor redirected
    target: int  # a duplicate of the original descriptor
    read: int
    pending: bytearray = field(default_factory=bytearray)
    since: float | None = None  # when the oldest held partial line arrived
    held_once: bool = False


class _Redirect:
    """The pipes and the copying thread, shared by every world that runs at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.secrets: dict[bytes, int] = {}
        self.users = 0
        self.streams: list[_Stream] = []
        self.thread: threading.Thread | None = None

    # -- redaction ----------------------------------------------------------------------

    def _redact(self, data: bytes) -> bytes:
        with self.lock:
            secrets = sorted(self.secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in data:
                data = data.replace(secret, b"***")
        return data

    def _safe_length(self, data: bytes) -> int:
        """How much of a partial line can go out: all but a tail that starts a secret."""
        with self.lock:
            secrets = list(self.secrets)
        keep = 0
        for secret in secrets:
            for n in range(min(len(secret) - 1, len(data)), keep, -1):
                if data.endswith(secret[:n]):
                    keep = n
                    break
        return len(data) - keep

    def _write(self, stream: _Stream, data: bytes) -> None:
        view = memoryview(self._redact(data))
        while view:
            try:
                written = os.write(stream.target, view)
            except InterruptedError:
                continue
            except OSError:
                return  # the real output is gone (a closed terminal): drop, never block
            view = view[written:]

    def _flush(self, stream: _Stream, *, everything: bool) -> None:
        pending = stream.pending
        end = pending.rfind(b"\n") + 1
        if end:
            self._write(stream, bytes(pending[:end]))
            del pending[:end]
            stream.since = None
            stream.held_once = False
        if pending and everything:
            self._write(stream, bytes(pending))
            pending.clear()
            stream.since = None

    def _pump(self, streams: list[_Stream]) -> None:
        """Thread: copy every pipe to its target, redacted, until all are closed."""
        open_streams = list(streams)
        while open_streams:
            waiting = [s for s in open_streams if s.since is not None]
            timeout = QUIET_S if waiting else None
            readable, _, _ = select.select([s.read for s in open_streams], [], [], timeout)
            now = time.monotonic()
            for stream in list(open_streams):
                if stream.read in readable:
                    try:
                        chunk = os.read(stream.read, 1 << 16)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        self._flush(stream, everything=True)
                        os.close(stream.read)
                        os.close(stream.target)
                        open_streams.remove(stream)
                        continue
                    stream.pending += chunk
                    if stream.since is None:
                        stream.since = now
                    self._flush(stream, everything=False)
                elif stream.since is not None and now - stream.since >= QUIET_S:
                    self._quiet(stream, now)

    def _quiet(self, stream: _Stream, now: float) -> None:
        """A partial line that waited long enough: out, but for a possible secret's start."""
        if stream.held_once:
            self._flush(stream, everything=True)
            return
        safe = self._safe_length(bytes(stream.pending))
        if safe:
            self._write(stream, bytes(stream.pending[:safe]))
            del stream.pending[:safe]
        if stream.pending:
            stream.held_once, stream.since = True, now
        else:
            stream.since = None

    # -- installing ---------------------------------------------------------------------

    def acquire(self, secrets: Iterable[str]) -> list[bytes]:
        """Redirect (for the first user) and add ``secrets``; returns what was added."""
        added = [s.encode() for s in secrets if s]
        with self.lock:
            for secret in added:
                self.secrets[secret] = self.secrets.get(secret, 0) + 1
            self.users += 1
            first = self.users == 1
        if first:
            self._install()
        return added

    def release(self, added: list[bytes]) -> None:
        """Undo one :meth:`acquire`; the last user restores the descriptors."""
        with self.lock:
            self.users -= 1
            last = self.users == 0
        if last:
            self._uninstall()
        with self.lock:
            for secret in added:
                count = self.secrets.get(secret, 0) - 1
                if count > 0:
                    self.secrets[secret] = count
                else:
                    self.secrets.pop(secret, None)

    def _install(self) -> None:
        _flush_python()
        streams: list[_Stream] = []
        for fd in _FDS:
            try:
                target = os.dup(fd)
            except OSError:
                continue  # no such descriptor: nothing to protect
            read, write = os.pipe()
            os.dup2(write, fd)
            os.close(write)
            streams.append(_Stream(fd, target, read))
        self.streams = streams
        self.thread = threading.Thread(target=self._pump, args=(streams,), daemon=True)
        self.thread.start()

    def _uninstall(self) -> None:
        _flush_python()
        for stream in self.streams:
            # Back to the original; this closes the pipe's write end held at the fd.
            with contextlib.suppress(OSError):
                os.dup2(stream.target, stream.fd)
        if self.thread is not None:
            self.thread.join(_DRAIN_S)
        self.thread = None
        self.streams = []


_REDIRECT = _Redirect()


def _flush_python() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


@contextlib.contextmanager
def redacted_output(secrets: Iterable[str]) -> Iterator[None]:
    """While it is entered, what reaches descriptors 1 and 2 has ``secrets`` replaced
    by ``***`` (nested and concurrent uses share one redirection)."""
    if os.name != "posix":
        yield
        return
    added = _REDIRECT.acquire(secrets)
    try:
        yield
    finally:
        _REDIRECT.release(added)
