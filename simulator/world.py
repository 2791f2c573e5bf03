"""One simulated world: a scenario, a plugin class, and everything between them.

A world owns one ``simpy.Environment`` and one seeded ``random.Random`` from which
every component gets its own stream; there is no global state, so many worlds can run
side by side in one process. Its backup system gets an endpoint that is unique in the
process (``sim://backup-<n>``), so a plugin whose backend outlives the world never
sees another world's jobs.

Usage::

    world = World(scenario, plugin_class, trace_path=Path("out/trace.jsonl"))
    world.observe(checker)          # optional: online observers
    summary = world.run()
"""

from __future__ import annotations

import contextlib
import gc
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import simpy

from simulator.backend.backup_system import BackupSystem, BackupSystemSettings
from simulator.backend.fleet import Fleet
from simulator.backend.out_of_band import OutOfBand
from simulator.bridge.loader import release_component_classes
from simulator.bridge.stdio import redacted_output
from simulator.clock import SimClock
from simulator.contract import (
    BackupPolicy,
    ConnectionData,
    ConnectionMetadata,
    FieldConstraint,
)
from simulator.interrupts import harness_interrupts
from simulator.metrics import DownsampledSeries, StreamingHistogram
from simulator.platform.core import CheckRecord, Platform, PlatformSettings, Task
from simulator.platform.invoker import (
    MIN_SECRET,
    CallRecord,
    Invoker,
    LatencyModel,
    secrets_of,
)
from simulator.platform.results_table import Transition
from simulator.platform.workload import TimelineItem, Workload, WorkloadSettings
from simulator.profiles import ContractProfile, declared_profiles, select_profile
from simulator.scenario import Scenario
from simulator.trace import TraceLevel, TraceWriter

__all__ = ["RunMetrics", "World", "WorldObserver", "connection_data_for", "properties_for"]

_MB = 1_000_000.0


#: Young collections after a net growth of this many container objects (CPython's
#: default is 700). A datacenter of ``bpcert load`` (25,000 VMs) grows by about 615,000
#: in thirty days, so it is never collected; a plugin that leaves cyclic garbage behind
#: is collected at least once per million such objects, so memory stays bounded.
_GC_YOUNG_THRESHOLD = 1_000_000
_GC_HELD = 1 << 30


class _FullCollectionsHeld:
    """Holds off the cyclic garbage collector's full collections while worlds run.

    A full collection walks every live container object. At fleet scale the platform
    holds hundreds of thousands of results, and CPython's default thresholds made these
    walks take a third of a run's time. A young collection walks every object that has
    survived since the last one, and what survives is what the world holds for days:
    a higher threshold saves nothing until it exceeds what a world grows by in a run.
    The simulation makes almost no reference cycles (a few hundred objects in three
    days of ``load-m``), so young collections wait for a net growth of a million
    objects, and full ones until the last running world finishes. Holds nest: the
    thresholds are restored when the last one ends.
    """

    def __init__(self) -> None:
        self._holders = 0
        self._before: tuple[int, int, int] = gc.get_threshold()

    def hold(self) -> None:
        """Start holding (one more world running)."""
        if self._holders == 0:
            self._before = gc.get_threshold()
            gc.set_threshold(max(self._before[0], _GC_YOUNG_THRESHOLD), self._before[1], _GC_HELD)
        self._holders += 1

    def release(self) -> None:
        """Stop holding (a world finished); restore the thresholds after the last one."""
        if self._holders == 0:
            return
        self._holders -= 1
        if self._holders == 0:
            gc.set_threshold(*self._before)


full_collections = _FullCollectionsHeld()


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes (for benchmarks)."""

    def __init__(self) -> None:
        super().__init__()
        self.events_processed = 0

    def step(self) -> None:
        """Process the next event, counting it."""
        self.events_processed += 1
        super().step()


class WorldObserver(Protocol):
    """What an online observer of a world may implement (every method is optional)."""

    def attach(self, world: World) -> None:
        """Called once before the run starts."""


def connection_data_for(
    metadata: ConnectionMetadata, endpoint: str | None, user: str | None, password: str | None
) -> ConnectionData:
    """The connection data the platform passes, honouring the plugin's constraints.

    ``NO_APPLICABLE`` fields are left out; ``MANDATORY`` and ``OPTIONAL`` ones are
    passed when the backup manager has them. A ``MANDATORY`` field the backup manager
    lacks is a configuration error of the scenario.
    """
    if metadata.endpoint is FieldConstraint.MANDATORY and not endpoint:
        raise ValueError("the plugin requires an endpoint but the backup manager has none")
    if metadata.credentials is FieldConstraint.MANDATORY and (user is None or password is None):
        raise ValueError("the plugin requires credentials but the backup manager has none")
    with_endpoint = metadata.endpoint is not FieldConstraint.NO_APPLICABLE
    with_credentials = metadata.credentials is not FieldConstraint.NO_APPLICABLE
    return ConnectionData.model_validate(
        {
            "endpoint": endpoint if with_endpoint else None,
            "user": user if with_credentials else None,
            "password": password if with_credentials else None,
        }
    )


def properties_for(
    plugin_class: type, scenario: Scenario, override: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The plugin's properties file for this run.

    The base is ``override`` (``--properties FILE``) when given, else the plugin's
    optional ``example_properties`` class attribute; the scenario then sets and unsets
    keys, or starts from nothing with ``mode: empty``.
    """
    if override is not None:
        base = dict(override)
    else:
        base = dict(getattr(plugin_class, "example_properties", {}) or {})
    return scenario.platform.properties.apply(base)


@dataclass
class RunMetrics:
    """Streaming metrics of one run: bounded memory whatever its length."""

    latency_s: dict[str, StreamingHistogram] = field(default_factory=dict)
    wall_ms: dict[str, StreamingHistogram] = field(default_factory=dict)
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)
    freshness_s: StreamingHistogram = field(default_factory=StreamingHistogram)
    lock_wait_s: StreamingHistogram = field(default_factory=StreamingHistogram)
    lock_wait_series: DownsampledSeries = field(default_factory=DownsampledSeries)
    queue_depth: DownsampledSeries = field(default_factory=DownsampledSeries)
    results_per_check: StreamingHistogram = field(default_factory=StreamingHistogram)
    #: Plugin calls per results check: in abiquo-4.0.4 listResults, and getExpiredResults
    #: when a result is due; from abiquo-4.7 two listings plus one per result asked about
    #: or due to expire.
    calls_per_check: StreamingHistogram = field(default_factory=StreamingHistogram)
    check_duration_s: StreamingHistogram = field(default_factory=StreamingHistogram)
    queue_wait_s: StreamingHistogram = field(default_factory=StreamingHistogram)
    checks: list[CheckRecord] = field(default_factory=list)
    check_overruns: int = 0
    checks_failed: int = 0
    max_checks_kept: int = 5000

    def on_call(self, record: CallRecord) -> None:
        """Add a call's simulated and wall latency and its outcome (not the audit's probes)."""
        if record.probe:
            return
        op = record.op
        latency = self.latency_s.get(op)
        if latency is None:  # not setdefault: that would build two histograms a call
            latency = self.latency_s[op] = StreamingHistogram()
            self.wall_ms[op] = StreamingHistogram()
            self.outcomes[op] = {}
        latency.add(record.end - record.start)
        self.wall_ms[op].add(record.wall_ms)
        by_outcome = self.outcomes[op]
        by_outcome[record.outcome] = by_outcome.get(record.outcome, 0) + 1

    def on_task(self, task: Task) -> None:
        """Add a task's lock wait."""
        if task.status != "rejected":
            self.lock_wait_s.add(task.lock_wait)
            self.queue_wait_s.add(task.queue_wait)
            self.lock_wait_series.add(task.ended or 0.0, task.lock_wait)

    def on_check(self, check: CheckRecord, delay_s: float) -> None:
        """Keep a bounded record of the checks; count overruns of the interval."""
        self.results_per_check.add(check.results)
        self.calls_per_check.add(check.calls)
        self.check_duration_s.add(check.end - check.start)
        if check.end - check.start > delay_s:
            self.check_overruns += 1
        if not check.ok:
            self.checks_failed += 1
        if len(self.checks) < self.max_checks_kept:
            # Without its calls: a listResults answer holds every result of the window,
            # and thousands of them kept here would make memory grow with the run.
            self.checks.append(replace(check, list_call=None, expired_call=None))

    def on_transitions(self, transitions: list[Transition], t: float, clock: SimClock) -> None:
        """Freshness: how long after a backup finished the platform saw it final."""
        seconds = clock.seconds
        add = self.freshness_s.add
        for tr in transitions:
            finish = tr.finish_date
            if finish is not None and tr.event != "RESTORE_FINISH":
                seen_after = t - seconds(finish)
                add(seen_after if seen_after > 0.0 else 0.0)


class World:
    """A simulated Abiquo platform, fleet and backup system running one scenario."""

    def __init__(
        self,
        scenario: Scenario,
        plugin_class: type,
        *,
        trace_path: Path | None = None,
        trace_level: TraceLevel = "full",
        trace_wall_time: bool = False,
        properties: Mapping[str, str] | None = None,
        call_timeout_s: float = 10.0,
        seed: int | None = None,
        component_classes: Mapping[str, type] | None = None,
        profile: str | None = None,
    ) -> None:
        if scenario.fleet.manager_per_datacenter:
            raise ValueError(
                f"scenario {scenario.name!r} gives each of its {scenario.fleet.datacenters} "
                "datacenters a backup manager: one world simulates one backup manager, so "
                "run one world per datacenter (simulator.scenario.split_by_datacenter; "
                "`bpcert load` does this)"
            )
        self.scenario = scenario
        self.plugin_class = plugin_class
        #: The contract generation this world drives the plugin as: ``profile``, or the
        #: newest one the plugin declares (``simulator.profiles``). A profile the plugin
        #: does not declare raises :class:`~simulator.profiles.ProfileError`.
        self.profile: ContractProfile = select_profile(declared_profiles(plugin_class), profile)
        self.seed = scenario.seed if seed is None else seed
        root = random.Random(self.seed)
        streams = {
            name: random.Random(root.getrandbits(64))
            for name in ("fleet", "backup", "latency", "workload")
        }
        self.env = CountingEnvironment()
        self.clock = SimClock(self.env, scenario.start)
        fs = scenario.fleet
        self.fleet = Fleet.generate(
            streams["fleet"],
            vms=fs.vms,
            datacenters=fs.datacenters,
            hypervisors_per_datacenter=fs.hypervisors_per_datacenter,
            disks_per_vm=fs.disks_per_vm,
            disk_size_bytes=(int(fs.disk_size_gb[0] * 2**30), int(fs.disk_size_gb[1] * 2**30)),
            guest_write_interval_s=fs.guest_write_interval,
        )
        self.policies: dict[str, BackupPolicy] = {p.code: p.to_policy() for p in scenario.policies}
        bs = scenario.backup_system
        manager = scenario.platform.backup_manager
        self.backup_system = BackupSystem(
            self.env,
            streams["backup"],
            self.clock,
            self.fleet,
            BackupSystemSettings(
                throughput_bytes_per_s=bs.throughput_mb_per_s * _MB,
                restore_throughput_bytes_per_s=bs.restore_throughput_mb_per_s * _MB,
                failure_probability=bs.failure_probability,
                retention_by_policy={p.code: p.retention for p in scenario.policies},
                default_retention_s=bs.on_demand_retention,
                start_delay_max_s=bs.start_delay_max,
                min_duration_s=bs.min_backup_duration,
                forget_expired_after_s=bs.forget_expired_after,
            ),
            user=manager.user or "",
            password=manager.password or "",
        )
        #: Declared outage windows (start, end) in simulated seconds, sorted.
        self.outages: list[tuple[float, float]] = []
        for outage in scenario.faults.outages:
            self.add_outage(outage.start, outage.start + outage.duration)
        self.trace = TraceWriter(trace_path, level=trace_level)
        self.properties = properties_for(plugin_class, scenario, properties)
        endpoint = self.backup_system.endpoint if manager.endpoint == "auto" else None
        self.connection_data = connection_data_for(
            getattr(plugin_class, "connection_metadata", ConnectionMetadata()),
            endpoint,
            manager.user,
            manager.password,
        )
        self.latency = LatencyModel(scenario.latency, streams["latency"])
        self._secrets = secrets_of(manager.user, manager.password, self.properties)
        #: An in-process plugin writes to bpcert's own stdout and stderr: redacted while
        #: the world runs (an isolated one's stderr is redacted where it is quoted).
        self._output = contextlib.ExitStack()
        self.invoker = Invoker(
            self.env,
            self.clock,
            self.trace,
            self.latency,
            self.connection_data,
            deadline_s=scenario.platform.call_deadline,
            call_timeout_s=call_timeout_s,
            trace_wall_time=trace_wall_time,
            secrets=self._secrets,
        )
        ps = scenario.platform
        self.settings = PlatformSettings(
            check_delay_s=ps.check_delay,
            open_sessions=ps.open_sessions,
            session_scope=ps.session_scope,
            vdcs=ps.vdcs,
            lock_vm_during_backup=ps.lock_vm_during_backup,
            hypervisor_job_s=ps.hypervisor_job,
            vf_workers=ps.vf_workers,
            expiry_question=ps.expiry_question,
            expiry_rotation_checks=ps.expiry_rotation_checks,
            per_id_steps=tuple(ps.per_id_steps),
            start_date_from=ps.start_date_from,
            unknown_asked_again=ps.unknown_asked_again,
            step_failure=ps.step_failure,
            policy_sync_delay_s=ps.policy_sync_delay,
            policy_sync_deployed_only=ps.policy_sync_deployed_only,
        )
        self.platform = Platform(
            self.env,
            self.clock,
            self.fleet,
            self.invoker,
            self.trace,
            plugin_class,
            self.properties,
            self.settings,
            profile=self.profile,
            policies=self.policies,
        )
        # Separate classes per component play separate JVMs: static state is not shared.
        self.platform.component_classes = dict(component_classes or {})
        wl = scenario.workload
        deployed = fs.vms if fs.deployed_at_start is None else fs.deployed_at_start
        self.workload = Workload(
            self.env,
            streams["workload"],
            self.platform,
            self.fleet,
            self.policies,
            WorkloadSettings(
                vms=fs.vms,
                deployed_at_start=deployed,
                policy_mix=tuple((tuple(m.policies), m.weight) for m in fs.policy_mix),
                rates=wl.rates.model_dump(),
                invalid_fraction=wl.invalid_fraction,
                replication_fraction=wl.replication_fraction,
                timeline=tuple(
                    TimelineItem(
                        at=e.at,
                        action=e.action,
                        vm=e.vm,
                        policies=e.policies,
                        replication=e.replication,
                        backup=e.backup,
                        repeat=e.repeat,
                        policy=e.policy,
                        in_progress=e.in_progress,
                    )
                    for e in wl.timeline
                ),
            ),
            out_of_band=OutOfBand(
                self.env, self.backup_system, self.fleet, self.policies, self.trace
            ),
        )
        self.metrics = RunMetrics()
        self.invoker.observers.append(self.metrics.on_call)
        self.platform.hooks.task_end.append(self.metrics.on_task)
        self.platform.hooks.check_end.append(
            lambda c: self.metrics.on_check(c, self.settings.check_delay_s)
        )
        self.platform.hooks.transition.append(
            lambda transitions, t: self.metrics.on_transitions(transitions, t, self.clock)
        )
        self.platform.hooks.queue_depth.append(self.metrics.queue_depth.add)
        self.finishers: list[Callable[[World], None]] = []
        self.wall_seconds = 0.0
        self._started = False
        self._holding_gc = False
        self._wall0 = time.perf_counter()

    @property
    def sim_events(self) -> int:
        """SimPy events processed so far."""
        return self.env.events_processed

    @property
    def duration_s(self) -> float:
        """How long the world runs, in simulated seconds."""
        return float(self.scenario.duration)

    def observe(self, observer: Any) -> None:
        """Attach an online observer (it registers its own hooks in ``attach``)."""
        observer.attach(self)

    def add_outage(self, start_s: float, end_s: float) -> None:
        """Declare a backup-system outage (the system fails every call in [start, end))."""
        self.backup_system.add_outage(start_s, end_s)
        self.outages.append((start_s, end_s))
        self.outages.sort()

    def start(self) -> None:
        """Register the backup system and start the platform and the workload."""
        if self._started:
            raise RuntimeError("a World starts once; build a new one to run again")
        self._started = True
        self._wall0 = time.perf_counter()
        if not getattr(self.plugin_class, "enforces_deadlines", False):
            self._output.enter_context(
                redacted_output(s for s in self._secrets if len(s) >= MIN_SECRET)
            )
        full_collections.hold()
        self._holding_gc = True
        self.backup_system.register()
        self.platform.start()
        self.workload.start()

    def advance(self, until_s: float) -> None:
        """Run the simulation up to ``until_s`` simulated seconds."""
        if until_s > self.env.now:
            self.env.run(until=until_s)

    def finish(self, *, audit: bool = True) -> None:
        """Run the finishers (end-of-run audits) unless ``audit`` is false, then close the
        trace and the plugins."""
        try:
            for finish in self.finishers if audit else ():
                finish(self)
        finally:
            if self._holding_gc:  # first: a failing close below must not keep it held
                self._holding_gc = False
                full_collections.release()
            self.trace.close()
            self.backup_system.unregister()
            self.close_plugins()
            release_component_classes(self.platform.component_classes)
            self._output.close()
            self.wall_seconds = time.perf_counter() - self._wall0
        if self.trace.failed is not None:
            raise self.trace.failed

    def run(
        self, *, progress: Callable[[float], None] | None = None, step_s: float | None = None
    ) -> World:
        """Run the scenario to its end, then the finishers (end-of-run audits)."""
        with harness_interrupts():
            self.start()
            try:
                end = self.duration_s
                step = step_s or max(end / 200.0, 60.0)
                t = 0.0
                while t < end:
                    t = min(end, t + step)
                    self.advance(t)
                    if progress is not None:
                        progress(t)
            except BaseException:
                # Stopped early (an interrupt, a deadline): no end-of-run audit, whose
                # calls to the plugin could take long, but the trace and plugins closed.
                self.finish(audit=False)
                raise
            self.finish()
        return self

    def close_plugins(self) -> None:
        """Release plugin instances that hold resources (isolated plugin processes)."""
        for instance in self.platform.instances.values():
            close = getattr(instance, "close", None)
            if callable(close):
                # Closing must never mask the run's result.
                with contextlib.suppress(Exception):
                    close()
