"""One plugin child process: its pipes, reader threads, stderr tail and killing.

:class:`ChildProcess` is the transport under :class:`~simulator.bridge.process.ProcessPlugin`:
it writes request lines with a deadline, hands stdout lines over a queue (reader threads,
so that a silent child never blocks the harness) and keeps a bounded tail of stderr for
crash reports. A child runs in its own session (process group on POSIX); no child
outlives the harness.

A child is killed with its whole process tree, descendants that left its session
included (:mod:`simulator.bridge.process_tree`). It is spawned from its command line,
or forked from a fork server that imported the plugin once
(:mod:`simulator.bridge.forkserver`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import select
import signal
import subprocess
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from simulator.bridge.forkserver import ForkedPopen, ForkServer
from simulator.bridge.process_tree import TOKEN_ENV, kill_tree
from simulator.bridge.protocol import MAX_LINE_BYTES

__all__ = ["ChildProcess", "EndOfOutput", "LineTooLong", "OutputItem"]

#: How much of a child's stderr a crash report quotes.
_STDERR_TAIL_LINES = 30
_STDERR_LINE_CHARS = 400
#: How long to wait for the exit status of a child that closed its stdout.
_EXIT_WAIT_S = 1.0


class EndOfOutput:
    """Marks the end of a child's stdout in the line queue."""


class LineTooLong:
    """Marks a stdout line longer than :data:`MAX_LINE_BYTES`, which was dropped."""


_EOF = EndOfOutput()
_TOO_LONG = LineTooLong()
OutputItem = bytes | EndOfOutput | LineTooLong


def _pump_stdout(stream: IO[bytes], lines: queue.SimpleQueue[OutputItem]) -> None:
    """Reader thread: every stdout line into ``lines``, then :data:`_EOF`."""
    try:
        while True:
            line = stream.readline(MAX_LINE_BYTES + 1)
            if not line:
                break
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                while True:
                    rest = stream.readline(MAX_LINE_BYTES)
                    if not rest or rest.endswith(b"\n"):
                        break
                lines.put(_TOO_LONG)
                continue
            lines.put(line)
    except (OSError, ValueError):
        pass
    finally:
        lines.put(_EOF)
        with contextlib.suppress(OSError, ValueError):
            stream.close()


class _DirectLines:
    """Stdout lines read on the caller's own thread (POSIX), the same items as
    :func:`_pump_stdout` gives.

    A reader thread costs a second wake-up for every line: the thread, then the caller
    it hands the line to. On a busy machine each wake-up waits for a CPU, and a check
    exchanges a hundred thousand lines, so the caller reads the pipe itself, with
    ``select`` for the deadline.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._fd = stream.fileno()
        os.set_blocking(self._fd, False)
        self._buffer = bytearray()
        self._skipping = False
        self._eof = False

    def get(self, timeout_s: float) -> OutputItem | None:
        """The next item, or ``None`` when ``timeout_s`` passed without one."""
        deadline = time.monotonic() + timeout_s
        while True:
            item = self._take()
            if item is not None:
                return item
            if self._eof:
                return _EOF
            try:
                chunk = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                select.select([self._fd], [], [], remaining)
                continue
            except OSError:
                chunk = b""
            if chunk:
                self._buffer += chunk
            else:
                self._eof = True
                self.close()

    def _take(self) -> OutputItem | None:
        buffer = self._buffer
        end = buffer.find(b"\n")
        if self._skipping:
            if end < 0:
                buffer.clear()
                if not self._eof:
                    return None
            else:
                del buffer[: end + 1]
            self._skipping = False
            return _TOO_LONG
        if end > MAX_LINE_BYTES or (end < 0 and len(buffer) > MAX_LINE_BYTES):
            self._skipping = True
            return self._take()
        if end >= 0:
            line = bytes(buffer[: end + 1])
            del buffer[: end + 1]
            return line
        if self._eof and buffer:  # a last line without its newline, as readline gives it
            line = bytes(buffer)
            buffer.clear()
            return line
        return None

    def close(self) -> None:
        """Close the pipe (idempotent)."""
        with contextlib.suppress(OSError, ValueError):
            self._stream.close()


def _pump_stderr(stream: IO[bytes], tail: deque[str]) -> None:
    """Reader thread: keep the last lines of stderr (bounded), drop the rest."""
    try:
        while True:
            line = stream.readline(64 * 1024)
            if not line:
                break
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            if len(text) > _STDERR_LINE_CHARS:
                text = text[:_STDERR_LINE_CHARS] + " [...]"
            tail.append(text)
    except (OSError, ValueError):
        pass
    finally:
        with contextlib.suppress(OSError, ValueError):
            stream.close()


def _terminate(popen: subprocess.Popen[bytes] | ForkedPopen, token: str | None = None) -> None:
    """Kill ``popen`` and its whole process tree if still running, and reap it."""
    if isinstance(popen, ForkedPopen):
        popen.kill()  # the fork server, its parent, kills the tree
    elif popen.poll() is None:
        if os.name == "posix":
            kill_tree(popen.pid, token)
        with contextlib.suppress(ProcessLookupError):
            popen.kill()
    elif token is not None:
        kill_tree(None, token)  # what the plugin left behind when it ended by itself
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(timeout=5.0)
    # stdout and stderr are closed by their reader threads at end of file: closing them
    # here could block on a reader that a surviving grandchild keeps waiting.
    if popen.stdin is not None:
        with contextlib.suppress(OSError, ValueError):
            popen.stdin.close()


_LIVE: weakref.WeakSet[ChildProcess] = weakref.WeakSet()


@atexit.register
def _kill_all_children() -> None:
    """No child outlives the harness, whatever happens to the instances."""
    for child in list(_LIVE):
        child.kill()


class ChildProcess:
    """One running plugin process: its pipes, reader threads and stderr tail.

    Spawned from ``argv`` in ``cwd``, or forked from ``fork_server`` when one is given
    (the same program, already imported; see :class:`ForkServer`). Raises
    :class:`OSError` when it cannot be started.
    """

    def __init__(
        self,
        argv: Sequence[str],
        cwd: Path | None,
        fork_server: ForkServer | None = None,
        start_timeout_s: float = 30.0,
    ) -> None:
        self.argv = tuple(argv)
        self.token = uuid.uuid4().hex
        self.popen: subprocess.Popen[bytes] | ForkedPopen
        if fork_server is not None:
            self.popen = fork_server.spawn(self.token, start_timeout_s)
        else:
            self.popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env={**os.environ, TOKEN_ENV: self.token},
                start_new_session=os.name == "posix",
            )
        assert self.popen.stdin and self.popen.stdout and self.popen.stderr
        self.stdin = self.popen.stdin
        self._stdin_fd = self.stdin.fileno()
        if os.name == "posix":
            # Writes wait with a deadline: a plugin that stops reading must not block us.
            os.set_blocking(self._stdin_fd, False)
        self.lines: queue.SimpleQueue[OutputItem] = queue.SimpleQueue()
        self.stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
        self.next_id = 1
        self.eof = False
        self._direct: _DirectLines | None = None
        if os.name == "posix":
            self._direct = _DirectLines(self.popen.stdout)
        else:
            threading.Thread(
                target=_pump_stdout, args=(self.popen.stdout, self.lines), daemon=True
            ).start()
        self._err = threading.Thread(
            target=_pump_stderr, args=(self.popen.stderr, self.stderr_tail), daemon=True
        )
        self._err.start()
        self._finalizer = weakref.finalize(self, _terminate, self.popen, self.token)
        _LIVE.add(self)

    def send(self, data: bytes, timeout_s: float) -> bool | None:
        """Write one line within ``timeout_s``.

        ``True`` when written, ``False`` when the child closed its stdin (it is gone),
        ``None`` when the pipe stayed full past the deadline (it stopped reading).
        """
        if os.name != "posix":
            try:
                self.stdin.write(data)
                self.stdin.flush()
            except (OSError, ValueError):
                return False
            return True
        deadline = time.monotonic() + timeout_s
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._stdin_fd, view)
            except BlockingIOError:
                written = 0
            except (OSError, ValueError):
                return False
            view = view[written:]
            if view:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                select.select([], [self._stdin_fd], [], remaining)
        return True

    def receive(self, timeout_s: float) -> OutputItem | None:
        """The next stdout item, or ``None`` when ``timeout_s`` passed without one."""
        if self.eof:
            return _EOF
        if self._direct is not None:
            item = self._direct.get(max(0.0, timeout_s))
            if item is None:
                return None
        else:
            try:
                item = self.lines.get(timeout=max(0.0, timeout_s))
            except queue.Empty:
                return None
        if item is _EOF:
            self.eof = True
        return item

    def exit_detail(self) -> str:
        """The exit status and stderr tail of a child that stopped answering; reaps it."""
        try:
            code: int | None = self.popen.wait(timeout=_EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        self._err.join(timeout=0.5)
        if code is None:
            status = "it closed its stdout but kept running (killed)"
        elif code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            status = f"it was killed by {name}"
        else:
            status = f"it exited with code {code}"
        tail = "\n".join(self.stderr_tail)
        return f"{status}; stderr tail:\n{tail}" if tail else f"{status}; stderr was empty"

    def stop(self, grace_s: float) -> None:
        """Close stdin, give the child ``grace_s`` to exit, then kill and reap it."""
        with contextlib.suppress(OSError, ValueError):
            self.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=grace_s)
        self.kill()

    def kill(self) -> None:
        """Kill and reap the child now (idempotent)."""
        self._finalizer()
        _LIVE.discard(self)
        if self._direct is not None:
            self._direct.close()
