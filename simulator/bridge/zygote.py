"""The fork server: a Python plugin imported once, a fresh fork of it per plugin instance.

Usage (the harness starts it, see :class:`simulator.bridge.child.ForkServer`)::

    python -m simulator.bridge.zygote CONTROL_FD module:Class

It does what ``python -m simulator.bridge.server module:Class`` does before serving
(routes the backup system to the harness, imports the class), then answers control
packets on the ``SOCK_SEQPACKET`` socket ``CONTROL_FD``:

- ``spawn`` with three file descriptors attached (the child's stdin, stdout and
  stderr): it forks; the child starts a session of its own, makes itself a child
  subreaper (so that whatever it starts stays below it), dies with this process, marks
  its environment with its token and serves the protocol on the three descriptors
  (:func:`simulator.bridge.server.serve_stdio`), like a freshly started server;
- ``kill`` (pid): that child and its whole tree are killed.

It reaps its children and reports each one's exit status (``exit``). It is a child
subreaper too: what an instance left behind when it died comes to it, and is killed.
When the control socket closes it kills every child and exits.

It refuses to serve (``failed``) when the class cannot be imported or when importing it
started threads (a fork copies only the forking thread), and the harness then starts a
process per instance as before.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import sys
import threading
import traceback
from io import BytesIO
from typing import Any

from simulator.bridge.process_tree import (
    TOKEN_ENV,
    children_of,
    kill_tree,
    set_child_subreaper,
    set_parent_death_signal,
)
from simulator.bridge.server import PluginServer, install_remote_backend, load_class, serve_stdio

__all__ = ["main"]


def _send(control: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        control.send(json.dumps(message).encode())


class _Zygote:
    """The loaded plugin server and the children forked from it."""

    def __init__(self, control: socket.socket, server: PluginServer) -> None:
        self.control = control
        self.server = server
        #: Live children: pid -> token.
        self.children: dict[int, str] = {}
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)

    def loop(self) -> None:
        """Serve control packets until the control socket closes."""
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        signal.set_wakeup_fd(self.wake_w)
        try:
            while True:
                control = self.control.fileno()
                readable, _, _ = select.select([control, self.wake_r], [], [], 1.0)
                if self.wake_r in readable:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self.wake_r, 4096)
                self._reap()
                if control in readable and not self._receive():
                    return
        finally:
            for pid, token in list(self.children.items()):
                kill_tree(pid, token)
            self._kill_orphans()
            self._reap()

    def _receive(self) -> bool:
        try:
            data, fds, _, _ = socket.recv_fds(self.control, 65536, 3)
        except OSError:
            return False
        if not data:
            for fd in fds:
                os.close(fd)
            return False
        message = json.loads(data)
        op = message.get("op")
        if op == "spawn":
            self._spawn(str(message["token"]), fds)
        else:
            for fd in fds:
                os.close(fd)
            if op == "kill":
                pid = int(message["pid"])
                token = self.children.get(pid)
                if token is not None:  # not yet reaped: the pid is still that child's
                    kill_tree(pid, token)
        return True

    def _spawn(self, token: str, fds: list[int]) -> None:
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            _send(self.control, {"op": "failed", "detail": "spawn needs three descriptors"})
            return
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as exc:
            _send(self.control, {"op": "failed", "detail": f"fork failed: {exc}"})
        else:
            if pid == 0:
                self._child(token, fds)  # never returns
            self.children[pid] = token
            _send(self.control, {"op": "spawned", "pid": pid})
        finally:
            for fd in fds:
                os.close(fd)

    def _child(self, token: str, fds: list[int]) -> None:
        code = 1
        try:
            parent = os.getppid()
            os.setsid()
            set_parent_death_signal(signal.SIGKILL)
            if os.getppid() != parent:  # the fork server died while forking
                os._exit(1)
            set_child_subreaper()
            signal.set_wakeup_fd(-1)
            for signum in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_DFL)
            self.control.close()
            os.close(self.wake_r)
            os.close(self.wake_w)
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            os.environ[TOKEN_ENV] = token
            code = serve_stdio(self.server)
            atexit._run_exitfuncs()  # the plugin's own, as at the end of an interpreter
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        except BaseException:  # noqa: BLE001 - a child never returns into the fork server
            with contextlib.suppress(BaseException):
                traceback.print_exc()
        finally:
            with contextlib.suppress(BaseException):
                sys.stderr.flush()
            os._exit(code)

    def _reap(self) -> None:
        """Reap every child that ended; report instances, kill what they left behind."""
        ended = False
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            token = self.children.pop(pid, None)
            if token is not None:
                ended = True
                kill_tree(None, token)
                _send(
                    self.control,
                    {"op": "exit", "pid": pid, "status": os.waitstatus_to_exitcode(status)},
                )
        if ended:
            self._kill_orphans()

    def _kill_orphans(self) -> None:
        """Kill every child that is not an instance: descendants of a dead one."""
        for pid in children_of(os.getpid()):
            if pid not in self.children:
                kill_tree(pid, None)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m simulator.bridge.zygote CONTROL_FD module:Class``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not args[0].isdigit():
        sys.stderr.write("usage: python -m simulator.bridge.zygote CONTROL_FD module:Class\n")
        return 2
    control = socket.socket(fileno=int(args[0]))
    # Interrupts are the harness's business; it closes the control socket to stop us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_child_subreaper()
    server = PluginServer(None, BytesIO(), BytesIO())
    install_remote_backend(server)
    try:
        server.plugin_class = load_class(args[1])
    except BaseException as exc:  # noqa: BLE001 - refuse, and the harness spawns instead
        _send(control, {"op": "failed", "detail": f"{type(exc).__name__}: {exc}"})
        return 2
    if threading.active_count() > 1:
        _send(
            control,
            {"op": "failed", "detail": "importing the plugin started threads; it is not forked"},
        )
        return 2
    _send(control, {"op": "ready"})
    _Zygote(control, server).loop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
