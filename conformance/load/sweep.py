"""``bpcert sweep``: a grid of independent load jobs, and the growth of the check cost.

The grid (fleet sizes x check delays x seeds, :func:`sweep_jobs`) runs on any
:class:`concurrent.futures.Executor` (:func:`run_sweep`), and :func:`fit_growth` fits,
per check delay, the exponent of the check cost (the p95 of a job's check durations)
against the fleet size.
"""

from __future__ import annotations

import concurrent.futures
import math
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from conformance.load.cluster import DaskCluster, TaskFailed
from conformance.load.executors import WORKER_DIED, InlineExecutor, WorkerDied
from conformance.load.job import LoadJob, LoadResult
from conformance.load.run import pool_task, run_load_job, stop_pool_tasks
from conformance.load.template import LoadError
from simulator.interrupts import HarnessInterrupt

__all__ = [
    "GROWTH_LIMIT",
    "SweepInterrupted",
    "fit_growth",
    "growth_by_delay",
    "run_sweep",
    "sweep_jobs",
    "wall_growth_by_delay",
]

#: A growth exponent above this is "worse than linear" and flags a sweep.
GROWTH_LIMIT = 1.3


def sweep_jobs(
    plugin: str,
    *,
    vms: Iterable[int],
    check_delays: Iterable[float] = (600.0,),
    seeds: Iterable[int | None] = (None,),
    days: float = 1.0,
    **options: Any,
) -> list[LoadJob]:
    """The grid of jobs, ordered by check delay, fleet size, then seed.

    ``options`` are the other :class:`LoadJob` fields (``policy_mix``, ``latency``, ...).
    ``datacenters`` defaults to 1 here: the growth of one backup manager's check cost is
    what a sweep measures.
    """
    sizes = sorted(set(vms))
    delays = sorted(set(check_delays))
    seed_list = list(dict.fromkeys(seeds))
    if not sizes or not delays or not seed_list:
        raise LoadError("a sweep needs at least one fleet size, one check delay and one seed")
    # A growth measurement wants one backup manager whose load grows with the fleet.
    if options.get("datacenters") is None:
        options["datacenters"] = 1
    return [
        LoadJob(plugin=plugin, vms=n, days=days, check_delay_s=d, seed=s, **options)
        for d in delays
        for n in sizes
        for s in seed_list
    ]


class SweepInterrupted(HarnessInterrupt):
    """SIGINT or SIGTERM stopped a sweep whose jobs ran in worker processes; ``results``
    are those of the jobs that brought one back (stopped part-way or whole), in job order."""

    def __init__(self, signum: int, results: list[LoadResult]) -> None:
        super().__init__(signum)
        self.results = results


def run_sweep(
    jobs: Sequence[LoadJob],
    executor: Executor | DaskCluster | None = None,
    *,
    on_result: Callable[[LoadResult], None] | None = None,
    on_failure: Callable[[LoadJob, str], None] | None = None,
    deadline: float | None = None,
) -> list[LoadResult]:
    """Run every job on ``executor`` (any :class:`concurrent.futures.Executor`, or a cluster).

    ``None`` runs them here, one after the other. ``on_result`` sees each result as it
    completes; the list returned is in job order whatever the order of completion.

    On a :class:`~conformance.load.cluster.DaskCluster` each job is a task; a job whose
    worker died twice goes to ``on_failure(job, error)`` and is left out of the list
    (without ``on_failure``, it raises :class:`WorkerDied`).

    ``deadline`` (a ``time.time()`` instant: the sweep's ``--max-wall``) stops the jobs
    running when it passes where they are (their ``stopped_at_s``), and keeps the jobs
    that have not started from starting; those are left out of the list. The first job
    always runs, so that there is something to report.

    SIGINT or SIGTERM while jobs run in a process pool stops them the same way (the
    signal is forwarded to them) and raises :class:`SweepInterrupted` with the results
    that came back.
    """
    if isinstance(executor, DaskCluster):
        return _run_sweep_on_cluster(jobs, executor, on_result, on_failure, deadline)
    pool = executor if executor is not None else InlineExecutor()
    try:
        return _run_sweep(jobs, pool, on_result, deadline)
    except BrokenProcessPool:
        raise WorkerDied(WORKER_DIED.format(what="running a sweep job")) from None


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.time() >= deadline


def _interrupted(futures: Iterable[Future[LoadResult]]) -> bool:
    """Whether a signal stopped a job run here (an inline executor's, already done)."""
    return any(
        f.done() and not f.cancelled() and f.exception() is None and f.result().interrupted
        for f in futures
    )


def _run_sweep(
    jobs: Sequence[LoadJob],
    pool: Executor,
    on_result: Callable[[LoadResult], None] | None,
    deadline: float | None,
) -> list[LoadResult]:
    # The scratch directory outlives every job: a queued one may look for the file.
    with tempfile.TemporaryDirectory(prefix="bpcert-sweep-") as scratch:
        stop_file = Path(scratch) / "interrupted"
        futures: dict[Future[LoadResult], int] = {}
        results: dict[int, LoadResult] = {}
        try:
            _submit_and_wait(jobs, pool, on_result, deadline, stop_file, futures, results)
        except HarnessInterrupt as exc:
            # Raised here only while jobs run in other processes (an inline job catches
            # it in its own world): theirs stop and report too.
            submitted = sorted(futures, key=futures.__getitem__)
            came_back = stop_pool_tasks(pool, submitted, exc, stop_file)
            for k, result in came_back.items():
                results.setdefault(futures[submitted[k]], result)
            raise SweepInterrupted(exc.signum, [results[i] for i in sorted(results)]) from None
    return [results[i] for i in sorted(results)]


def _run_pool_job(job: LoadJob, deadline: float | None, stop_file: Path) -> LoadResult:
    """One sweep job in a worker, its datacenters one after the other (no pool in a pool);
    a forwarded signal stops it where it is (:func:`~conformance.load.run.pool_task`)."""
    with pool_task(stop_file):
        return run_load_job(job, workers=0, deadline=deadline)


def _submit_and_wait(
    jobs: Sequence[LoadJob],
    pool: Executor,
    on_result: Callable[[LoadResult], None] | None,
    deadline: float | None,
    stop_file: Path,
    futures: dict[Future[LoadResult], int],
    results: dict[int, LoadResult],
) -> None:
    """Submit ``jobs`` to ``pool`` (into ``futures``) and gather ``results`` as they come."""
    for i, job in enumerate(jobs):
        if i and (_past(deadline) or _interrupted(futures)):
            break  # here (an inline executor runs each job as it is submitted): no more
        futures[pool.submit(_run_pool_job, job, deadline, stop_file)] = i
    pending = set(futures)
    while pending:
        timeout = None if deadline is None else max(0.0, deadline - time.time())
        done, pending = concurrent.futures.wait(
            pending, timeout=timeout, return_when=concurrent.futures.FIRST_COMPLETED
        )
        if not done:
            # The deadline: jobs that have not started never will; running ones stop.
            for future in pending:
                if futures[future] and future.cancel():
                    del futures[future]
            pending = {f for f in pending if f in futures}
            deadline = None
            continue
        for future in sorted(done, key=futures.__getitem__):
            result = future.result()
            results[futures[future]] = result
            if on_result is not None:
                on_result(result)


def _run_job_alone(job: LoadJob, deadline: float | None = None) -> LoadResult:
    """One sweep job, its datacenters one after the other (a task of a cluster)."""
    return run_load_job(job, workers=0, deadline=deadline)


def _run_sweep_on_cluster(
    jobs: Sequence[LoadJob],
    cluster: DaskCluster,
    on_result: Callable[[LoadResult], None] | None,
    on_failure: Callable[[LoadJob, str], None] | None,
    deadline: float | None = None,
) -> list[LoadResult]:
    def finished(index: int, outcome: object) -> None:
        if isinstance(outcome, TaskFailed):
            if on_failure is None:
                raise WorkerDied(f"the Dask task of a sweep job failed: {outcome.error}")
            on_failure(jobs[index], outcome.error)
        elif on_result is not None and isinstance(outcome, LoadResult):
            on_result(outcome)

    # Every task stops itself at the deadline (one that starts after it stops at once).
    outcomes = cluster.run_all(_run_job_alone, [(job, deadline) for job in jobs], finished)
    return [o for o in outcomes if isinstance(o, LoadResult)]


def fit_growth(points: Iterable[tuple[float, float]]) -> float | None:
    """The least-squares slope of log(cost) against log(vms), or None if it cannot be fitted.

    Points with a size or cost that is not positive are left out; at least two distinct
    sizes must remain.
    """
    usable = [(math.log(n), math.log(c)) for n, c in points if n > 0 and c > 0]
    xs = [x for x, _ in usable]
    if len(set(xs)) < 2:
        return None
    mx = sum(xs) / len(xs)
    my = sum(y for _, y in usable) / len(usable)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in usable)
    return sxy / sxx


def growth_by_delay(results: Sequence[LoadResult]) -> dict[float, float | None]:
    """The fitted growth exponent of the check cost, per check delay."""
    delays = sorted({r.job.check_delay_s for r in results})
    return {
        d: fit_growth(
            (r.job.vms, r.check_cost_s)
            for r in results
            if r.job.check_delay_s == d and r.check_cost_s is not None
        )
        for d in delays
    }


def wall_growth_by_delay(results: Sequence[LoadResult]) -> dict[float, float | None]:
    """The fitted growth exponent of a job's wall time against its fleet size, per delay.

    Wall time measures the machine as well as the simulator: read it beside the check
    cost's exponent, from jobs run one at a time (``--workers 1``) on a quiet machine.
    """
    delays = sorted({r.job.check_delay_s for r in results})
    return {
        d: fit_growth((r.job.vms, r.wall_s) for r in results if r.job.check_delay_s == d)
        for d in delays
    }
