"""The state machine of the property-based suite: user actions on a small simulated world.

Each example builds a small simulated world (2 to 6 VMs, 2 or 3 backup policies drawn
from :mod:`conformance.properties.strategies` within what the plugin supports), attaches every
conformance checker (:class:`~conformance.rules.checking.Checkers`), and then lets Hypothesis pick
user actions as rules: deploy, reconfigure, undeploy, redeploy, on-demand backup,
restore, power off and on, time passing, and backup-system outages. Preconditions keep
each action to the VMs in the right lifecycle phase. After every step the world runs
for two simulated minutes, and the invariant is that no checker has a finding
(:class:`PropertyFailure` otherwise). At the end the world runs one more simulated day,
and the end-of-run audit must find nothing either.

Every example is recorded (:class:`~conformance.properties.examples.Example`) in the
:class:`Campaign` that the suite (:mod:`conformance.properties.stateful`) runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import reject
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from conformance.findings import Sink
from conformance.properties.examples import EXAMPLE_SCENARIO, Example, Step
from conformance.properties.strategies import (
    backup_policies,
    clock_times,
    defined_times,
    hourly_times,
)
from conformance.rules.checking import Checkers
from simulator.bridge.loader import LoadedPlugin
from simulator.clock import DEFAULT_START
from simulator.contract import (
    ALL_BACKUP_TYPES,
    ALL_PERIODICITIES,
    BackupConfiguration,
    BackupPolicy,
    BackupSchedule,
    BackupType,
    Periodicity,
)
from simulator.platform.core import Task
from simulator.platform.workload import shift_configuration
from simulator.scenario import Action, FleetSpec, PolicySpec, Scenario
from simulator.world import World

__all__ = ["SEPARATE_TIMELESS_TYPES", "Campaign", "PropertyFailure", "machine_factory"]

_DAY = 86400.0
#: The first action's instant: after the platform has loaded the plugin. The half
#: second keeps user actions off the whole seconds at which the platform's own events
#: (checks, hypervisor jobs, calls) fall, so that a replay orders them the same way.
_FIRST_ACTION_S = 60.5
#: How long the world runs after each action, so that its tasks run.
_STEP_S = 120.0
#: How long the world runs after the last action (and after any outage) before the
#: end-of-run audit: every DAILY or HOURLY configuration fires at least once more.
_TAIL_S = _DAY + 1200.0
#: The world's nominal duration: longer than any example, so it never ends by itself
#: (and the audit's quarter-time schedule repeat never comes in the middle of one).
_WORLD_DURATION_S = 365 * _DAY
_RETENTIONS = (6 * 3600.0, 12 * 3600.0, _DAY, 2 * _DAY, 7 * _DAY)
#: When on, every configuration without time gets a backup type that no other
#: configuration of the example uses. It worked around a greedy schedule matcher that has
#: since been made optimal (earliest window end first); it stays off so that examples mix
#: timed and timeless configurations of one type, and remains as a switch to narrow down
#: a schedule finding.
SEPARATE_TIMELESS_TYPES = False
_RECONFIGURE_OPS = ("add-policy", "remove-policy", "change-time", "drop-configuration")


class PropertyFailure(AssertionError):
    """An example's checkers found a violation (raised inside the state machine)."""


@dataclass
class Campaign:
    """The shared state of one run of the suite: counts, the passing rules, the failures."""

    plugin: LoadedPlugin
    shrink_budget: int
    call_timeout_s: float = 10.0
    #: The contract profile every example runs (None: the newest the plugin declares).
    profile: str | None = None
    executions: int = 0
    first_failure: int | None = None
    failures: list[Example] = field(default_factory=list)
    exercised: set[str] = field(default_factory=set)
    not_applicable: dict[str, str] = field(default_factory=dict)
    #: Every example's checker failures (an error verdict on the rules they served).
    checker_errors: Sink = field(default_factory=lambda: Sink(scenario=EXAMPLE_SCENARIO))

    def over_budget(self) -> bool:
        """True once shrinking has had its :attr:`shrink_budget` examples."""
        return (
            self.first_failure is not None
            and self.executions >= self.first_failure + self.shrink_budget
        )

    def record(self, example: Example) -> None:
        """Count a finished example: its checker errors, and either its failure or what it
        exercised."""
        for rule_id, messages in example.sink.errors.items():
            for message in messages:
                self.checker_errors.error(rule_id, message)
        if example.failed:
            if self.first_failure is None:
                self.first_failure = example.index
            self.failures.append(example)
            return
        self.exercised |= example.sink.exercised
        for rule_id, reason in example.sink.not_applicable.items():
            self.not_applicable.setdefault(rule_id, reason)

    def minimal_failure(self) -> Example | None:
        """The failing example with the fewest steps; the latest (most shrunk) on ties."""
        if not self.failures:
            return None
        return min(self.failures, key=lambda e: (len(e.steps), -e.index))


def _supported(plugin_class: type) -> tuple[list[BackupType], list[Periodicity]]:
    # As the platform reads them: an empty declaration restricts nothing.
    types = frozenset(getattr(plugin_class, "supported_backup_types", ALL_BACKUP_TYPES))
    periodicities = frozenset(getattr(plugin_class, "supported_periodicities", ALL_PERIODICITIES))
    return (
        [t for t in BackupType if not types or t in types],
        [p for p in Periodicity if not periodicities or p in periodicities],
    )


def _time_strategy(
    subtype: Periodicity, defined_between: tuple[datetime, datetime]
) -> st.SearchStrategy[str]:
    if subtype is Periodicity.DEFINED_HOUR:
        return defined_times(between=defined_between)
    if subtype is Periodicity.HOURLY:
        return hourly_times()
    return clock_times()


def _separate_timeless(
    specs: list[PolicySpec], data: st.DataObject, defined_between: tuple[datetime, datetime]
) -> list[PolicySpec]:
    """Give a time to each configuration without one whose backup type another
    configuration of the example also uses (see :data:`SEPARATE_TIMELESS_TYPES`)."""
    uses: dict[BackupType, int] = {}
    for spec in specs:
        for config in spec.configurations:
            uses[config.type] = uses.get(config.type, 0) + 1
    out = []
    for spec in specs:
        configs = []
        for config in spec.configurations:
            if config.time is None and uses[config.type] > 1:
                time = data.draw(_time_strategy(config.subtype, defined_between), "time")
                config = config.model_copy(update={"time": time})
            configs.append(config)
        out.append(spec.model_copy(update={"configurations": tuple(configs)}))
    return out


def _base_scenario(seed: int, vms: int, policies: list[PolicySpec]) -> Scenario:
    return Scenario(
        name=EXAMPLE_SCENARIO,
        description="One example of the property-based suite.",
        seed=seed,
        duration=_WORLD_DURATION_S,
        fleet=FleetSpec(
            vms=vms,
            hypervisors_per_datacenter=2,
            disks_per_vm=(1, 2),
            disk_size_gb=(1.0, 8.0),
            deployed_at_start=0,
        ),
        policies=tuple(policies),
    )


def _changed(policy: BackupPolicy, configurations: list[BackupConfiguration]) -> BackupPolicy:
    return BackupPolicy(
        code=policy.code,
        name=policy.name,
        description=policy.description,
        replication=policy.replication,
        configurations=tuple(configurations),
    )


def machine_factory(campaign: Campaign) -> Callable[[], RuleBasedStateMachine]:
    """A factory of state machines bound to ``campaign`` (and so to its plugin)."""
    plugin = campaign.plugin
    types, periodicities = _supported(plugin.plugin_class)
    defined_between = (DEFAULT_START, DEFAULT_START + timedelta(days=4))

    def policy_spec(code: str) -> st.SearchStrategy[PolicySpec]:
        return st.builds(
            lambda p, retention: PolicySpec(
                code=p.code,
                name=p.name,
                description=p.description,
                replication=p.replication,
                retention=retention,
                configurations=p.configurations,
            ),
            backup_policies(
                codes=st.just(code),
                min_configurations=1,
                max_configurations=3,
                types=types,
                periodicities=periodicities,
                defined_between=defined_between,
                max_disk_source=0,
            ),
            st.sampled_from(_RETENTIONS),
        )

    # Built once: a strategy is validated on its first draw, which is not free.
    policy_strategies = [policy_spec(f"P{i}") for i in range(3)]

    class PluginMachine(RuleBasedStateMachine):
        """Drives the plugin through a simulated platform; see the module docstring."""

        def __init__(self) -> None:
            super().__init__()
            self.example: Example | None = None
            self.world: World | None = None
            self.tasks: dict[int, Task] = {}
            self.outage_end = 0.0
            self.failed = False
            self.base_policies: dict[str, BackupPolicy] = {}

        # ------------------------------------------------------------- helpers

        @property
        def w(self) -> World:
            if self.world is None:  # pragma: no cover - initialize always runs first
                raise RuntimeError("the example's world is not built yet")
            return self.world

        @property
        def ex(self) -> Example:
            if self.example is None:  # pragma: no cover - initialize always runs first
                raise RuntimeError("the example is not built yet")
            return self.example

        def _busy(self, vm: int) -> bool:
            task = self.tasks.get(vm)
            return task is not None and task.ended is None

        def _vms(self, wanted: Callable[[int], bool]) -> list[int]:
            if self.world is None:
                return []
            return [i for i in range(self.world.fleet.size) if not self._busy(i) and wanted(i)]

        def _deployed(self, vm: int) -> bool:
            return bool(self.w.fleet.is_deployed(vm))

        def _powered_on(self, vm: int) -> bool:
            return bool(self.w.fleet.is_powered_on(vm))

        def _restorable(self, vm: int) -> bool:
            uuid = self.w.fleet.uuid(vm)
            return self.w.platform.results.latest_for_vm(uuid, done_only=True) is not None

        def _undeployed_before(self, vm: int) -> bool:
            return self.w.fleet.uuid(vm) in self.w.platform.last_schedule

        def _now(self) -> float:
            return float(self.w.env.now)

        def _settle(self, seconds: float = _STEP_S) -> None:
            self.w.advance(self._now() + seconds)

        def _submit(
            self,
            action: Action,
            kind: str,
            vm: int,
            *,
            schedule: BackupSchedule | None = None,
            replication: bool = False,
            backup: str | None = None,
        ) -> None:
            self.ex.steps.append(Step(self._now(), action, vm, schedule, replication))
            self.tasks[vm] = self.w.platform.submit(
                kind, vm, schedule=schedule, replication=replication, backup=backup
            )

        def _fail(self, when: str) -> None:
            self.failed = True
            sink = self.ex.sink
            lines = [
                f"{rule_id} ({sink.totals[rule_id]}): {sink.findings[rule_id][0].message}"
                for rule_id in sorted(sink.totals)
                if sink.findings.get(rule_id)
            ]
            raise PropertyFailure(
                f"the plugin broke {len(sink.totals)} rule(s) {when}:\n  " + "\n  ".join(lines)
            )

        # ------------------------------------------------------------ the world

        @initialize(data=st.data())
        def build_world(self, data: st.DataObject) -> None:
            """A fresh world: 2-6 undeployed VMs, 2-3 policies the plugin supports."""
            campaign.executions += 1
            index = campaign.executions
            vms = data.draw(st.integers(2, 6), label="vms")
            count = data.draw(st.integers(2, 3), label="policies")
            specs = [data.draw(policy_strategies[i], label=f"P{i}") for i in range(count)]
            if SEPARATE_TIMELESS_TYPES:
                specs = _separate_timeless(specs, data, defined_between)
            world_seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
            base = _base_scenario(world_seed, vms, specs)
            sink = Sink(scenario=EXAMPLE_SCENARIO)
            self.example = Example(index, base, sink)
            self.base_policies = {s.code: s.to_policy() for s in specs}
            world = World(
                base,
                plugin.plugin_class,
                call_timeout_s=campaign.call_timeout_s,
                profile=campaign.profile,
            )
            world.observe(Checkers(world, sink, isolated=plugin.isolation == "process"))
            self.world = world
            world.start()
            world.advance(_FIRST_ACTION_S)

        # ---------------------------------------------------------------- rules

        @precondition(lambda self: bool(self._vms(lambda i: not self._deployed(i))))
        @rule(data=st.data())
        def deploy(self, data: st.DataObject) -> None:
            """Deploy an undeployed VM with some of the policies (applySchedule)."""
            vm = data.draw(st.sampled_from(self._vms(lambda i: not self._deployed(i))), "vm")
            codes = data.draw(
                st.lists(st.sampled_from(sorted(self.base_policies)), unique=True), "policies"
            )
            schedule = BackupSchedule(policies=tuple(self.base_policies[c] for c in codes))
            self._submit("deploy", "DEPLOY", vm, schedule=schedule)
            self._settle()

        @precondition(
            lambda self: bool(
                self._vms(lambda i: not self._deployed(i) and self._undeployed_before(i))
            )
        )
        @rule(data=st.data())
        def redeploy(self, data: st.DataObject) -> None:
            """Deploy an undeployed VM again with the schedule it had (applySchedule)."""
            vm = data.draw(
                st.sampled_from(
                    self._vms(lambda i: not self._deployed(i) and self._undeployed_before(i))
                ),
                "vm",
            )
            last = self.w.platform.last_schedule.get(self.w.fleet.uuid(vm))
            schedule = last if last is not None else BackupSchedule()
            self._submit("redeploy", "DEPLOY", vm, schedule=schedule)
            self._settle()

        @precondition(lambda self: bool(self._vms(self._deployed)))
        @rule(data=st.data())
        def reconfigure(self, data: st.DataObject) -> None:
            """Change a deployed VM's schedule (applyNewSchedule): add or remove policies,
            move a configuration to another time, drop a configuration."""
            vm = data.draw(st.sampled_from(self._vms(self._deployed)), "vm")
            current = self.w.platform.vm_schedule.get(self.w.fleet.uuid(vm), BackupSchedule())
            policies = list(current.policies)
            ops = data.draw(
                st.lists(st.sampled_from(_RECONFIGURE_OPS), min_size=1, max_size=3), "changes"
            )
            for op in ops:
                if op == "add-policy":
                    present = {p.code for p in policies}
                    spare = [c for c in sorted(self.base_policies) if c not in present]
                    if spare:
                        code = data.draw(st.sampled_from(spare), "added")
                        at = data.draw(st.integers(0, len(policies)), "position")
                        policies.insert(at, self.base_policies[code])
                elif op == "remove-policy" and policies:
                    del policies[data.draw(st.integers(0, len(policies) - 1), "removed")]
                elif op == "change-time":
                    timed = [
                        (i, j)
                        for i, p in enumerate(policies)
                        for j, c in enumerate(p.configurations)
                        if c.time is not None
                    ]
                    if timed:
                        i, j = data.draw(st.sampled_from(timed), "changed")
                        hours = data.draw(st.integers(1, 6), "hours later")
                        configs = list(policies[i].configurations)
                        configs[j] = shift_configuration(configs[j], hours)
                        policies[i] = _changed(policies[i], configs)
                elif op == "drop-configuration":
                    several = [
                        (i, j)
                        for i, p in enumerate(policies)
                        if len(p.configurations) > 1
                        for j in range(len(p.configurations))
                    ]
                    if several:
                        i, j = data.draw(st.sampled_from(several), "dropped")
                        configs = list(policies[i].configurations)
                        del configs[j]
                        policies[i] = _changed(policies[i], configs)
            schedule = BackupSchedule(policies=tuple(policies))
            self._submit("reconfigure", "RECONFIGURE", vm, schedule=schedule)
            self._settle()

        @precondition(lambda self: bool(self._vms(self._deployed)))
        @rule(data=st.data())
        def undeploy(self, data: st.DataObject) -> None:
            """Undeploy a deployed VM (removeSchedule first)."""
            vm = data.draw(st.sampled_from(self._vms(self._deployed)), "vm")
            self._submit("undeploy", "UNDEPLOY", vm)
            self._settle()

        @precondition(lambda self: bool(self._vms(self._deployed)))
        @rule(data=st.data(), replication=st.booleans())
        def backup_now(self, data: st.DataObject, replication: bool) -> None:
            """An on-demand backup of a deployed VM (executeBackup)."""
            vm = data.draw(st.sampled_from(self._vms(self._deployed)), "vm")
            self._submit("backup_now", "BACKUP_NOW", vm, replication=replication)
            self._settle()

        @precondition(
            lambda self: bool(self._vms(lambda i: self._deployed(i) and self._restorable(i)))
        )
        @rule(data=st.data())
        def restore(self, data: st.DataObject) -> None:
            """Power the VM off if needed, then restore its newest done backup."""
            ok = self._vms(lambda i: self._deployed(i) and self._restorable(i))
            vm = data.draw(st.sampled_from(ok), "vm")
            if self._powered_on(vm):
                self._submit("power_off", "POWER_OFF", vm)
                self._settle()
                still = self._deployed(vm) and not self._powered_on(vm) and not self._busy(vm)
                if not (still and self._restorable(vm)):
                    return  # the VM is still locked (a backup runs): try another time
            self._submit("restore", "RESTORE", vm, backup="latest")
            self._settle()

        @precondition(
            lambda self: bool(self._vms(lambda i: self._deployed(i) and self._powered_on(i)))
        )
        @rule(data=st.data())
        def power_off(self, data: st.DataObject) -> None:
            """Power a running VM off."""
            ok = self._vms(lambda i: self._deployed(i) and self._powered_on(i))
            vm = data.draw(st.sampled_from(ok), "vm")
            self._submit("power_off", "POWER_OFF", vm)
            self._settle()

        @precondition(
            lambda self: bool(self._vms(lambda i: self._deployed(i) and not self._powered_on(i)))
        )
        @rule(data=st.data())
        def power_on(self, data: st.DataObject) -> None:
            """Power a stopped VM on."""
            ok = self._vms(lambda i: self._deployed(i) and not self._powered_on(i))
            vm = data.draw(st.sampled_from(ok), "vm")
            self._submit("power_on", "POWER_ON", vm)
            self._settle()

        @precondition(lambda self: self.world is not None)
        @rule(minutes=st.integers(10, 6 * 60) | st.integers(10, 2 * 24 * 60))
        def advance_time(self, minutes: int) -> None:
            """Let 10 minutes to 2 days pass: backups fire, checks poll, results expire."""
            self._settle(minutes * 60.0)

        @precondition(lambda self: self.world is not None and self._now() >= self.outage_end)
        @rule(minutes=st.integers(10, 3 * 60))
        def outage(self, minutes: int) -> None:
            """The backup system goes down from now for 10 minutes to 3 hours."""
            start = self._now()
            end = start + minutes * 60.0
            self.w.add_outage(start, end)
            self.ex.outages.append((start, end))
            self.outage_end = end
            self._settle()

        # ------------------------------------------------------------ the verdict

        @invariant()
        def no_findings(self) -> None:
            """No checker has found anything so far."""
            if self.example is not None and self.example.failed and not self.failed:
                self._fail(f"by {self._now():.1f} s of simulated time")

        def teardown(self) -> None:
            """Run past any outage and one more day, then the end-of-run audit."""
            if self.world is None or self.example is None:
                return
            world, example = self.world, self.example
            try:
                world.advance(max(self._now(), self.outage_end) + _TAIL_S)
                example.end_s = self._now()
                world.finish()
            finally:
                if example.end_s is None:
                    example.end_s = max(self._now(), self.outage_end) + 1.0
                campaign.record(example)
            if example.failed and not self.failed:
                self._fail("in the end-of-run audit")

    def factory() -> RuleBasedStateMachine:
        if campaign.over_budget():
            reject()  # shrinking has had its examples: stop cheaply
        return PluginMachine()

    return factory
