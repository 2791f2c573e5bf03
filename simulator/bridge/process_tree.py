"""A plugin child's whole process tree: finding it in ``/proc`` and killing it.

A plugin may start processes of its own, and these may leave its process group
(``setsid``, a daemon's double fork). Every plugin child therefore carries a token in
its environment (:data:`TOKEN_ENV`), inherited by whatever it starts, and is made a
child subreaper where it can be (Linux), so that its orphaned descendants stay below it.
:func:`kill_tree` stops, then kills, every descendant below a child and every process
carrying its token, until none is left. Standard library only: the fork server
(:mod:`simulator.bridge.zygote`) uses it too.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Iterable

__all__ = [
    "TOKEN_ENV",
    "children_of",
    "descendants",
    "kill_tree",
    "set_child_subreaper",
    "set_parent_death_signal",
]

#: The environment variable that marks every process of one plugin child's tree.
TOKEN_ENV = "BPCERT_PLUGIN_PROCESS"

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> bool:
    """``prctl(option, value)`` on Linux; ``False`` where it is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def set_child_subreaper() -> bool:
    """Make this process adopt its orphaned descendants (Linux), so that a descendant
    whose parent died stays below it in ``/proc`` and can be found and killed."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def set_parent_death_signal(signum: int) -> bool:
    """Have the kernel send ``signum`` to this process when its parent dies (Linux)."""
    return _prctl(_PR_SET_PDEATHSIG, signum)


def children_of(pid: int) -> list[int]:
    """The direct children of ``pid``, from ``/proc`` (empty when it is gone)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                found.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, parents before their children."""
    out: list[int] = []
    seen = {pid}
    frontier = [pid]
    while frontier:
        nxt: list[int] = []
        for parent in frontier:
            for child in children_of(parent):
                if child not in seen:
                    seen.add(child)
                    out.append(child)
                    nxt.append(child)
        frontier = nxt
    return out


def _token_holders(token: str) -> list[int]:
    """The processes whose environment carries ``TOKEN_ENV=token`` (a plugin's tree,
    including descendants that left it: a daemon re-parented to init)."""
    needle = f"{TOKEN_ENV}={token}".encode()
    found: list[int] = []
    me = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for name in entries:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(name))
        except OSError:
            continue
    return found


def _signal_all(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def kill_tree(pid: int | None, token: str | None, *, rounds: int = 5) -> None:
    """SIGKILL ``pid``, everything below it and every process marked with ``token``.

    Each round stops what it finds first (a stopped process cannot fork away), then
    kills it all; rounds repeat while new processes turn up. ``pid`` must be a child of
    the caller not yet reaped, so that its number cannot have been reused.
    """
    if os.name != "posix":
        return
    killed: set[int] = set()
    for _ in range(rounds):
        found = [pid] if pid is not None and pid not in killed else []
        if pid is not None:
            found += descendants(pid)
        if token is not None:
            found += _token_holders(token)
        fresh = [p for p in dict.fromkeys(found) if p not in killed and p != os.getpid()]
        if not fresh:
            return
        _signal_all(fresh, signal.SIGSTOP)
        # Found again while stopped: what forked between the listing and the stop.
        more = [p for q in fresh for p in descendants(q) if p not in fresh and p not in killed]
        _signal_all(more, signal.SIGSTOP)
        _signal_all([*fresh, *more], signal.SIGKILL)
        killed.update(fresh)
        killed.update(more)
