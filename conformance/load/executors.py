"""Where the datacenters of a load run and the jobs of a sweep run.

:class:`InlineExecutor` runs them here, one after the other (``--workers 0``);
:func:`process_pool` on a local pool of one-task processes forked from a server that
imported the harness once. A process that ends abruptly is :class:`WorkerDied`.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import multiprocessing.forkserver
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import ParamSpec, TypeVar

__all__ = [
    "WORKER_DIED",
    "InlineExecutor",
    "WorkerDied",
    "in_one_task_process",
    "process_pool",
]

P = ParamSpec("P")
T = TypeVar("T")


class WorkerDied(RuntimeError):
    """A process simulating a datacenter or a sweep job ended abruptly (exit code 3).

    Out of memory, killed from outside, or ended by an in-process plugin (``os._exit``, a
    crash in native code): the run cannot be completed, and nothing in bpcert raised.
    """


WORKER_DIED = (
    "a process {what} ended abruptly: it ran out of memory, was killed, or the plugin "
    "ended it (os._exit, a crash in native code). Run with --isolation process to keep "
    "a crashing plugin out of bpcert's processes, or with --workers 0 to see it here."
)


class InlineExecutor(Executor):
    """An executor that runs each job at once, in the calling process (``--workers 0``).

    Handy for debugging, profiling and tests: no process start-up, and exceptions keep
    their full traceback.
    """

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` now; return a finished future."""
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the future, as executors do
            if isinstance(exc, KeyboardInterrupt):
                raise
            future.set_exception(exc)
        return future


_POOL_PRELOAD = ["conformance.load", "conformance.runner", "simulator.reference"]

#: True in a pool worker: it runs one task, then exits (see :func:`process_pool`).
_one_task_process = False


def _mark_one_task_process() -> None:
    global _one_task_process
    _one_task_process = True


def in_one_task_process() -> bool:
    """Whether this process is a pool worker that ends with its one task."""
    return _one_task_process


class _OneTaskPool(concurrent.futures.ProcessPoolExecutor):
    """A process pool whose shutdown also stops the fork server its processes came from.

    The fork server is this process's child, and the pool's processes are its
    children: stopping it here reaps it, so that ``getrusage(RUSAGE_CHILDREN)`` (as
    ``make bench`` and ``time`` read it) counts their CPU time, as it did when the
    processes were this one's own children.
    """

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shut the pool down, then stop the fork server (when waiting)."""
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        if wait:
            _stop_fork_server()


def _stop_fork_server() -> None:
    # multiprocessing has no public way to stop it; a Python without this method keeps
    # the server until this process exits, which loses only its CPU time in getrusage.
    stop = getattr(getattr(multiprocessing.forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        stop()


def process_pool(workers: int | None = None) -> Executor:
    """A process pool for load runs and sweeps: ``workers`` processes (default: CPU count).

    Each task gets a fresh process (one task per child), so that its peak memory is its
    own and no state leaks from one task to the next. The processes are forked from a
    server process that imported the harness once (``forkserver``), so each starts in
    milliseconds rather than half a second, and ends without the interpreter's
    teardown, which would free the finished world's million objects one by one.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_POOL_PRELOAD)
    return _OneTaskPool(
        max_workers=workers or os.cpu_count() or 1,
        mp_context=context,
        max_tasks_per_child=1,
        initializer=_mark_one_task_process,
    )
