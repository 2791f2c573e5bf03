"""``bpcert`` under a supervisor: a run that ends without writing its verdict exits 3.

An in-process plugin shares the judge's interpreter, so ``os._exit(0)`` or a signal in
one of its methods would end bpcert with exit 0 and no verdict, which a CI job reads as
a pass. The commands that run simulations (``run``, ``check``, ``load``, ``sweep``)
therefore run the judge as a child process, in a process group of its own, and the
parent (this module, which imports only the standard library):

- passes the child the name of a verdict file, which the child writes its exit code to
  as its last act, and returns that code;
- exits 3 and says why when the child ended without writing it;
- forwards SIGINT and SIGTERM to the child (which then writes its partial report, see
  :mod:`simulator.interrupts`), and kills the child's process group if it has not ended
  :data:`GRACE_S` seconds later;
- kills whatever is left of that process group once the child has ended: processes a
  plugin started and left behind;
- is a child subreaper (Linux): a process that left the run's process group (a
  plugin's ``setsid`` grandchild, a daemon) and lost its parent is re-parented to it
  rather than to init, and is killed with its descendants once the child has ended.

Every other command, and ``--help``, runs in the process itself. The cost is one more
interpreter start, a few tens of milliseconds against runs of seconds. The command line
itself is handed in (:func:`supervise`'s ``main``), so that this module imports nothing
of bpcert's.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

__all__ = ["GRACE_S", "supervise"]

#: Seconds a child has to end after a forwarded SIGINT or SIGTERM before it is killed.
GRACE_S = 4.0
_VERDICT_FILE = "BPCERT_VERDICT_FILE"
_SYS_PATH = "BPCERT_SYS_PATH"
_ARGV0 = "BPCERT_ARGV0"
_SUPERVISED = frozenset({"run", "check", "load", "sweep"})
# conformance.exit_codes, not imported: this module stays standard library only.
_HARNESS_ERROR = 3
_INTERRUPTED = 130
#: How the child starts: ``-P`` and the parent's ``sys.path``, so that it imports exactly
#: what the parent would have (``python -m`` puts the working directory first, the
#: ``bpcert`` script does not), and its ``sys.argv[0]``, which the replay lines follow.
_CHILD = (
    "import json, os, sys; sys.path[:] = json.loads(os.environ.pop({env!r})); "
    "sys.argv[0] = os.environ.pop({argv0!r}); from conformance.__main__ import entry; entry()"
)


def supervise(argv: Sequence[str], main: Callable[[list[str]], int]) -> int:
    """Run ``main(argv)``, in a supervised child when it simulates; return the exit code."""
    verdict_file = os.environ.pop(_VERDICT_FILE, None)
    if verdict_file is None and _simulates(argv):
        return _supervise(list(argv))
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors and --help end this way
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    if verdict_file is not None:
        Path(verdict_file).write_text(str(code))
    return code


def _simulates(argv: Sequence[str]) -> bool:
    return bool(argv) and argv[0] in _SUPERVISED and not {"-h", "--help"} & set(argv)


def _supervise(argv: list[str]) -> int:
    folder = Path(tempfile.mkdtemp(prefix="bpcert-"))
    verdict_file = folder / "verdict"
    env = {
        **os.environ,
        _VERDICT_FILE: str(verdict_file),
        _SYS_PATH: json.dumps(sys.path),
        _ARGV0: sys.argv[0],
    }
    command = [sys.executable, "-P", "-c", _CHILD.format(env=_SYS_PATH, argv0=_ARGV0), *argv]
    signalled: list[float] = []
    _become_subreaper()
    try:
        child = subprocess.Popen(command, env=env, process_group=0)

        def forward(signum: int, frame: FrameType | None) -> None:
            signalled.append(time.monotonic())
            _signal(child.pid, signum, group=False)

        previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            status = _wait(child, signalled)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            # Whatever the run left behind in its process group (a plugin's children),
            # and whatever left it and came to us as orphans.
            _signal(child.pid, signal.SIGKILL, group=True)
            _kill_adopted()
        try:
            return int(verdict_file.read_text())
        except (OSError, ValueError):
            pass
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if signalled:
        sys.stderr.write("bpcert: interrupted\n")
        return _INTERRUPTED
    how = (
        f"it was killed by {signal.Signals(-status).name}"
        if status < 0
        else f"its process exited with status {status}"
    )
    sys.stderr.write(
        f"bpcert: error: the run ended without a verdict: {how}. An in-process plugin runs "
        "inside bpcert's own interpreter and can end it (os._exit, sys.exit from a thread, "
        "a signal); run it with --isolation process to have that judged as a finding.\n"
    )
    return _HARNESS_ERROR


def _wait(child: subprocess.Popen[bytes], signalled: list[float]) -> int:
    """The child's exit status; it is killed :data:`GRACE_S` after a forwarded signal."""
    while True:
        try:
            # A timeout even when nothing was signalled: a signal handler runs between
            # two waits, and the grace period must be counted.
            return child.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            if signalled and time.monotonic() - signalled[0] > GRACE_S:
                _signal(child.pid, signal.SIGKILL, group=True)


_PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper() -> None:
    """Adopt the run's orphaned descendants (Linux; elsewhere nothing happens)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _children() -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{os.getpid()}/task"):
            with contextlib.suppress(OSError, ValueError):
                text = Path(f"/proc/{os.getpid()}/task/{tid}/children").read_text()
                found.extend(int(pid) for pid in text.split())
    return found


def _kill_adopted(rounds: int = 20) -> None:
    """Kill and reap every process left below this one, until none is left."""
    for _ in range(rounds):
        orphans = _children()
        if not orphans:
            return
        for pid in orphans:
            _signal(pid, signal.SIGSTOP, group=False)
        for pid in orphans:
            _signal(pid, signal.SIGKILL, group=False)
        for pid in orphans:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)


def _signal(pid: int, signum: int, *, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
