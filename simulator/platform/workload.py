"""The workload: what users ask of the platform over simulated time.

Three sources, each one SimPy process at most:

- the initial deployment of the first ``fleet.deployed_at_start`` VMs at time 0;
- the scenario's explicit timeline;
- seeded Poisson arrivals of every action at the scenario's rates (per simulated
  day, fleet-wide), merged into one process: one exponential gap for the sum of the
  rates, then the action drawn by weight.

Targets are drawn at random among the VMs in the right state. With
``invalid_fraction`` a share of on-demand backups and restores is aimed at breaking
one of the API's preconditions on purpose. A valid restore is a small sequence
(power off, restore, power on), each step waiting for the one before.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

import simpy

from simulator.backend.out_of_band import OutOfBand
from simulator.contract import BackupConfiguration, BackupPolicy, BackupSchedule, Periodicity
from simulator.platform.core import Platform
from simulator.scenario import ACTIONS, BACKEND_ACTIONS

__all__ = ["Workload", "WorkloadSettings", "shift_configuration"]

_DAY = 86400.0
_PICK_TRIES = 24


@dataclass(frozen=True)
class TimelineItem:
    """One explicit action of the scenario's timeline."""

    at: float
    action: str
    vm: int
    policies: tuple[str, ...] | None = None
    replication: bool = False
    backup: str = "latest"
    repeat: bool = False
    policy: str | None = None
    in_progress: bool = False


@dataclass(frozen=True)
class WorkloadSettings:
    """What the workload needs from the scenario."""

    vms: int
    deployed_at_start: int
    policy_mix: tuple[tuple[tuple[str, ...], float], ...]
    rates: dict[str, float]
    invalid_fraction: float
    replication_fraction: float
    timeline: tuple[TimelineItem, ...]


def shift_configuration(config: BackupConfiguration, hours: int) -> BackupConfiguration:
    """The same configuration firing ``hours`` later (a "changed" configuration)."""
    if config.time is None:
        return config.model_copy(update={"time": None})
    if config.subtype is Periodicity.HOURLY:
        n = int(config.time) % 24 + 1
        return config.model_copy(update={"time": str(n)})
    if config.subtype is Periodicity.DEFINED_HOUR:
        day, clock, zone = config.time.split(" ")
        h = (int(clock[:2]) + hours) % 24
        return config.model_copy(update={"time": f"{day} {h:02d}{clock[2:]} {zone}"})
    clock, zone = config.time.split(" ")
    h = (int(clock[:2]) + hours) % 24
    return config.model_copy(update={"time": f"{h:02d}{clock[2:]} {zone}"})


class Workload:
    """Drives user requests into the platform from one seeded random stream."""

    def __init__(
        self,
        env: simpy.Environment,
        rng: random.Random,
        platform: Platform,
        fleet: Any,
        policies: dict[str, BackupPolicy],
        settings: WorkloadSettings,
        out_of_band: OutOfBand | None = None,
    ) -> None:
        self.env = env
        self.rng = rng
        self.platform = platform
        self.fleet = fleet
        self.policies = policies
        self.settings = settings
        #: Runs the timeline's backup-system actions (``admin_add``, ``admin_remove``,
        #: ``lose_backup``); a timeline that has one needs it.
        self.out_of_band = out_of_band
        self._schedules: dict[tuple[str, ...], BackupSchedule] = {}
        self._undeployed: list[int] = []
        self._mix_codes = [codes for codes, _ in settings.policy_mix]
        self._mix_weights = [w for _, w in settings.policy_mix]
        rates = settings.rates
        self._actions = [a for a in ACTIONS if rates.get(a, 0.0) > 0]
        self._weights = [rates[a] for a in self._actions]
        self._total_rate = sum(self._weights) / _DAY
        self.submitted: dict[str, int] = {}

    def start(self) -> None:
        """Start the workload's processes (each waits for the platform to be ready)."""
        self.env.process(self._initial())
        if self.settings.timeline:
            self.env.process(self._timeline())
        if self._total_rate > 0:
            self.env.process(self._arrivals())

    # -------------------------------------------------------------- schedules

    def schedule_for(self, codes: Sequence[str]) -> BackupSchedule:
        """The (shared) schedule made of the policies ``codes``."""
        key = tuple(codes)
        schedule = self._schedules.get(key)
        if schedule is None:
            schedule = BackupSchedule(policies=tuple(self.policies[c] for c in key))
            self._schedules[key] = schedule
        return schedule

    def _mix(self) -> BackupSchedule:
        if not self._mix_codes:
            return self.schedule_for(())
        codes = self.rng.choices(self._mix_codes, self._mix_weights)[0]
        return self.schedule_for(codes)

    def _diff(self, old: BackupSchedule) -> BackupSchedule:
        """A new schedule that adds, removes or changes configurations of ``old``."""
        choice = self.rng.random()
        codes = [p.code for p in old.policies]
        spare = [c for c in self.policies if c not in codes]
        if old.policies and choice < 0.4:
            # Change: move one configuration of one policy to a new time.
            p_index = self.rng.randrange(len(old.policies))
            policy = old.policies[p_index]
            if policy.configurations:
                c_index = self.rng.randrange(len(policy.configurations))
                configs = list(policy.configurations)
                configs[c_index] = shift_configuration(configs[c_index], self.rng.randint(1, 6))
                changed = policy.model_copy(update={"configurations": tuple(configs)})
                policies = list(old.policies)
                policies[p_index] = changed
                return BackupSchedule(policies=tuple(policies))
        if spare and (choice < 0.7 or not old.policies):
            return BackupSchedule(policies=(*old.policies, self.policies[self.rng.choice(spare)]))
        if old.policies:
            drop = self.rng.randrange(len(old.policies))
            return BackupSchedule(policies=old.policies[:drop] + old.policies[drop + 1 :])
        return self._mix()

    # ------------------------------------------------------------------ sources

    def _submit(self, action: str, kind: str, vm: int, **kwargs: Any) -> Any:
        self.submitted[action] = self.submitted.get(action, 0) + 1
        return self.platform.submit(kind, vm, **kwargs)

    def _initial(self) -> Generator[simpy.Event, Any, None]:
        yield self.platform.ready
        for vm in range(self.settings.deployed_at_start):
            self._submit("deploy", "DEPLOY", vm, schedule=self._mix())

    def _timeline(self) -> Generator[simpy.Event, Any, None]:
        yield self.platform.ready
        for item in sorted(self.settings.timeline, key=lambda x: x.at):
            if item.at > self.env.now:
                yield self.env.timeout(item.at - self.env.now)
            if self.platform.quiesced:
                return
            self._explicit(item)

    def _explicit(self, item: TimelineItem) -> None:
        vm = item.vm
        if item.action in BACKEND_ACTIONS:
            # Behind the platform's back: no task, no plugin call, no submitted count.
            if self.out_of_band is None:
                raise ValueError(f"the timeline's {item.action} needs the world's backup system")
            self.out_of_band.apply(
                item.action, vm, policy=item.policy, in_progress=item.in_progress
            )
        elif item.action in ("deploy", "redeploy"):
            if item.policies is not None:
                schedule = self.schedule_for(item.policies)
            else:
                last = self.platform.last_schedule.get(self.fleet.uuid(vm))
                schedule = last if last is not None else self._mix()
            self._submit(item.action, "DEPLOY", vm, schedule=schedule, repeat=item.repeat)
        elif item.action == "reconfigure":
            current = self.platform.vm_schedule.get(self.fleet.uuid(vm), BackupSchedule())
            schedule = (
                self.schedule_for(item.policies)
                if item.policies is not None
                else self._diff(current)
            )
            self._submit("reconfigure", "RECONFIGURE", vm, schedule=schedule, repeat=item.repeat)
        elif item.action == "undeploy":
            self._undeployed.append(vm)
            self._submit("undeploy", "UNDEPLOY", vm, repeat=item.repeat)
        elif item.action == "backup_now":
            self._submit("backup_now", "BACKUP_NOW", vm, replication=item.replication)
        elif item.action == "restore":
            self._submit("restore", "RESTORE", vm, backup=item.backup)
        elif item.action == "power_off":
            self._submit("power_off", "POWER_OFF", vm)
        elif item.action == "power_on":
            self._submit("power_on", "POWER_ON", vm)

    def _arrivals(self) -> Generator[simpy.Event, Any, None]:
        yield self.platform.ready
        handlers: dict[str, Callable[[], None]] = {
            "deploy": self._random_deploy,
            "reconfigure": self._random_reconfigure,
            "undeploy": self._random_undeploy,
            "redeploy": self._random_redeploy,
            "backup_now": self._random_backup,
            "restore": self._random_restore,
            "power_off": lambda: self._random_power(False),
            "power_on": lambda: self._random_power(True),
        }
        while True:
            yield self.env.timeout(self.rng.expovariate(self._total_rate))
            if self.platform.quiesced:
                return
            action = self.rng.choices(self._actions, self._weights)[0]
            handlers[action]()

    # ------------------------------------------------------------ random targets

    def _pick(self, wanted: Callable[[int], bool]) -> int | None:
        for _ in range(_PICK_TRIES):
            vm = self.rng.randrange(self.settings.vms)
            if wanted(vm):
                return vm
        return None

    def _idle(self, vm: int) -> bool:
        uuid = self.fleet.uuid(vm)
        return uuid not in self.platform._running and uuid not in self.platform._waiting

    def _random_deploy(self) -> None:
        vm = self._pick(
            lambda i: (
                not self.fleet.is_deployed(i)
                and self.fleet.uuid(i) not in self.platform.last_schedule
                and self._idle(i)
            )
        )
        if vm is not None:
            self._submit("deploy", "DEPLOY", vm, schedule=self._mix())

    def _random_redeploy(self) -> None:
        candidates = [i for i in self._undeployed if not self.fleet.is_deployed(i)]
        self._undeployed = candidates
        if not candidates:
            return
        vm = candidates.pop(self.rng.randrange(len(candidates)))
        last = self.platform.last_schedule.get(self.fleet.uuid(vm), BackupSchedule())
        self._submit("redeploy", "DEPLOY", vm, schedule=last)

    def _random_reconfigure(self) -> None:
        vm = self._pick(lambda i: self.fleet.is_deployed(i) and self._idle(i))
        if vm is not None:
            current = self.platform.vm_schedule.get(self.fleet.uuid(vm), BackupSchedule())
            self._submit("reconfigure", "RECONFIGURE", vm, schedule=self._diff(current))

    def _random_undeploy(self) -> None:
        vm = self._pick(lambda i: self.fleet.is_deployed(i) and self._idle(i))
        if vm is not None:
            self._undeployed.append(vm)
            self._submit("undeploy", "UNDEPLOY", vm)

    def _invalid(self) -> bool:
        return self.settings.invalid_fraction > 0 and self.rng.random() < (
            self.settings.invalid_fraction
        )

    def _random_backup(self) -> None:
        invalid = self._invalid()
        vm = self._pick(lambda i: self.fleet.is_deployed(i) != invalid)
        if vm is None:
            return
        replication = self.rng.random() < self.settings.replication_fraction
        self._submit("backup_now", "BACKUP_NOW", vm, replication=replication)

    def _random_restore(self) -> None:
        table = self.platform.results
        if self._invalid():
            kind = self.rng.choice(("powered-on", "bogus-id", "not-done", "undeployed"))
            if kind == "undeployed":
                vm = self._pick(lambda i: not self.fleet.is_deployed(i))
            else:
                vm = self._pick(self.fleet.is_deployed)
            if vm is None:
                return
            ref = {"bogus-id": "no-such-backup", "not-done": "latest-any"}.get(kind, "latest")
            if kind == "powered-on" and not self.fleet.is_powered_on(vm):
                ref = "latest"
            self._submit("restore", "RESTORE", vm, backup=ref)
            return
        vm = self._pick(
            lambda i: (
                self.fleet.is_deployed(i)
                and self._idle(i)
                and table.latest_for_vm(self.fleet.uuid(i), done_only=True) is not None
            )
        )
        if vm is not None:
            self.env.process(self._restore_sequence(vm))

    def _restore_sequence(self, vm: int) -> Generator[simpy.Event, Any, None]:
        """Power off, restore the newest done backup, power on: each after the last."""
        if self.fleet.is_powered_on(vm):
            task = self._submit("power_off", "POWER_OFF", vm)
            yield self.platform.when_ended(task)
        # Alternate the newest and the oldest restorable backup, so that restoring the
        # wrong one of a VM's backups shows.
        which = "latest" if self.rng.random() < 0.5 else "oldest"
        task = self._submit("restore", "RESTORE", vm, backup=which)
        yield self.platform.when_ended(task)
        if self.fleet.is_deployed(vm) and not self.fleet.is_powered_on(vm):
            self._submit("power_on", "POWER_ON", vm)

    def _random_power(self, on: bool) -> None:
        vm = self._pick(lambda i: self.fleet.is_deployed(i) and self.fleet.is_powered_on(i) != on)
        if vm is not None:
            self._submit("power_on" if on else "power_off", "POWER_ON" if on else "POWER_OFF", vm)
