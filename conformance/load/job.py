"""A load job (plain values, picklable) and what it measured.

A :class:`LoadJob` is a frozen dataclass of plain values: it crosses to a worker process
or a cluster node as it is, and the worker builds the scenario from it. A
:class:`LoadResult` is what comes back. The small measuring helpers (resident memory,
the exact p95 of a run's check durations) live here too, since every run reads them.
"""

from __future__ import annotations

import math
import os
import resource
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from conformance.load.template import (
    DAY_S,
    ScenarioLatency,
    build_load_scenario,
    scenario_for_load,
)
from conformance.replay import ReplayFlags, display_path, launcher, scenario_word
from reports.model import PluginInfo, ScenarioSummary
from simulator.metrics import StreamingHistogram
from simulator.scenario import Scenario

__all__ = ["LoadJob", "LoadResult", "exact_p95", "peak_rss_mb", "rss_mb"]


@dataclass(frozen=True)
class LoadJob:
    """One load run, as plain picklable values (a cell of a sweep's grid)."""

    plugin: str
    vms: int
    days: float
    check_delay_s: float = 600.0
    seed: int | None = None
    policy_mix: str | None = None
    latency: ScenarioLatency = "measured"
    latency_factor: float = 1.0
    isolation: Literal["in-process", "process"] = "in-process"
    call_timeout_s: float = 10.0
    properties: tuple[tuple[str, str], ...] | None = None
    trace_level: Literal["calls", "off"] = "off"
    trace_path: str | None = None
    #: Datacenters, each with its own backup manager; None: :func:`default_datacenters`.
    datacenters: int | None = None
    #: A built-in scenario's name or a YAML file, run as it stands instead of the load
    #: template (``bpcert load --scenario``); see :meth:`for_scenario`.
    scenario_ref: str | None = None
    #: The contract profile (``--profile``); None: the newest the plugin declares.
    profile: str | None = None
    #: The file ``properties`` were read from (``--properties``), for the replay.
    properties_file: str | None = None

    @classmethod
    def for_scenario(
        cls,
        ref: str,
        *,
        plugin: str,
        days: float | None = None,
        check_delay_s: float | None = None,
        seed: int | None = None,
        **settings: Any,
    ) -> LoadJob:
        """A job that runs scenario ``ref`` (a built-in name or a YAML file) as a load run.

        Its fleet size, duration, check delay and latency are read from the scenario,
        with ``days``, ``check_delay_s`` and ``seed`` replacing the scenario's when
        given. ``settings`` are the other fields (isolation, trace, properties, ...).
        Raises what :func:`scenario_for_load` raises.
        """
        scenario = scenario_for_load(ref, days=days, check_delay_s=check_delay_s, seed=seed)
        latency = scenario.latency
        return cls(
            plugin=plugin,
            vms=scenario.fleet.vms,
            days=scenario.duration / DAY_S,
            check_delay_s=scenario.platform.check_delay,
            seed=seed,
            latency=latency.mode,
            latency_factor=latency.factor if latency.mode == "measured" else 1.0,
            scenario_ref=ref,
            **settings,
        )

    def scenario(self) -> Scenario:
        """The scenario this job runs."""
        if self.scenario_ref is not None:
            return scenario_for_load(
                self.scenario_ref,
                days=self.days,
                check_delay_s=self.check_delay_s,
                seed=self.seed,
            )
        return build_load_scenario(
            self.vms,
            self.days,
            check_delay_s=self.check_delay_s,
            policy_mix=self.policy_mix,
            seed=self.seed,
            latency=self.latency,
            latency_factor=self.latency_factor,
            datacenters=self.datacenters,
        )

    def trace_file(self, datacenter: int | None = None) -> Path | None:
        """Where the run writes its trace, or None when it writes none.

        Datacenter ``k`` of a run of several writes its own: ``trace.jsonl`` becomes
        ``trace-dc1.jsonl``, ``trace-dc2.jsonl``, ...
        """
        if self.trace_path is None or self.trace_level == "off":
            return None
        path = Path(self.trace_path)
        if datacenter is None:
            return path
        return path.with_name(f"{path.stem}-dc{datacenter + 1}{path.suffix}")

    def replay_flags(self) -> ReplayFlags:
        """The flags of this job that change its outcome, as a replay prints them."""
        return ReplayFlags(
            plugin=self.plugin,
            isolation=self.isolation,
            properties=None if self.properties_file is None else display_path(self.properties_file),
            call_timeout_s=self.call_timeout_s,
            profile=self.profile,
        )

    def replay(self) -> str:
        """The ``bpcert load`` command that runs this job again, as the run was launched."""
        # A scenario sets the template's options itself (and refuses them on the line).
        ref = self.scenario_ref
        template = ref is None
        parts = [*launcher(), "load", *self.replay_flags().args()]
        parts += ["--vms", str(self.vms)] if ref is None else ["--scenario", scenario_word(ref)]
        parts += ["--days", _exact(self.days), "--check-delay", _exact(self.check_delay_s)]
        if template and self.policy_mix is not None:
            parts += ["--policy-mix", self.policy_mix]
        if self.seed is not None:
            parts += ["--seed", str(self.seed)]
        if template and self.latency != "measured":
            parts += ["--latency", self.latency]
        elif template and self.latency_factor != 1.0:
            parts += ["--latency-factor", f"{self.latency_factor:g}"]
        if template and self.datacenters is not None:
            parts += ["--datacenters", str(self.datacenters)]
        return shlex.join(parts)


def _exact(value: float) -> str:
    """``value`` as short as ``:g`` writes it, or in full where that would round it."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MB (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


@dataclass
class LoadResult:
    """What one load job measured. Picklable, so it comes back from any executor."""

    job: LoadJob
    seed: int
    summary: ScenarioSummary
    plugin: PluginInfo
    check_duration_s: StreamingHistogram
    check_p95_s: float | None
    check_max_s: float | None
    checks: int
    checks_failed: int
    overruns: int
    results_per_check: StreamingHistogram
    freshness_s: StreamingHistogram
    queue_wait_s: StreamingHistogram
    lock_wait_s: StreamingHistogram
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    sim_events: int
    backups_taken: int
    #: Datacenters simulated, each a world with its own backup manager.
    datacenters: int = 1
    #: Resident memory (MB) at the end of each simulated day: of the one world's process,
    #: or, with several datacenters, of the largest of their processes that day.
    memory_by_day_mb: list[float] = field(default_factory=list)
    #: Datacenters (by index from 0) whose task failed on a cluster, with the worker's
    #: error; the figures above are the other datacenters'.
    failed_datacenters: dict[int, str] = field(default_factory=dict)
    #: Datacenters (by index from 0) a signal kept from running or whose part was lost;
    #: the figures above are the other datacenters'.
    not_run_datacenters: list[int] = field(default_factory=list)
    #: The contract profile the worlds drove the plugin as.
    profile: str = "abiquo-4.0.4"
    #: Plugin calls per results check (the profile's cost of one check).
    calls_per_check: StreamingHistogram = field(default_factory=StreamingHistogram)
    #: Where ``--max-wall`` stopped the run, in simulated seconds (with several
    #: datacenters, the least far); None when it ran to its end.
    stopped_at_s: float | None = None
    #: What interrupted the run (``interrupted by SIGTERM``) when a signal stopped it.
    interrupted: str | None = None

    @property
    def vm_days(self) -> float:
        """Simulated VM-days: fleet size times simulated days."""
        return self.job.vms * self.job.days

    @property
    def vm_days_per_wall_s(self) -> float | None:
        """Simulation speed."""
        return self.vm_days / self.wall_s if self.wall_s > 0 else None

    @property
    def events_per_backup(self) -> float | None:
        """SimPy events processed per backup the backup system took."""
        return self.sim_events / self.backups_taken if self.backups_taken else None

    @property
    def check_cost_s(self) -> float | None:
        """The cost of a check for the growth fit: the p95 of the check durations."""
        return self.check_p95_s


def exact_p95(durations: Sequence[float]) -> float | None:
    """The 95th percentile of ``durations`` by rank (None when there are none)."""
    if not durations:
        return None
    ordered = sorted(durations)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def rss_mb() -> float:
    """This process's resident memory now, in MB (0 where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
