"""Datacenters and sweep points as tasks on a Dask cluster (``--executor dask://HOST:PORT``).

Each datacenter of a load run, or each point of a sweep, is one task. A task carries
plain values only: the :class:`~conformance.load.job.LoadJob` (the plugin spec, the
seed, the settings) and the datacenter's :class:`~simulator.scenario.Scenario`; the
worker resolves the plugin and builds its world itself, so every worker needs bpcert
and the plugin installed. The results come back as the local pool's do, and merge the
same way, in datacenter or job order.

A worker that dies while running a task (out of memory, killed, or ended by an
in-process plugin) is the scheduler's to notice: the task fails with ``KilledWorker``
once the scheduler's ``distributed.scheduler.allowed-failures`` deaths are used up. The
harness then submits it once more; if that fails the same way, the task is reported as
failed with the worker's error (:class:`TaskFailed`) and the other tasks keep their
results. Any other exception in a task is a harness error and is raised here, as the
local pool raises it.

``distributed`` is an optional dependency (``pip install 'bpcert[dask]'``); this module
imports it only when a cluster is used.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from conformance.load.template import LoadError

__all__ = [
    "CONNECT_TIMEOUT_S",
    "LOCAL",
    "DaskCluster",
    "TaskFailed",
    "parse_executor",
]

#: ``--executor``'s default: the datacenters or sweep points run on a local process pool.
LOCAL = "local"
#: How long connecting to a Dask scheduler may take before it counts as unreachable.
CONNECT_TIMEOUT_S = 5.0
#: How long to wait for a dead worker's nanny to log how its process ended.
_NANNY_LOG_WAIT_S = 3.0
_ENDED = re.compile(r"exited with status|killed by signal")
_DASK_URL = re.compile(r"dask://(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})")


@dataclass(frozen=True)
class TaskFailed:
    """A task whose worker died, and died again when the task was submitted once more."""

    error: str


def parse_executor(text: str) -> str | None:
    """The scheduler address of ``--executor dask://HOST:PORT``, or None for ``local``.

    Raises :class:`LoadError` naming the accepted forms for anything else.
    """
    if text == LOCAL:
        return None
    match = _DASK_URL.fullmatch(text)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise LoadError(
            f"--executor {text!r} is not 'local' or 'dask://HOST:PORT' "
            "(e.g. dask://127.0.0.1:8786, the address of a Dask scheduler)"
        )
    return f"tcp://{match['host']}:{int(match['port'])}"


#: One world at a time in a worker process: a world holds the process's collector
#: thresholds and measures the process's memory, and threads would share the GIL anyway.
_ONE_WORLD = threading.Lock()


def _log_time() -> str:
    """Now, as distributed's log lines begin (they sort as text)."""
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _one_world_at_a_time(fn: Callable[..., Any], *args: Any) -> Any:
    with _ONE_WORLD:
        return fn(*args)


class DaskCluster:
    """A client of a Dask scheduler that runs bpcert's tasks (see the module's doc)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @classmethod
    def connect(cls, address: str, timeout_s: float | None = None) -> DaskCluster:
        """Connect to the scheduler at ``address`` (``tcp://HOST:PORT``).

        Raises :class:`LoadError` when ``distributed`` is not installed or the
        scheduler cannot be reached within ``timeout_s`` (default
        :data:`CONNECT_TIMEOUT_S`).
        """
        if timeout_s is None:
            timeout_s = CONNECT_TIMEOUT_S
        try:
            from distributed import Client
        except ImportError:
            raise LoadError(
                "--executor dask:// needs the Dask extra: pip install 'bpcert[dask]'"
            ) from None
        try:
            client = Client(address, timeout=timeout_s, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise LoadError(
                f"--executor: cannot reach a Dask scheduler at {address} within "
                f"{timeout_s:g} s ({exc}); start one with `dask scheduler` and workers with "
                "`dask worker HOST:PORT`, or use --executor local"
            ) from None
        return cls(client)

    @property
    def workers(self) -> int:
        """The worker processes the scheduler knows now (at least 1)."""
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def run_all(
        self,
        fn: Callable[..., Any],
        calls: Sequence[tuple[Any, ...]],
        on_outcome: Callable[[int, Any], None] | None = None,
    ) -> list[Any]:
        """Run ``fn(*args)`` for each ``args`` of ``calls`` as a task; return them in order.

        An outcome is what ``fn`` returned, or :class:`TaskFailed` when its worker died
        twice. ``on_outcome(index, outcome)`` sees each as it becomes final.
        """
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        def submit(args: tuple[Any, ...]) -> Any:
            return self.client.submit(_one_world_at_a_time, fn, *args, pure=False)

        started = _log_time()
        index = {submit(args): i for i, args in enumerate(calls)}
        retried: set[int] = set()
        outcomes: dict[int, Any] = {}
        pending = as_completed(list(index), loop=self.client.loop)
        for future in pending:
            i = index.pop(future)
            if future.status == "error" and isinstance(future.exception(), KilledWorker):
                if i not in retried:
                    retried.add(i)
                    again = submit(calls[i])
                    index[again] = i
                    pending.add(again)
                    continue
                outcome: Any = TaskFailed(self._worker_error(future.exception(), started))
            else:
                outcome = future.result()  # raises a task's own exception, as a pool does
            outcomes[i] = outcome
            if on_outcome is not None:
                on_outcome(i, outcome)
        return [outcomes[i] for i in range(len(calls))]

    def _worker_error(self, exc: BaseException, since: str) -> str:
        """What a dead worker's nanny said about its end (after ``since``), and the
        scheduler's message. The nanny may log it a moment after the scheduler gave up."""
        said = f"its worker died running it, and again on the retry ({exc})"
        deadline = time.monotonic() + _NANNY_LOG_WAIT_S
        while True:
            try:
                logs = self.client.get_worker_logs(nanny=True)
            except Exception:  # noqa: BLE001 - the logs only add detail to the message
                return said
            ends = [
                line
                for lines in logs.values()
                for _, line in lines
                if line >= since and "Worker process" in line and _ENDED.search(line)
            ]
            if ends:
                return f"{max(ends).split(' - ')[-1].strip()}; {said}"
            if time.monotonic() > deadline:
                return said
            time.sleep(0.25)

    def close(self) -> None:
        """Close the connection (the cluster itself keeps running)."""
        self.client.close()

    def __enter__(self) -> DaskCluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
