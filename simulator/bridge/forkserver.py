"""The harness's side of the fork server: a Python plugin imported once, forked per instance.

Starting a Python interpreter and importing the harness and the plugin costs about
0.2 s of CPU, and a check starts a process for each component of each world, a few
hundred in all. A Python plugin run with ``--isolation process`` is therefore forked
from a :class:`ForkServer`: a process (:mod:`simulator.bridge.zygote`) that imported the
plugin server and the plugin class once. Each child is a fresh fork of it, in its own
session, with its own pipes and a fresh plugin instance, so that a crash, a hang or
``os._exit`` of one instance touches no other. :class:`ForkedPopen` gives
:class:`~simulator.bridge.child.ChildProcess` the part of ``subprocess.Popen`` it uses.
When the fork server cannot start (the plugin starts threads on import, no fd passing),
plugins are spawned as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

__all__ = [
    "ForkServer",
    "ForkServerUnavailable",
    "ForkedPopen",
    "give_up_fork_server",
    "shared_fork_server",
]


class ForkServerUnavailable(OSError):
    """The fork server could not start, or stopped: plugins are spawned instead."""


class ForkedPopen:
    """A child of a :class:`ForkServer`, with the part of :class:`subprocess.Popen`'s
    interface that :class:`ChildProcess` uses.

    The fork server is its parent: it reaps it, reports its exit status, and kills its
    tree on :meth:`kill`. Its pid is never signalled from here, so a pid reused after
    the child was reaped can never be hit.
    """

    def __init__(
        self, server: ForkServer, pid: int, stdin: IO[bytes], stdout: IO[bytes], stderr: IO[bytes]
    ) -> None:
        self._server = server
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr

    @property
    def returncode(self) -> int | None:
        """The exit status as :class:`subprocess.Popen` gives it, ``None`` while it runs."""
        return self._server.status(self.pid)

    def poll(self) -> int | None:
        """The exit status, ``None`` while it runs."""
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit status; raises :class:`subprocess.TimeoutExpired`."""
        code = self._server.wait(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"plugin process {self.pid}", timeout or 0.0)
        return code

    def kill(self) -> None:
        """Have the fork server kill the child and its whole tree."""
        self._server.kill(self.pid)


class ForkServer:
    """A process that imported a Python plugin once and forks a child per instance.

    ``target`` is the ``module:Class`` that ``python -m simulator.bridge.server`` would
    serve. The server is started at once and waits for its ``ready`` within
    ``start_timeout_s``; raises :class:`ForkServerUnavailable` when it is not, with its
    reason. Control messages travel over a ``SOCK_SEQPACKET`` pair (one JSON object
    per packet, the child's three pipe ends attached to ``spawn``):

    - ``spawn`` (token) -> ``spawned`` (pid) or ``failed`` (detail);
    - ``kill`` (pid): the tree of that child is killed;
    - ``exit`` (pid, status), sent by the server when it reaped a child.

    When this end closes, the server kills every child it forked and exits.
    """

    def __init__(self, target: str, cwd: Path | None, start_timeout_s: float = 30.0) -> None:
        if os.name != "posix" or not hasattr(socket, "send_fds"):
            raise ForkServerUnavailable("fork servers need POSIX and file-descriptor passing")
        self.target = target
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._socket = ours
        self._send_lock = threading.Lock()
        self._cond = threading.Condition()
        self._statuses: dict[int, int] = {}
        self._replies: deque[dict[str, Any]] = deque()
        self._closed = False
        try:
            self.popen = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "simulator.bridge.zygote",
                    str(theirs.fileno()),
                    target,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=cwd,
                pass_fds=(theirs.fileno(),),
            )
        except OSError as exc:
            ours.close()
            raise ForkServerUnavailable(f"could not start the fork server: {exc}") from exc
        finally:
            theirs.close()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._finalizer = weakref.finalize(self, ForkServer._shutdown, ours, self.popen)
        ready = self._reply(start_timeout_s)
        if ready.get("op") != "ready":
            self.close()
            raise ForkServerUnavailable(str(ready.get("detail", ready)))

    # -- the control channel ------------------------------------------------------------

    def _read(self) -> None:
        """Reader thread: replies into ``_replies``, exit statuses into ``_statuses``."""
        try:
            while True:
                data = self._socket.recv(65536)
                if not data:
                    break
                message = json.loads(data)
                with self._cond:
                    if message.get("op") == "exit":
                        self._statuses[int(message["pid"])] = int(message["status"])
                    else:
                        self._replies.append(message)
                    self._cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()

    def _reply(self, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not self._replies:
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    why = "it stopped" if self._closed else f"no answer within {timeout_s:g} s"
                    return {"op": "failed", "detail": f"the fork server failed: {why}"}
                self._cond.wait(remaining)
            return self._replies.popleft()

    def _send(self, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
        data = json.dumps(message).encode()
        with self._send_lock:
            if fds:
                socket.send_fds(self._socket, [data], list(fds))
            else:
                self._socket.send(data)

    # -- children -----------------------------------------------------------------------

    def spawn(self, token: str, timeout_s: float) -> ForkedPopen:
        """Fork a child with fresh pipes; raises :class:`ForkServerUnavailable`."""
        pipes = [os.pipe() for _ in range(3)]
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1]]
        ours = [pipes[0][1], pipes[1][0], pipes[2][0]]
        try:
            self._send({"op": "spawn", "token": token}, theirs)
            reply = self._reply(timeout_s)
        except OSError as exc:
            for fd in ours:
                os.close(fd)
            raise ForkServerUnavailable(f"the fork server failed: {exc}") from exc
        finally:
            for fd in theirs:
                os.close(fd)
        if reply.get("op") != "spawned":
            for fd in ours:
                os.close(fd)
            raise ForkServerUnavailable(str(reply.get("detail", reply)))
        return ForkedPopen(
            self,
            int(reply["pid"]),
            open(ours[0], "wb", buffering=0),
            open(ours[1], "rb", buffering=0),
            open(ours[2], "rb", buffering=0),
        )

    def status(self, pid: int) -> int | None:
        """The exit status of child ``pid``; ``-9`` once the server itself is gone."""
        with self._cond:
            if pid in self._statuses:
                return self._statuses[pid]
            return -signal.SIGKILL if self._closed else None

    def wait(self, pid: int, timeout_s: float | None) -> int | None:
        """Wait for the exit status of ``pid``, ``None`` after ``timeout_s``."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            while True:
                code = self.status(pid)
                if code is not None:
                    return code
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def kill(self, pid: int) -> None:
        """Ask the server to kill child ``pid`` and its tree (a no-op once it ended)."""
        if self.status(pid) is None:
            with contextlib.suppress(OSError):
                self._send({"op": "kill", "pid": pid})

    def close(self) -> None:
        """Stop the server: it kills every child it forked, then exits (idempotent)."""
        self._finalizer()

    @staticmethod
    def _shutdown(sock: socket.socket, popen: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        try:
            popen.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()


#: One fork server per served class and working directory, shared by every plugin class
#: built for it (each child is a fresh fork, so sharing leaks nothing); ``None`` once one
#: could not start, so that its plugins are spawned.
_SHARED: dict[tuple[str, Path | None], ForkServer | None] = {}


def shared_fork_server(target: str, cwd: Path | None, timeout_s: float) -> ForkServer | None:
    """The running fork server for ``target`` in ``cwd``, started if need be; ``None``
    when none can run (the caller spawns its plugin instead)."""
    key = (target, cwd)
    if key in _SHARED and _SHARED[key] is None:
        return None
    server = _SHARED.get(key)
    if server is not None and server.popen.poll() is None:
        return server
    try:
        server = ForkServer(target, cwd, timeout_s)
    except ForkServerUnavailable:
        server = None
    _SHARED[key] = server
    return server


def give_up_fork_server(target: str, cwd: Path | None) -> None:
    """Spawn ``target``'s instances from now on: its fork server failed to fork."""
    server = _SHARED.get((target, cwd))
    if server is not None:
        server.close()
    _SHARED[(target, cwd)] = None
