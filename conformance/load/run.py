"""Running a load job: one world, or one world per datacenter on a process pool.

A scenario with a backup manager per datacenter runs as one world per datacenter; they
share nothing, so they run at once, and :func:`~conformance.load.merge.merge_runs` makes
one result of them in datacenter order.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import gc
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TypeVar

from conformance.load.cluster import DaskCluster, TaskFailed
from conformance.load.executors import (
    WORKER_DIED,
    InlineExecutor,
    WorkerDied,
    in_one_task_process,
    process_pool,
)
from conformance.load.job import LoadJob, LoadResult, exact_p95, peak_rss_mb, rss_mb
from conformance.load.merge import WorldRun, merge_runs
from conformance.load.template import DAY_S
from conformance.summary import plugin_info, scenario_summary
from simulator.interrupts import HarnessInterrupt, harness_interrupts
from simulator.scenario import Scenario, split_by_datacenter
from simulator.world import World

__all__ = [
    "TaskNotRun",
    "pool_task",
    "run_datacenter",
    "run_load_job",
    "run_load_scenario",
    "stop_pool_tasks",
]

T = TypeVar("T")


def _run_world(
    job: LoadJob,
    scenario: Scenario,
    *,
    trace: Path | None,
    progress: Callable[[float], None] | None,
    run_dir: Path | None,
    deadline: float | None = None,
) -> WorldRun:
    """Run one world of ``scenario`` in this process and measure it.

    ``deadline`` (``time.time()`` seconds, so that it means the same in every process) is
    when the run's ``--max-wall`` runs out: the world then stops where it is, and its
    figures are those of the part that ran (``stopped_at_s``).
    """
    from conformance.runner import resolve_plugin

    plugin = resolve_plugin(job.plugin, isolation=job.isolation, call_timeout_s=job.call_timeout_s)
    cpu0 = time.process_time()
    world = World(
        scenario,
        plugin.plugin_class,
        trace_path=trace,
        trace_level=job.trace_level,
        properties=dict(job.properties) if job.properties is not None else None,
        call_timeout_s=job.call_timeout_s,
        profile=job.profile,
    )
    end = world.duration_s
    step = max(end / 200.0, 60.0)
    # Progress steps, and the end of every simulated day for the memory by day.
    stops = sorted(
        {*(min(end, i * step) for i in range(1, math.ceil(end / step) + 1))}
        | {min(end, d * DAY_S) for d in range(1, math.ceil(end / DAY_S) + 1)}
    )
    memory_by_day: list[float] = []
    stopped_at: float | None = None
    interrupted: str | None = None
    world.start()
    try:
        for t in stops:
            if deadline is not None and time.time() >= deadline:
                stopped_at = world.env.now
                break
            world.advance(t)
            if t % DAY_S == 0 or t == end:
                memory_by_day.append(rss_mb())
            if progress is not None:
                progress(t)
    except HarnessInterrupt as exc:
        # SIGINT or SIGTERM in the process that runs the world (bpcert's own, with one
        # world or --workers 0): what ran is reported, as a check's partial report is.
        stopped_at, interrupted = world.env.now, str(exc)
    finally:
        if in_one_task_process():
            # This process ends with the task, without freeing its objects one by one:
            # a collection of the finished world would walk it all for nothing.
            gc.disable()
        world.finish()
    cpu_s = time.process_time() - cpu0
    m = world.metrics
    durations = [c.end - c.start for c in m.checks]
    complete = len(m.checks) == world.platform.checks
    hist = m.check_duration_s
    p95 = exact_p95(durations) if complete else (hist.quantile(0.95) if hist.count else None)
    result = LoadResult(
        job=job,
        seed=world.seed,
        summary=scenario_summary(world, trace, run_dir),
        plugin=plugin_info(plugin),
        check_duration_s=hist,
        check_p95_s=p95,
        check_max_s=hist.max,
        checks=world.platform.checks,
        checks_failed=m.checks_failed,
        overruns=m.check_overruns,
        results_per_check=m.results_per_check,
        freshness_s=m.freshness_s,
        queue_wait_s=m.queue_wait_s,
        lock_wait_s=m.lock_wait_s,
        wall_s=world.wall_seconds,
        cpu_s=cpu_s,
        peak_rss_mb=peak_rss_mb(),
        sim_events=world.sim_events,
        backups_taken=world.backup_system.backups_taken,
        memory_by_day_mb=memory_by_day,
        profile=world.profile.id,
        calls_per_check=m.calls_per_check,
        stopped_at_s=stopped_at,
        interrupted=interrupted,
    )
    return WorldRun(
        result,
        durations if complete else None,
        dict(m.latency_s),
        dict(m.wall_ms),
        {op: dict(n) for op, n in m.outcomes.items()},
    )


def run_datacenter(
    job: LoadJob,
    scenario: Scenario,
    index: int | None,
    run_dir: Path | None = None,
    deadline: float | None = None,
    stop_file: Path | None = None,
) -> WorldRun:
    """Run datacenter ``index`` of a load run (``scenario`` is its own world's).

    Module-level, so a process pool or a cluster can run it; each datacenter writes its
    own trace (``index`` None: the run's only world, which writes the run's trace).
    ``deadline`` is the run's ``--max-wall`` as a ``time.time()`` instant. Once
    ``stop_file`` exists (the parent was interrupted), :class:`TaskNotRun`.
    """
    trace = job.trace_file(datacenter=index)
    with pool_task(stop_file):
        return _run_world(
            job, scenario, trace=trace, progress=None, run_dir=run_dir, deadline=deadline
        )


class TaskNotRun(Exception):
    """A pool process got a task (a datacenter, a sweep job) after bpcert was interrupted."""


@contextlib.contextmanager
def pool_task(stop_file: Path | None) -> Iterator[None]:
    """Around a task that may run in a pool process: the SIGINT or SIGTERM the parent
    forwards (:func:`stop_pool_tasks`) stops its world where it is, and the part that ran
    comes back as its result; once ``stop_file`` exists, :class:`TaskNotRun` at once."""
    guard = harness_interrupts(sigterm=True) if in_one_task_process() else contextlib.nullcontext()
    with guard:
        # Looked at once the handler is set: a process the parent's signal missed (started
        # after it) sees the file the parent made before signalling.
        if stop_file is not None and stop_file.exists():
            raise TaskNotRun()
        yield


def stop_pool_tasks(
    pool: Executor, futures: Sequence[Future[T]], interrupt: HarnessInterrupt, stop_file: Path
) -> dict[int, T]:
    """The results of ``futures`` (by position) once ``interrupt`` reached this process.

    Tasks not started are not started (``stop_file`` tells the pool's processes that get
    one after all); the signal goes on to the pool's processes, whose worlds stop where
    they are (:func:`pool_task`), and their parts are waited for. A task that brings
    back no result (not started, or its process ended first) is left out; when none
    brings one back, ``interrupt`` is raised again: there is no partial report.
    """
    for future in futures:
        future.cancel()
    stop_file.touch()
    # ProcessPoolExecutor names its processes only in a private attribute.
    processes: dict[int, object] = getattr(pool, "_processes", None) or {}
    for pid in list(processes):
        with contextlib.suppress(OSError):
            os.kill(pid, interrupt.signum)
    concurrent.futures.wait(futures)
    results = {
        k: f.result() for k, f in enumerate(futures) if not f.cancelled() and f.exception() is None
    }
    if not results:
        raise interrupt
    return results


def run_load_job(
    job: LoadJob,
    *,
    progress: Callable[[float], None] | None = None,
    run_dir: Path | None = None,
    workers: int | None = None,
    on_idle_core: Callable[[], None] | None = None,
    cluster: DaskCluster | None = None,
    on_task_done: Callable[[int, int], None] | None = None,
    deadline: float | None = None,
) -> LoadResult:
    """Run one load job and measure it (no conformance probes): see :func:`run_load_scenario`.

    Module-level and free of closures, so executors in other processes can run it.
    """
    return run_load_scenario(
        job.scenario(),
        job,
        progress=progress,
        run_dir=run_dir,
        workers=workers,
        on_idle_core=on_idle_core,
        cluster=cluster,
        on_task_done=on_task_done,
        deadline=deadline,
    )


def run_load_scenario(
    scenario: Scenario,
    job: LoadJob,
    *,
    progress: Callable[[float], None] | None = None,
    run_dir: Path | None = None,
    workers: int | None = None,
    on_idle_core: Callable[[], None] | None = None,
    cluster: DaskCluster | None = None,
    on_task_done: Callable[[int, int], None] | None = None,
    deadline: float | None = None,
) -> LoadResult:
    """Run ``scenario`` as a load run of ``job``'s plugin and settings, and measure it.

    ``deadline`` (a ``time.time()`` instant: the run's ``--max-wall``) stops every world
    where it is when it passes; the result's ``stopped_at_s`` then says how far it got.

    A scenario with a backup manager per datacenter runs as one world per datacenter
    (:func:`~simulator.scenario.split_by_datacenter`): they share nothing, so they run
    on ``workers`` processes at once (default: the CPU count; 0 runs them here, one
    after the other), and their figures are merged. Each world is deterministic, and
    the merge is in datacenter order, so the result does not depend on ``workers``.

    ``on_idle_core`` is called once, in this process, as soon as a CPU has no
    datacenter left to run (in the last wave, or from the start when there are more
    CPUs than datacenters): the caller can prepare its report there meanwhile.

    With a ``cluster``, each datacenter is a task on it instead (even a run's only one),
    and ``workers`` does not apply: see :func:`_run_on_cluster`. ``on_task_done(done,
    all)`` sees the count of datacenters finished, when there are several or a cluster.
    """
    parts = split_by_datacenter(scenario)
    if cluster is not None:
        return _run_on_cluster(
            scenario,
            parts,
            job,
            cluster,
            progress=progress,
            run_dir=run_dir,
            on_idle_core=on_idle_core,
            on_task_done=on_task_done,
            deadline=deadline,
        )
    if len(parts) == 1:
        trace = job.trace_file()
        return _run_world(
            job, scenario, trace=trace, progress=progress, run_dir=run_dir, deadline=deadline
        ).result
    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    cpus = os.cpu_count() or 1
    concurrency = min(len(parts), workers if workers is not None else cpus)
    pool = InlineExecutor() if concurrency == 0 else process_pool(concurrency)
    idle_hook = on_idle_core

    def call_when_idle(done: int) -> None:
        nonlocal idle_hook
        if idle_hook is not None and min(concurrency, len(parts) - done) < cpus:
            hook, idle_hook = idle_hook, None
            hook()

    not_run: list[int] = []
    # The scratch directory outlives the pool: a queued datacenter may look for the file.
    with tempfile.TemporaryDirectory(prefix="bpcert-load-") as scratch, pool:
        stop_file = Path(scratch) / "interrupted"
        futures = [
            pool.submit(run_datacenter, job, part, k, run_dir, deadline, stop_file)
            for k, part in enumerate(parts)
        ]
        try:
            call_when_idle(0)
            for done, _ in enumerate(concurrent.futures.as_completed(futures), start=1):
                if progress is not None:
                    progress(scenario.duration * done / len(parts))
                if on_task_done is not None:
                    on_task_done(done, len(parts))
                call_when_idle(done)
            runs = [f.result() for f in futures]
        except HarnessInterrupt as exc:
            interrupt: HarnessInterrupt | None = exc
            ran = stop_pool_tasks(pool, futures, exc, stop_file)
            runs = list(ran.values())
            not_run = [k for k in range(len(parts)) if k not in ran]
        except BrokenProcessPool:
            raise WorkerDied(WORKER_DIED.format(what="simulating a datacenter")) from None
        else:
            interrupt = None
    merged = merge_runs(
        job,
        scenario,
        runs,
        wall_s=time.perf_counter() - wall0,
        cpu_s=time.process_time() - cpu0,
        concurrency=concurrency,
        run_dir=run_dir,
    )
    if interrupt is not None and merged.interrupted is None:
        # Every world ended before the signal reached it: the run was still interrupted.
        merged.interrupted = str(interrupt)
    merged.not_run_datacenters = not_run
    return merged


def _run_on_cluster(
    scenario: Scenario,
    parts: list[Scenario],
    job: LoadJob,
    cluster: DaskCluster,
    *,
    progress: Callable[[float], None] | None,
    run_dir: Path | None,
    on_idle_core: Callable[[], None] | None,
    on_task_done: Callable[[int, int], None] | None,
    deadline: float | None = None,
) -> LoadResult:
    """Run each datacenter of ``scenario`` as a task on ``cluster``; merge as locally.

    A datacenter whose task failed twice (its worker died) is left out of the merge and
    named in ``failed_datacenters``; when every one failed, :class:`WorkerDied`.
    """
    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    if on_idle_core is not None:
        on_idle_core()  # this machine only waits for the cluster
    alone = len(parts) == 1
    calls = [(job, part, None if alone else k, run_dir, deadline) for k, part in enumerate(parts)]
    done = 0

    def finished(index: int, outcome: object) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(scenario.duration * done / len(parts))
        if on_task_done is not None:
            on_task_done(done, len(parts))

    outcomes = cluster.run_all(run_datacenter, calls, finished)
    failed = {k: o.error for k, o in enumerate(outcomes) if isinstance(o, TaskFailed)}
    runs = [o for o in outcomes if not isinstance(o, TaskFailed)]
    if not runs:
        what = "the run's world" if alone else f"every one of the {len(parts)} datacenters"
        raise WorkerDied(f"the Dask task of {what} failed: {failed[0]}")
    if alone:
        result: LoadResult = runs[0].result
        return result
    merged = merge_runs(
        job,
        scenario,
        runs,
        wall_s=time.perf_counter() - wall0,
        cpu_s=time.process_time() - cpu0,
        concurrency=min(cluster.workers, len(parts)),
        run_dir=run_dir,
    )
    return dataclasses.replace(merged, failed_datacenters=failed) if failed else merged
