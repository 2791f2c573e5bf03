"""``bpcert load`` and ``bpcert sweep``: does a plugin's polling keep up as the fleet grows?

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
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import difflib
import gc
import math
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

from pydantic import ValidationError

from conformance.exit_codes import ExitCode
from conformance.summary import plugin_info, scenario_summary
from reports.model import (
    GrowthPoint,
    HistogramData,
    LoadMetrics,
    OperationStats,
    PluginInfo,
    RunReport,
    ScenarioSummary,
)
from simulator.metrics import StreamingHistogram
from simulator.scenario import Scenario, load_scenario, split_by_datacenter
from simulator.world import World

__all__ = [
    "GROWTH_LIMIT",
    "LOAD_COMMANDS",
    "LOAD_TEMPLATE",
    "InlineExecutor",
    "LoadError",
    "LoadJob",
    "LoadResult",
    "WorkerDied",
    "add_load_parsers",
    "build_load_scenario",
    "default_datacenters",
    "fit_growth",
    "load_run_report",
    "parse_policy_mix",
    "run_datacenter",
    "run_load_job",
    "run_load_scenario",
    "run_sweep",
    "scenario_for_load",
    "sweep_jobs",
    "sweep_run_report",
]

#: The built-in scenario every load run starts from.
LOAD_TEMPLATE = "load-s"
#: A growth exponent above this is "worse than linear" and flags a sweep.
GROWTH_LIMIT = 1.3
#: The nightly policies of the template, one per hour of the 22:00..02:00 window.
NIGHT_POLICIES: tuple[str, ...] = (
    "DAILY-2200",
    "DAILY-2300",
    "DAILY-0000",
    "DAILY-0100",
    "DAILY-0200",
)
#: The template's "every 4 hours" snapshot policy.
HOURLY_POLICIES: tuple[str, ...] = ("HOURLY-4",)
_GROUPS: dict[str, tuple[str, ...]] = {"night": NIGHT_POLICIES, "hourly": HOURLY_POLICIES}
_NONE = "none"
_MIX_EXAMPLE = "night:0.9,night+hourly:0.1"
_DAY_S = 86400.0
#: ``bpcert load`` puts at most this many VMs in a datacenter unless told otherwise:
#: load-m's density (100,000 VMs over four datacenters).
VMS_PER_DATACENTER = 25_000

#: A scenario's latency modes; the load template takes only "measured" and "fixed".
ScenarioLatency = Literal["measured", "fixed", "distribution"]

P = ParamSpec("P")
T = TypeVar("T")


class LoadError(ValueError):
    """A load or sweep request that cannot run as given (a usage error, exit code 4)."""


class WorkerDied(RuntimeError):
    """A process simulating a datacenter or a sweep job ended abruptly (exit code 3).

    Out of memory, killed from outside, or ended by an in-process plugin (``os._exit``, a
    crash in native code): the run cannot be completed, and nothing in bpcert raised.
    """


_DIED = (
    "a process {what} ended abruptly: it ran out of memory, was killed, or the plugin "
    "ended it (os._exit, a crash in native code). Run with --isolation process to keep "
    "a crashing plugin out of bpcert's processes, or with --workers 0 to see it here."
)


# ---------------------------------------------------------------------- policy mix


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def parse_policy_mix(
    text: str, known_codes: Sequence[str] = (*NIGHT_POLICIES, *HOURLY_POLICIES)
) -> tuple[tuple[tuple[str, ...], float], ...]:
    """Parse a ``--policy-mix`` into ``((policy codes, weight), ...)`` for ``fleet.policy_mix``.

    The syntax is comma-separated ``TERM:WEIGHT`` entries, e.g. ``night:0.9,night+hourly:0.1``:

    - a TERM is ``none`` (no backup configuration) or ``+``-joined parts, each ``night``
      (one nightly COMPLETE backup, spread evenly over the five policies of the
      22:00..02:00 window), ``hourly`` (a SNAPSHOT every 4 hours) or a policy code of the
      template (``DAILY-2300``, ``HOURLY-4``, ...);
    - a WEIGHT is a positive number; weights are relative (``night:9,night+hourly:1`` is
      the same mix).

    A term with ``night`` becomes five entries, one per nightly policy, each with a fifth
    of the weight. Raises :class:`LoadError` saying what is wrong and how to write it.
    """
    codes = list(known_codes)
    if not text or not text.strip():
        raise LoadError(
            f"--policy-mix is empty; expected TERM:WEIGHT entries, e.g. {_MIX_EXAMPLE!r}"
        )
    seen_terms: dict[tuple[str, ...], str] = {}
    out: list[tuple[tuple[str, ...], float]] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            raise LoadError(
                f"--policy-mix {text!r} has an empty entry (two commas in a row, or a trailing "
                f"comma); expected TERM:WEIGHT entries, e.g. {_MIX_EXAMPLE!r}"
            )
        term, sep, weight_text = entry.rpartition(":")
        if not sep or not term.strip():
            raise LoadError(
                f"--policy-mix entry {entry!r} is not TERM:WEIGHT; write e.g. 'night:0.9' "
                f"(the whole mix like {_MIX_EXAMPLE!r})"
            )
        try:
            weight = float(weight_text)
        except ValueError:
            weight = math.nan
        if not (math.isfinite(weight) and weight > 0):
            raise LoadError(
                f"--policy-mix entry {entry!r}: the weight {weight_text.strip()!r} is not a "
                "positive number; weights are relative, e.g. 0.9 and 0.1, or 9 and 1"
            )
        parts = [p.strip() for p in term.split("+")]
        for part in parts:
            if part != _NONE and part not in _GROUPS and part not in codes:
                names = [_NONE, *_GROUPS, *codes]
                raise LoadError(
                    f"--policy-mix entry {entry!r}: unknown group or policy {part!r}; "
                    f"{_suggest(part, names)}use night, hourly, none, or a policy code of the "
                    f"load template ({', '.join(codes)})"
                )
        if _NONE in parts and len(parts) > 1:
            raise LoadError(
                f"--policy-mix entry {entry!r}: 'none' means no backup at all and cannot be "
                "combined with other parts; give it its own entry, e.g. 'none:0.05'"
            )
        expanded: list[str] = []
        for part in parts:
            for code in _GROUPS.get(part, () if part == _NONE else (part,)):
                if code in expanded:
                    raise LoadError(
                        f"--policy-mix entry {entry!r}: policy {code} appears twice in one "
                        "term ('night' already holds every DAILY policy of the window)"
                    )
                expanded.append(code)
        key = tuple(sorted(parts))
        if key in seen_terms:
            raise LoadError(
                f"--policy-mix: the term {term.strip()!r} appears twice ({seen_terms[key]!r} and "
                f"{entry!r}); merge them into one entry by adding their weights"
            )
        seen_terms[key] = entry
        if "night" in parts:
            rest = tuple(c for c in expanded if c not in NIGHT_POLICIES)
            share = weight / len(NIGHT_POLICIES)
            out.extend(((nightly, *rest), share) for nightly in NIGHT_POLICIES)
        else:
            out.append((tuple(expanded), weight))
    return tuple(out)


# ---------------------------------------------------------------------- scenario


def default_datacenters(vms: int) -> int:
    """The datacenters ``bpcert load`` spreads ``vms`` over: at most 25,000 VMs in each."""
    return max(1, math.ceil(vms / VMS_PER_DATACENTER))


def _check_days_and_delay(days: float | None, check_delay_s: float | None) -> None:
    """Refuse a duration or check delay that is not a positive number (None: not given)."""
    if days is not None and not (math.isfinite(days) and days > 0):
        raise LoadError(f"--days must be a positive number of simulated days, got {days!r}")
    if check_delay_s is not None and not (math.isfinite(check_delay_s) and check_delay_s > 0):
        raise LoadError(
            f"--check-delay must be a positive number of seconds (Abiquo's default is 600), "
            f"got {check_delay_s!r}"
        )


def build_load_scenario(
    vms: int,
    days: float,
    *,
    check_delay_s: float = 600.0,
    policy_mix: str | None = None,
    seed: int | None = None,
    latency: ScenarioLatency = "measured",
    latency_factor: float = 1.0,
    datacenters: int | None = None,
) -> Scenario:
    """The load template with the fleet, duration, check delay, mix, seed and latency given.

    The share of VMs deployed at the start and the workload per VM are the template's:
    its rates (per day, for its 5,000 VMs) are scaled to ``vms``. The VMs are spread
    over ``datacenters`` (default :func:`default_datacenters`), each with a backup
    manager of its own when there are several. Raises :class:`LoadError` for values
    that cannot make a scenario.
    """
    if isinstance(vms, bool) or not isinstance(vms, int) or vms < 1:
        raise LoadError(f"--vms must be a whole number of VMs >= 1, got {vms!r}")
    if datacenters is None:
        datacenters = default_datacenters(vms)
    if isinstance(datacenters, bool) or not isinstance(datacenters, int) or datacenters < 1:
        raise LoadError(f"--datacenters must be a whole number >= 1, got {datacenters!r}")
    if datacenters > vms:
        raise LoadError(
            f"--datacenters ({datacenters}) must not exceed --vms ({vms}): "
            "every datacenter needs at least one VM"
        )
    _check_days_and_delay(days, check_delay_s)
    if latency not in ("measured", "fixed"):
        raise LoadError(f"--latency must be 'measured' or 'fixed', got {latency!r}")
    if not (math.isfinite(latency_factor) and latency_factor > 0):
        raise LoadError(f"--latency-factor must be a positive number, got {latency_factor!r}")
    base = load_scenario(LOAD_TEMPLATE)
    data = base.model_dump()
    template_vms = base.fleet.vms
    share = base.fleet.deployed_initially / template_vms
    data["name"] = f"load-{vms}-vms"
    data["description"] = (
        f"bpcert load: {vms} VMs for {days:g} days, a check every {check_delay_s:g} s "
        f"({LOAD_TEMPLATE} shape)"
    )
    if seed is not None:
        data["seed"] = seed
    data["duration"] = days * _DAY_S
    data["fleet"]["vms"] = vms
    data["fleet"]["datacenters"] = datacenters
    data["fleet"]["backup_managers"] = "per-datacenter" if datacenters > 1 else "one"
    data["fleet"]["deployed_at_start"] = min(vms, round(vms * share))
    if policy_mix is not None:
        codes = [p.code for p in base.policies]
        data["fleet"]["policy_mix"] = [
            {"policies": list(policies), "weight": weight}
            for policies, weight in parse_policy_mix(policy_mix, codes)
        ]
    scale = vms / template_vms
    data["workload"]["rates"] = {k: v * scale for k, v in data["workload"]["rates"].items()}
    data["platform"]["check_delay"] = check_delay_s
    if latency == "measured":
        data["latency"]["mode"] = "measured"
        data["latency"]["factor"] = latency_factor
    return Scenario.model_validate(data)


def scenario_for_load(
    ref: str,
    *,
    days: float | None = None,
    check_delay_s: float | None = None,
    seed: int | None = None,
) -> Scenario:
    """A built-in scenario (by name) or a YAML file, to run as a load run as it stands.

    ``days``, ``check_delay_s`` and ``seed`` replace the scenario's duration, check
    delay and seed when given; everything else (fleet, datacenters, policies,
    workload, latency) is the scenario's. A malformed file raises
    :class:`~simulator.scenario.ScenarioError` naming its line and field; a value that
    cannot make a scenario raises :class:`LoadError`.
    """
    _check_days_and_delay(days, check_delay_s)
    base = load_scenario(ref)
    # A job carries the scenario's own values back here; those are no change.
    if days is not None and math.isclose(days * _DAY_S, base.duration, rel_tol=1e-12):
        days = None
    if check_delay_s is not None and check_delay_s == base.platform.check_delay:
        check_delay_s = None
    if seed is not None and seed == base.seed:
        seed = None
    if days is None and check_delay_s is None and seed is None:
        return base
    data = base.model_dump()
    if days is not None:
        data["duration"] = days * _DAY_S
    if check_delay_s is not None:
        data["platform"]["check_delay"] = check_delay_s
    if seed is not None:
        data["seed"] = seed
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        # e.g. a scripted event of the scenario that a shorter --days leaves out
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise LoadError(
            f"scenario {ref!r} cannot run with the values given: "
            + (f"{where}: {message}" if where else message)
        ) from None


# ---------------------------------------------------------------------- one job


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
            days=scenario.duration / _DAY_S,
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

    def replay(self) -> str:
        """The ``bpcert load`` command that runs this job again."""
        # A scenario sets the template's options itself (and refuses them on the line).
        template = self.scenario_ref is None
        parts = ["bpcert", "load", "--plugin", self.plugin]
        parts += ["--vms", str(self.vms)] if template else ["--scenario", str(self.scenario_ref)]
        parts += ["--days", _exact(self.days), "--check-delay", _exact(self.check_delay_s)]
        if template and self.policy_mix is not None:
            parts += ["--policy-mix", self.policy_mix]
        if self.seed is not None:
            parts += ["--seed", str(self.seed)]
        if template and self.latency != "measured":
            parts += ["--latency", self.latency]
        elif template and self.latency_factor != 1.0:
            parts += ["--latency-factor", f"{self.latency_factor:g}"]
        if self.isolation != "in-process":
            parts += ["--isolation", self.isolation]
        if template and self.datacenters is not None:
            parts += ["--datacenters", str(self.datacenters)]
        return shlex.join(parts)


def _exact(value: float) -> str:
    """``value`` as short as ``:g`` writes it, or in full where that would round it."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def _peak_rss_mb() -> float:
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


def _exact_p95(durations: Sequence[float]) -> float | None:
    if not durations:
        return None
    ordered = sorted(durations)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _rss_mb() -> float:
    """This process's resident memory now, in MB (0 where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


@dataclass
class _WorldRun:
    """What one world of a load run measured, with the raw figures a merge needs."""

    result: LoadResult
    check_durations: list[float] | None  # None when the metrics kept only some checks
    latency_s: dict[str, StreamingHistogram]
    wall_ms: dict[str, StreamingHistogram]
    outcomes: dict[str, dict[str, int]]


def _run_world(
    job: LoadJob,
    scenario: Scenario,
    *,
    trace: Path | None,
    progress: Callable[[float], None] | None,
    run_dir: Path | None,
) -> _WorldRun:
    """Run one world of ``scenario`` in this process and measure it."""
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
    )
    end = world.duration_s
    step = max(end / 200.0, 60.0)
    # Progress steps, and the end of every simulated day for the memory by day.
    stops = sorted(
        {*(min(end, i * step) for i in range(1, math.ceil(end / step) + 1))}
        | {min(end, d * _DAY_S) for d in range(1, math.ceil(end / _DAY_S) + 1)}
    )
    memory_by_day: list[float] = []
    world.start()
    try:
        for t in stops:
            world.advance(t)
            if t % _DAY_S == 0 or t == end:
                memory_by_day.append(_rss_mb())
            if progress is not None:
                progress(t)
    finally:
        if _one_task_process:
            # This process ends with the task, without freeing its objects one by one:
            # a collection of the finished world would walk it all for nothing.
            gc.disable()
        world.finish()
    cpu_s = time.process_time() - cpu0
    m = world.metrics
    durations = [c.end - c.start for c in m.checks]
    complete = len(m.checks) == world.platform.checks
    hist = m.check_duration_s
    p95 = _exact_p95(durations) if complete else (hist.quantile(0.95) if hist.count else None)
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
        peak_rss_mb=_peak_rss_mb(),
        sim_events=world.sim_events,
        backups_taken=world.backup_system.backups_taken,
        memory_by_day_mb=memory_by_day,
    )
    return _WorldRun(
        result,
        durations if complete else None,
        dict(m.latency_s),
        dict(m.wall_ms),
        {op: dict(n) for op, n in m.outcomes.items()},
    )


def run_datacenter(
    job: LoadJob, scenario: Scenario, index: int, run_dir: Path | None = None
) -> _WorldRun:
    """Run datacenter ``index`` of a load run (``scenario`` is its own world's).

    Module-level, so a process pool can run it; each datacenter writes its own trace.
    """
    trace = job.trace_file(datacenter=index)
    return _run_world(job, scenario, trace=trace, progress=None, run_dir=run_dir)


def run_load_job(
    job: LoadJob,
    *,
    progress: Callable[[float], None] | None = None,
    run_dir: Path | None = None,
    workers: int | None = None,
    on_idle_core: Callable[[], None] | None = None,
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
    )


def run_load_scenario(
    scenario: Scenario,
    job: LoadJob,
    *,
    progress: Callable[[float], None] | None = None,
    run_dir: Path | None = None,
    workers: int | None = None,
    on_idle_core: Callable[[], None] | None = None,
) -> LoadResult:
    """Run ``scenario`` as a load run of ``job``'s plugin and settings, and measure it.

    A scenario with a backup manager per datacenter runs as one world per datacenter
    (:func:`~simulator.scenario.split_by_datacenter`): they share nothing, so they run
    on ``workers`` processes at once (default: the CPU count; 0 runs them here, one
    after the other), and their figures are merged. Each world is deterministic, and
    the merge is in datacenter order, so the result does not depend on ``workers``.

    ``on_idle_core`` is called once, in this process, as soon as a CPU has no
    datacenter left to run (in the last wave, or from the start when there are more
    CPUs than datacenters): the caller can prepare its report there meanwhile.
    """
    parts = split_by_datacenter(scenario)
    if len(parts) == 1:
        trace = job.trace_file()
        return _run_world(job, scenario, trace=trace, progress=progress, run_dir=run_dir).result
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

    with pool:
        futures = [
            pool.submit(run_datacenter, job, part, k, run_dir) for k, part in enumerate(parts)
        ]
        try:
            call_when_idle(0)
            for done, _ in enumerate(concurrent.futures.as_completed(futures), start=1):
                if progress is not None:
                    progress(scenario.duration * done / len(parts))
                call_when_idle(done)
            runs = [f.result() for f in futures]
        except BrokenProcessPool:
            raise WorkerDied(_DIED.format(what="simulating a datacenter")) from None
    return _merge_runs(
        job,
        scenario,
        runs,
        wall_s=time.perf_counter() - wall0,
        cpu_s=time.process_time() - cpu0,
        concurrency=concurrency,
        run_dir=run_dir,
    )


def _sum_counts(dicts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for d in dicts:
        for key, n in d.items():
            total[key] = total.get(key, 0) + n
    return total


def _merge_runs(
    job: LoadJob,
    scenario: Scenario,
    runs: Sequence[_WorldRun],
    *,
    wall_s: float,
    cpu_s: float,
    concurrency: int,
    run_dir: Path | None,
) -> LoadResult:
    """One result for a load run of several datacenters, merged in datacenter order."""
    results = [r.result for r in runs]
    parts = [r.summary for r in results]
    ops = sorted({op for r in runs for op in r.latency_s})
    operations = []
    for op in ops:
        outcomes = _sum_counts(r.outcomes.get(op, {}) for r in runs)
        operations.append(
            OperationStats(
                op=op,
                calls=sum(outcomes.values()),
                outcomes=outcomes,
                latency_s=HistogramData.from_histogram(
                    _merge(r.latency_s[op] for r in runs if op in r.latency_s)
                ),
                wall_ms=HistogramData.from_histogram(
                    _merge(r.wall_ms[op] for r in runs if op in r.wall_ms)
                ),
            )
        )
    freshness = _merge(r.freshness_s for r in results)
    lock_wait = _merge(r.lock_wait_s for r in results)
    check_duration = _merge(r.check_duration_s for r in results)
    all_durations: list[float] | None = []
    for r in runs:
        if r.check_durations is None or all_durations is None:
            all_durations = None
        else:
            all_durations.extend(r.check_durations)
    traces = [p.trace_file for p in parts if p.trace_file]
    trace_file = ", ".join(traces) if traces else None
    summary = ScenarioSummary(
        name=scenario.name,
        seed=scenario.seed,
        duration_s=scenario.duration,
        vms=sum(p.vms for p in parts),
        check_delay_s=scenario.platform.check_delay,
        tasks=_sum_counts(p.tasks for p in parts),
        rejections=_sum_counts(p.rejections for p in parts),
        rollbacks=sum(p.rollbacks for p in parts),
        events=_sum_counts(p.events for p in parts),
        checks=sorted((c for p in parts for c in p.checks), key=lambda c: (c.start, c.end)),
        checks_total=sum(p.checks_total for p in parts),
        check_overruns=sum(p.check_overruns for p in parts),
        results_seen=sum(p.results_seen for p in parts),
        operations=operations,
        freshness_s=HistogramData.from_histogram(freshness),
        queue_depth=sorted(pt for p in parts for pt in p.queue_depth),
        lock_wait_s=sorted(pt for p in parts for pt in p.lock_wait_s),
        lock_wait_hist=HistogramData.from_histogram(lock_wait),
        outages=parts[0].outages,
        trace_file=trace_file,
        wall_seconds=wall_s,
        sim_events=sum(p.sim_events for p in parts),
        backups_taken=sum(p.backups_taken for p in parts),
    )
    peaks = sorted((r.peak_rss_mb for r in results), reverse=True)
    # At most `concurrency` worlds were resident at once, next to this process.
    peak = _peak_rss_mb() + sum(peaks[: max(1, concurrency)]) if concurrency else _peak_rss_mb()
    days = max(len(r.memory_by_day_mb) for r in results)
    memory = [
        max(r.memory_by_day_mb[d] for r in results if d < len(r.memory_by_day_mb))
        for d in range(days)
    ]
    return LoadResult(
        job=job,
        seed=scenario.seed,
        summary=summary,
        plugin=results[0].plugin,
        check_duration_s=check_duration,
        check_p95_s=_exact_p95(all_durations)
        if all_durations is not None
        else (check_duration.quantile(0.95) if check_duration.count else None),
        check_max_s=check_duration.max,
        checks=sum(r.checks for r in results),
        checks_failed=sum(r.checks_failed for r in results),
        overruns=sum(r.overruns for r in results),
        results_per_check=_merge(r.results_per_check for r in results),
        freshness_s=freshness,
        queue_wait_s=_merge(r.queue_wait_s for r in results),
        lock_wait_s=lock_wait,
        wall_s=wall_s,
        cpu_s=cpu_s + (sum(r.cpu_s for r in results) if concurrency else 0.0),
        peak_rss_mb=peak,
        sim_events=sum(r.sim_events for r in results),
        backups_taken=sum(r.backups_taken for r in results),
        datacenters=len(results),
        memory_by_day_mb=memory,
    )


# ---------------------------------------------------------------------- sweeps


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


def run_sweep(
    jobs: Sequence[LoadJob],
    executor: Executor | None = None,
    *,
    on_result: Callable[[LoadResult], None] | None = None,
) -> list[LoadResult]:
    """Run every job on ``executor`` (any :class:`concurrent.futures.Executor`).

    ``None`` runs them here, one after the other. ``on_result`` sees each result as it
    completes; the list returned is in job order whatever the order of completion.
    """
    pool = executor if executor is not None else InlineExecutor()
    try:
        return _run_sweep(jobs, pool, on_result)
    except BrokenProcessPool:
        raise WorkerDied(_DIED.format(what="running a sweep job")) from None


def _run_sweep(
    jobs: Sequence[LoadJob],
    pool: Executor,
    on_result: Callable[[LoadResult], None] | None,
) -> list[LoadResult]:
    # A job's datacenters run in its own worker, one after the other: no pool in a pool.
    futures = {pool.submit(run_load_job, job, workers=0): i for i, job in enumerate(jobs)}
    results: dict[int, LoadResult] = {}
    for future in concurrent.futures.as_completed(futures):
        result = future.result()
        results[futures[future]] = result
        if on_result is not None:
            on_result(result)
    return [results[i] for i in range(len(jobs))]


#: Imported once by a pool's fork server, so that each worker forked from it starts ready.
_POOL_PRELOAD = ["conformance.load", "conformance.runner", "simulator.reference"]

#: True in a pool worker: it runs one task, then exits (see :func:`process_pool`).
_one_task_process = False


def _mark_one_task_process() -> None:
    global _one_task_process
    _one_task_process = True


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


def _merge(hists: Iterable[StreamingHistogram]) -> StreamingHistogram:
    total = StreamingHistogram()
    for h in hists:
        total.merge(h)
    return total


# ---------------------------------------------------------------------- reports


def _q(h: StreamingHistogram, q: float) -> float | None:
    return h.quantile(q) if h.count else None


def _count_q(h: StreamingHistogram, q: float) -> str:
    return "n/a" if not h.count else f"{h.quantile(q):.0f}"


def _run_id(kind: str, plugin: PluginInfo, suffix: str) -> str:
    who = plugin.type or plugin.spec
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in f"{kind}-{who}-{suffix}")


def _fmt_s(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value * 1000:.3g} ms"
    return f"{value:.3g} s"


def _load_notes(r: LoadResult) -> list[str]:
    ops = ", ".join(
        f"{op.op} p95 {_fmt_s(op.latency_s.p95)} (n={op.calls})" for op in r.summary.operations
    )
    notes: list[str] = []
    if r.datacenters > 1:
        notes.append(
            f"datacenters: {r.datacenters}, each with its own backup manager, Virtual Factory "
            "and periodic check, simulated as worlds of their own; the figures below are "
            "over all of them, and peak memory adds up the processes resident at once"
        )
    notes += [
        f"checks: {r.checks}, {r.overruns} over the {r.job.check_delay_s:g} s interval, "
        f"{r.checks_failed} failed; duration p50 {_fmt_s(_q(r.check_duration_s, 0.5))}, "
        f"p95 {_fmt_s(r.check_p95_s)}, max {_fmt_s(r.check_max_s)}",
        f"Virtual Factory: queue wait p95 {_fmt_s(_q(r.queue_wait_s, 0.95))}, "
        f"max {_fmt_s(r.queue_wait_s.max)}; lock wait p95 {_fmt_s(_q(r.lock_wait_s, 0.95))}",
        f"plugin call latency (simulated): {ops or 'no calls'}",
        f"speed: {r.wall_s:.1f} s wall, {r.cpu_s:.1f} s CPU, {r.sim_events} SimPy events for "
        f"{r.backups_taken} backups",
        f"latency mode: {r.job.latency}"
        + (
            f" (x{r.job.latency_factor:g}; durations follow wall time, so this run is not "
            "byte-reproducible)"
            if r.job.latency == "measured"
            else " (reproducible)"
        ),
    ]
    return notes


def load_run_report(result: LoadResult, *, started: datetime, wall_s: float) -> RunReport:
    """The report of one load run (kind ``load``); flagged when a check overran."""
    job = result.job
    flagged = result.overruns > 0
    reason = (
        f"{result.overruns} of {result.checks} checks took longer than the "
        f"{job.check_delay_s:g} s check interval"
        if flagged
        else None
    )
    metrics = LoadMetrics(
        vms=job.vms,
        days=job.days,
        check_delay_s=job.check_delay_s,
        overruns=result.overruns,
        results_per_check=HistogramData.from_histogram(result.results_per_check),
        freshness_p50_s=_q(result.freshness_s, 0.50),
        freshness_p95_s=_q(result.freshness_s, 0.95),
        freshness_p99_s=_q(result.freshness_s, 0.99),
        peak_memory_mb=result.peak_rss_mb,
        vm_days_per_wall_s=result.vm_days_per_wall_s,
        events_per_backup=result.events_per_backup,
        datacenters=result.datacenters,
        memory_by_day_mb=result.memory_by_day_mb,
        flagged=flagged,
        flag_reason=reason,
    )
    return RunReport(
        kind="load",
        run_id=_run_id("load", result.plugin, f"{job.vms}vms-seed{result.seed}"),
        created_at=started.isoformat(timespec="seconds"),
        wall_seconds=wall_s,
        plugin=result.plugin,
        seed=result.seed,
        replay=job.replay(),
        verdict="completed",
        exit_code=int(ExitCode.FINDINGS if flagged else ExitCode.OK),
        scenarios=[result.summary],
        load=metrics,
        notes=_load_notes(result),
    )


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


def sweep_run_report(
    results: Sequence[LoadResult],
    *,
    started: datetime,
    wall_s: float,
    replay: str,
    limit: float = GROWTH_LIMIT,
) -> RunReport:
    """The report of a sweep (kind ``sweep``): growth, its exponent, and the flag.

    ``load.growth`` holds the points of the check delay with the steepest growth (the
    one that decides the flag); the notes give every delay's exponent and every job.
    """
    if not results:
        raise LoadError("a sweep report needs at least one job result")
    exponents = growth_by_delay(results)
    fitted = {d: k for d, k in exponents.items() if k is not None}
    worst = max(fitted, key=lambda d: (fitted[d], -d)) if fitted else min(exponents)
    exponent = fitted.get(worst)
    overruns = sum(r.overruns for r in results)
    reasons = []
    steep = sorted(d for d, k in fitted.items() if k > limit)
    if steep:
        reasons.append(
            "check cost grows worse than linearly with the fleet: exponent "
            + ", ".join(f"{fitted[d]:.2f} at a {d:g} s delay" for d in steep)
            + f" (limit {limit:g})"
        )
    if overruns:
        reasons.append(f"{overruns} checks took longer than their check interval")
    total_wall = sum(r.wall_s for r in results)
    total_backups = sum(r.backups_taken for r in results)
    freshness = _merge(r.freshness_s for r in results)
    job0 = results[0].job
    metrics = LoadMetrics(
        vms=max(r.job.vms for r in results),
        days=job0.days,
        check_delay_s=worst,
        overruns=overruns,
        results_per_check=HistogramData.from_histogram(
            _merge(r.results_per_check for r in results)
        ),
        freshness_p50_s=_q(freshness, 0.50),
        freshness_p95_s=_q(freshness, 0.95),
        freshness_p99_s=_q(freshness, 0.99),
        peak_memory_mb=max(r.peak_rss_mb for r in results),
        vm_days_per_wall_s=sum(r.vm_days for r in results) / total_wall if total_wall else None,
        events_per_backup=sum(r.sim_events for r in results) / total_backups
        if total_backups
        else None,
        growth=[
            GrowthPoint(vms=r.job.vms, check_cost_s=r.check_cost_s)
            for r in results
            if r.job.check_delay_s == worst and r.check_cost_s is not None
        ],
        growth_exponent=exponent,
        flagged=bool(reasons),
        flag_reason="; ".join(reasons) or None,
    )
    notes = [
        f"growth exponent at a {d:g} s check delay: "
        + ("not fitted (needs two fleet sizes with checks)" if k is None else f"{k:.3f}")
        for d, k in exponents.items()
    ]
    notes.append(
        f"check cost = p95 of a job's check durations; latency mode {job0.latency}; "
        f"{len(results)} jobs, {total_wall:.1f} s of job wall time"
    )
    notes.extend(
        f"job vms={r.job.vms} delay={r.job.check_delay_s:g}s seed={r.seed}: check p95 "
        f"{_fmt_s(r.check_p95_s)}, max {_fmt_s(r.check_max_s)}, {r.overruns} overruns, "
        f"results/check p95 {_count_q(r.results_per_check, 0.95)}, "
        f"{r.backups_taken} backups, {r.wall_s:.1f} s wall, peak {r.peak_rss_mb:.0f} MB"
        for r in results
    )
    plugin = results[0].plugin
    sizes = sorted({r.job.vms for r in results})
    return RunReport(
        kind="sweep",
        run_id=_run_id("sweep", plugin, f"{sizes[0]}-{sizes[-1]}vms"),
        created_at=started.isoformat(timespec="seconds"),
        wall_seconds=wall_s,
        plugin=plugin,
        seed=results[0].seed,
        replay=replay,
        verdict="completed",
        exit_code=int(ExitCode.FINDINGS if reasons else ExitCode.OK),
        load=metrics,
        notes=notes,
    )


# ---------------------------------------------------------------------- command line


def _usage(message: str) -> Exception:
    from conformance.usage import UsageError

    return UsageError(message)


def _parsed_list(
    text: str, flag: str, convert: Callable[[str], T], what: str, example: str
) -> list[T]:
    """A comma-separated list of ``flag`` values, or a usage error naming the bad part."""
    values: list[T] = []
    for part in text.split(","):
        try:
            values.append(convert(part.strip()))
        except ValueError:
            raise _usage(
                f"{flag} {text!r}: {part.strip()!r} is not {what}; "
                f"expected a comma-separated list, e.g. {flag} {example}"
            ) from None
    return values


def _int_list(text: str, flag: str) -> list[int]:
    return _parsed_list(text, flag, int, "a whole number", "1000,2000,4000")


def _float_list(text: str, flag: str) -> list[float]:
    return _parsed_list(text, flag, float, "a number of seconds", "300,600")


_MIX_HELP = (
    "which backups the VMs get: comma-separated TERM:WEIGHT entries, e.g. "
    f"'{_MIX_EXAMPLE}' (the default is the template's 'night:0.85,night+hourly:0.1,none:0.05'). "
    "TERM is 'none' or '+'-joined parts: 'night' (one nightly backup, spread over "
    "22:00..02:00 UTC), 'hourly' (a snapshot every 4 hours) or a policy code of "
    "scenarios/load-s.yaml; weights are relative"
)


def _load_options(p: argparse.ArgumentParser, *, unset: bool = False) -> None:
    # unset: the defaults are None, so that `load` can tell which options were given
    # (the template's fleet options do not go with --scenario) and fill in the rest.
    p.add_argument(
        "--days",
        type=float,
        default=None if unset else 1.0,
        help="simulated days (default 1; with --scenario, the scenario's duration)",
    )
    p.add_argument("--policy-mix", default=None, help=_MIX_HELP)
    p.add_argument(
        "--latency",
        choices=("measured", "fixed"),
        default=None if unset else "measured",
        help="measured (default): a call's simulated duration is its wall time x "
        "--latency-factor, so a slow plugin makes long checks (not byte-reproducible); "
        "fixed: the template's 50 ms a call (reproducible)",
    )
    p.add_argument(
        "--latency-factor",
        type=float,
        default=None if unset else 1.0,
        help="measured latency: simulated seconds per wall second (default 1)",
    )


def add_load_parsers(sub: Any, common: Callable[..., None]) -> None:
    """Register the ``load`` and ``sweep`` subcommands on ``sub``."""
    load = sub.add_parser(
        "load",
        help="load-test polling at fleet scale (one fleet size)",
        description="Run the load template (scenarios/load-s.yaml) at the fleet size given "
        "(--vms), or a scenario as it stands (--scenario, e.g. load-m), and report check "
        "durations against the interval, results per check, freshness, Virtual Factory "
        "waits, call latency, peak memory and simulation speed. Exit code 1 when a check "
        "overran its interval.",
    )
    common(load)
    fleet = load.add_mutually_exclusive_group(required=True)
    fleet.add_argument("--vms", type=int, help="fleet size (VMs) of the load template")
    fleet.add_argument(
        "--scenario",
        default=None,
        help="run this built-in scenario (load-s, load-m, load-l, ...) or YAML file as a "
        "load run instead of the template; it sets the fleet, datacenters, policies, "
        "workload and latency, and --days, --check-delay and --seed may change its own",
    )
    load.add_argument(
        "--datacenters",
        type=int,
        default=None,
        help="datacenters, each with its own backup manager, Virtual Factory and check "
        f"(default: one per {VMS_PER_DATACENTER:,} VMs); they share nothing, so they run "
        "in parallel",
    )
    load.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes simulating datacenters at once (default: the CPU count); "
        "0 runs them in this process",
    )
    load.add_argument(
        "--check-delay",
        type=float,
        default=None,
        help="seconds between the end of a check and the next (default 600; with "
        "--scenario, the scenario's)",
    )
    _load_options(load, unset=True)
    load.add_argument(
        "--trace-level",
        choices=("calls", "off"),
        default="calls",
        help="calls (default): write trace.jsonl without per-result lines; off: no trace",
    )

    sweep = sub.add_parser(
        "sweep",
        help="a grid of load runs in parallel, with the growth exponent of the check cost",
        description="Run load jobs for every fleet size x check delay x seed on a process pool "
        "and fit, per check delay, the exponent of the check cost (p95 of the check "
        f"durations) against the fleet size. Exit code 1 when it exceeds {GROWTH_LIMIT:g} "
        "(worse than linear) or a check overran.",
    )
    common(sweep)
    sweep.add_argument(
        "--vms", required=True, help="fleet sizes, comma-separated, e.g. 1000,2000,4000"
    )
    sweep.add_argument(
        "--check-delays", default="600", help="check delays in seconds, comma-separated"
    )
    sweep.add_argument(
        "--seeds", default=None, help="seeds, comma-separated (default: --seed, or the template's)"
    )
    _load_options(sweep)
    sweep.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: the CPU count); 0 runs the jobs in this process",
    )
    sweep.add_argument(
        "--limit",
        type=float,
        default=GROWTH_LIMIT,
        help=f"flag a growth exponent above this (default {GROWTH_LIMIT:g})",
    )


def _properties(args: argparse.Namespace) -> tuple[tuple[str, str], ...] | None:
    from conformance.usage import read_properties

    props = read_properties(args.properties)
    return None if props is None else tuple(sorted(props.items()))


def _check_mix(text: str | None) -> None:
    if text is not None:
        try:
            parse_policy_mix(text)
        except LoadError as exc:
            raise _usage(str(exc)) from None


#: Options that shape the load template; a scenario given with --scenario sets them itself.
_TEMPLATE_ONLY = ("policy_mix", "datacenters", "latency", "latency_factor")


def _load_job(args: argparse.Namespace) -> tuple[LoadJob, Path]:
    """The job ``bpcert load`` was asked for, and its run directory; usage errors raised."""
    settings: dict[str, Any] = {
        "isolation": args.isolation,
        "call_timeout_s": args.call_timeout,
        "properties": _properties(args),
        "trace_level": args.trace_level,
    }
    try:
        if args.scenario is not None:
            given = [name for name in _TEMPLATE_ONLY if getattr(args, name) is not None]
            if given:
                flags = ", ".join("--" + name.replace("_", "-") for name in given)
                raise LoadError(
                    f"{flags} shape{'s' if len(given) == 1 else ''} the load template and "
                    f"cannot go with --scenario: {args.scenario!r} sets "
                    f"{'it' if len(given) == 1 else 'them'} itself (edit a copy of its YAML "
                    "to change that)"
                )
            job = LoadJob.for_scenario(
                args.scenario,
                plugin=args.plugin,
                days=args.days,
                check_delay_s=args.check_delay,
                seed=args.seed,
                **settings,
            )
            out = args.out or Path("out") / f"load-{job.scenario().name}"
        else:
            _check_mix(args.policy_mix)
            job = LoadJob(
                plugin=args.plugin,
                vms=args.vms,
                days=1.0 if args.days is None else args.days,
                check_delay_s=600.0 if args.check_delay is None else args.check_delay,
                seed=args.seed,
                policy_mix=args.policy_mix,
                latency="measured" if args.latency is None else args.latency,
                latency_factor=1.0 if args.latency_factor is None else args.latency_factor,
                datacenters=args.datacenters,
                **settings,
            )
            job.scenario()  # refuses values that cannot make a scenario
            out = args.out or Path("out") / f"load-{args.vms}vms"
    except LoadError as exc:
        raise _usage(str(exc)) from None
    return dataclasses.replace(job, trace_path=str(out / "trace.jsonl")), out


def _print_load(report: RunReport, console: Any) -> None:
    from rich.table import Table

    load = report.load
    if load is None:
        return
    table = Table(title=f"bpcert {report.kind}: {report.plugin.spec}", title_justify="left")
    table.add_column("measure")
    table.add_column("value", overflow="fold")
    rpc = load.results_per_check
    rows = [
        ("fleet", f"{load.vms} VMs x {load.days:g} days, check every {load.check_delay_s:g} s"),
        ("check overruns", str(load.overruns)),
        (
            "results per check",
            f"p50 {rpc.p50 or 0:.0f}, p95 {rpc.p95 or 0:.0f}, max {rpc.max or 0:.0f}",
        ),
        (
            "freshness p50 / p95 / p99",
            " / ".join(
                _fmt_s(v)
                for v in (load.freshness_p50_s, load.freshness_p95_s, load.freshness_p99_s)
            ),
        ),
        ("peak memory", f"{load.peak_memory_mb or 0:.0f} MB"),
        ("VM-days per wall second", f"{load.vm_days_per_wall_s or 0:.0f}"),
        (
            "SimPy events per backup",
            "n/a" if load.events_per_backup is None else f"{load.events_per_backup:.3f}",
        ),
    ]
    if report.kind == "sweep":
        rows.append(
            (
                "growth exponent",
                "n/a" if load.growth_exponent is None else f"{load.growth_exponent:.2f}",
            )
        )
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    for note in report.notes:
        console.print(f"  {note}", markup=False, highlight=False)
    if load.flagged:
        console.print(f"[bold red]flagged:[/] {load.flag_reason}", highlight=False)
    console.print(f"exit code {report.exit_code} · replay: {report.replay}", markup=False)


def _warm_up_plots() -> None:
    """Prepare matplotlib on a CPU the simulation no longer needs (about 0.7 s saved)."""
    from reports.plots import warm_up

    # Only a head start: drawing the plots meets, and reports, the same error.
    with contextlib.suppress(Exception):
        warm_up()


def _cmd_load(args: argparse.Namespace, console: Any) -> int:
    from reports.render import write_report
    from reports.terminal import SimProgress, scenario_table

    started = datetime.now(UTC)
    job, out = _load_job(args)
    if args.workers is not None and args.workers < 0:
        raise _usage(f"--workers must be 0 (run here) or more, got {args.workers}")
    total = job.days * _DAY_S
    wall0 = time.perf_counter()
    with SimProgress(console, total, f"load {job.vms} VMs", args.quiet) as bar:
        result = run_load_job(
            job,
            progress=bar.update,
            run_dir=out,
            workers=args.workers,
            on_idle_core=_warm_up_plots,
        )
    report = load_run_report(result, started=started, wall_s=time.perf_counter() - wall0)
    trace = job.trace_file()
    if result.datacenters > 1:
        trace = None  # one trace per datacenter, named in the summary
    paths = write_report(report, out, trace_path=trace)
    console.print(scenario_table(result.summary))
    _print_load(report, console)
    console.print(f"report: {paths.get('report.html', out)}", markup=False)
    return report.exit_code


def _cmd_sweep(args: argparse.Namespace, console: Any) -> int:
    from reports.render import write_report

    _check_mix(args.policy_mix)
    sizes = _int_list(args.vms, "--vms")
    delays = _float_list(args.check_delays, "--check-delays")
    seeds: list[int | None] = list(_int_list(args.seeds, "--seeds")) if args.seeds else [args.seed]
    if args.workers is not None and args.workers < 0:
        raise _usage(f"--workers must be 0 (run here) or more, got {args.workers}")
    if not (math.isfinite(args.limit) and args.limit > 0):
        raise _usage(f"--limit must be a positive exponent, e.g. 1.3, got {args.limit}")
    try:
        jobs = sweep_jobs(
            args.plugin,
            vms=sizes,
            check_delays=delays,
            seeds=seeds,
            days=args.days,
            policy_mix=args.policy_mix,
            latency=args.latency,
            latency_factor=args.latency_factor,
            isolation=args.isolation,
            call_timeout_s=args.call_timeout,
            properties=_properties(args),
        )
        for job in jobs:
            job.scenario()
    except LoadError as exc:
        raise _usage(str(exc)) from None
    from conformance.runner import resolve_plugin

    resolve_plugin(args.plugin, isolation=args.isolation)  # a bad spec fails here, once
    started = datetime.now(UTC)
    wall0 = time.perf_counter()

    def show(r: LoadResult) -> None:
        if not args.quiet:
            console.print(
                f"  done: {r.job.vms} VMs, delay {r.job.check_delay_s:g} s, seed {r.seed}: "
                f"check p95 {_fmt_s(r.check_p95_s)}, {r.overruns} overruns, {r.wall_s:.1f} s",
                markup=False,
                highlight=False,
            )

    if args.workers == 0:
        results = run_sweep(jobs, None, on_result=show)
    else:
        with process_pool(args.workers) as pool:
            results = run_sweep(jobs, pool, on_result=show)
    replay = ["bpcert", "sweep", "--plugin", args.plugin, "--vms", args.vms]
    replay += ["--check-delays", args.check_delays, "--days", f"{args.days:g}"]
    if args.seeds:
        replay += ["--seeds", args.seeds]
    elif args.seed is not None:
        replay += ["--seed", str(args.seed)]
    if args.policy_mix is not None:
        replay += ["--policy-mix", args.policy_mix]
    if args.latency != "measured":
        replay += ["--latency", args.latency]
    report = sweep_run_report(
        results,
        started=started,
        wall_s=time.perf_counter() - wall0,
        replay=shlex.join(replay),
        limit=args.limit,
    )
    first = report.plugin.type or "plugin"
    out: Path = args.out or Path("out") / f"sweep-{first}"
    paths = write_report(report, out)
    _print_load(report, console)
    console.print(f"report: {paths.get('report.html', out)}", markup=False)
    return report.exit_code


#: The subcommands this module adds to ``bpcert``: name -> handler(args, console).
LOAD_COMMANDS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "load": _cmd_load,
    "sweep": _cmd_sweep,
}
