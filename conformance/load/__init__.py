"""Polling at fleet scale: `bpcert load`, `bpcert sweep` and the benchmarks."""

from __future__ import annotations

from conformance.load.engine import (
    GROWTH_LIMIT,
    NIGHT_POLICIES,
    LoadError,
    LoadJob,
    LoadResult,
    build_load_scenario,
    default_datacenters,
    fit_growth,
    parse_policy_mix,
    process_pool,
    run_load_job,
    run_load_scenario,
    run_sweep,
    scenario_for_load,
    sweep_jobs,
    sweep_run_report,
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
