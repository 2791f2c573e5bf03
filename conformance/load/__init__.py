"""Polling at fleet scale: ``bpcert load``, ``bpcert sweep`` and the benchmarks.

Does a plugin's polling keep up as the fleet grows?

**load** runs one world built from the load template (``scenarios/load-s.yaml``: a
nightly COMPLETE backup in the 22:00..02:00 UTC window, 10 % of the VMs also a
SNAPSHOT every 4 hours, retention per policy) with the fleet size, the duration, the
check delay, the policy mix and the seed of the command line. It runs without the
conformance audit's probes (too costly at scale), keeps the streaming metrics, and
reports check durations against the interval (overruns), results per check, freshness
lag, Virtual Factory waits, plugin call latency per operation, peak memory, simulated
VM-days per wall second and SimPy events per backup.

**sweep** runs a grid of independent load jobs (fleet sizes × check delays × seeds) on
any :class:`concurrent.futures.Executor` and fits, per check delay, the growth exponent
of the check cost (the p95 of the check durations of a job) against the fleet size::

    jobs = sweep_jobs("reference", vms=[1000, 2000, 4000], check_delays=[600], seeds=[1, 2])
    with ProcessPoolExecutor() as pool:
        results = run_sweep(jobs, pool)
    # or, on a Dask cluster: run_sweep(jobs, dask_client.get_executor())

A :class:`LoadJob` is a frozen dataclass of plain values and :func:`run_load_job` a
module-level function, so both pickle: the same grid runs on a process pool, on Dask
distributed or on Ray's executor without change.

**Latency.** Load runs default to the ``measured`` latency mode: a call's simulated
duration is its wall time × ``--latency-factor``, so a plugin that is slow for real makes
checks long in the simulation. Measured runs are therefore *not* byte-reproducible (the
trace's ``wall_ms`` and every duration depend on the machine and its load); use
``--latency fixed`` (the template's 50 ms a call) for a reproducible trace.
The package, by concept:

- :mod:`~conformance.load.template`: the load template, ``--policy-mix``, the scenario
  of a run;
- :mod:`~conformance.load.job`: :class:`LoadJob` (plain values) and :class:`LoadResult`;
- :mod:`~conformance.load.run`: one world, or one world per datacenter at once;
- :mod:`~conformance.load.merge`: the worlds' figures merged in datacenter order;
- :mod:`~conformance.load.executors`: where datacenters and sweep jobs run (in this
  process, a local process pool) and :class:`WorkerDied`;
- :mod:`~conformance.load.sweep`: the grid of a sweep and the growth fit;
- :mod:`~conformance.load.report`: the ``load`` and ``sweep`` reports;
- :mod:`~conformance.load.commands`: the ``bpcert load`` and ``bpcert sweep`` command lines;
- :mod:`~conformance.load.bench`: ``make bench``.
"""

from __future__ import annotations

from conformance.load.executors import process_pool
from conformance.load.job import LoadJob, LoadResult
from conformance.load.report import sweep_run_report
from conformance.load.run import run_load_job, run_load_scenario
from conformance.load.sweep import GROWTH_LIMIT, fit_growth, run_sweep, sweep_jobs
from conformance.load.template import (
    NIGHT_POLICIES,
    LoadError,
    build_load_scenario,
    default_datacenters,
    parse_policy_mix,
    scenario_for_load,
)

__all__ = [
    "GROWTH_LIMIT",
    "NIGHT_POLICIES",
    "LoadError",
    "LoadJob",
    "LoadResult",
    "build_load_scenario",
    "default_datacenters",
    "fit_growth",
    "parse_policy_mix",
    "process_pool",
    "run_load_job",
    "run_load_scenario",
    "run_sweep",
    "scenario_for_load",
    "sweep_jobs",
    "sweep_run_report",
]
