"""The simulated Abiquo platform: API, Virtual Factory and Cloud Provider Proxy.

It calls the plugin exactly as Abiquo does (``docs/architecture.md`` and
``docs/contract.md`` say which behaviour is Abiquo's and which is *(modelled)*):

- **API.** Each component builds its own plugin instance and calls
  ``validateConfiguration`` when it loads it. A component whose instance fails to load
  treats the plugin as not loaded: every backup operation is refused with BC-38 and no
  other plugin method is called. The API refuses requests that break its
  preconditions (BC-22/38/41/42/43/44/46/47) before any plugin call.
- **Virtual Factory.** Tasks (DEPLOY, RECONFIGURE, UNDEPLOY, BACKUP_NOW, RESTORE,
  POWER_OFF, POWER_ON) run on a fixed pool of workers. A task holds its VM's lock from
  start to end, so tasks on one VM run one at a time and the wait is measured. Plugin
  calls also take one of ``open_sessions`` session slots. The BACKUP_SCHEDULE job is
  placed as Abiquo places it and a failed job rolls the whole VM operation back. With
  ``lock_vm_during_backup`` a VM with a backup in progress takes no task.
- **The results check.** The profile's: the Cloud Provider Proxy's ``listResults`` check
  of ``abiquo-4.0.4`` (:mod:`simulator.platform.listing_check`), or from ``abiquo-4.7``
  on the API's per-id check of :mod:`simulator.platform.per_id_check`; ``abiquo-6.0``
  adds the policy synchronisation of :mod:`simulator.platform.policy_sync`. The profile
  (:mod:`simulator.profiles`) says which; nothing else in the platform differs.

Only the per-VM lock table, the task queue and the results table grow with work; none
of them holds an entry per idle VM.

The parts that stand alone are modules of their own, and their names are importable from
here: the settings (:mod:`simulator.platform.settings`), the records of tasks and checks
(:mod:`simulator.platform.records`), the API's preconditions
(:mod:`simulator.platform.preconditions`) and the ``abiquo-4.0.4`` check
(:mod:`simulator.platform.listing_check`).

Kept whole: what remains is one object and the state its methods change together: the
Virtual Factory's queues and per-VM locks, the session pools and the results table. A
submission queues on a VM's lock, a worker runs the task and releases the lock, and a
results answer can release a VM's backup lock and start the task that waited for it;
split, each part would reach into the others' private state.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable, Mapping
from datetime import datetime
from typing import Any

import simpy

from simulator.clock import SimClock, hold
from simulator.contract import (
    BackupPolicy,
    BackupResult,
    BackupSchedule,
    OnDemandBackupOptions,
    Operation,
    PluginContext,
    RestoreResult,
    ResultState,
)
from simulator.platform.invoker import CONSTRUCTOR, VALIDATE, CallRecord, Invoker, SessionPool
from simulator.platform.listing_check import ListingCheck
from simulator.platform.per_id_check import PerIdCheck
from simulator.platform.policy_sync import PolicySync, SyncRecord
from simulator.platform.preconditions import REJECTION_CODES, api_refusal
from simulator.platform.records import PROBE, TASK_KINDS, CheckRecord, Task
from simulator.platform.results_table import ResultsTable, Transition
from simulator.platform.settings import PlatformSettings
from simulator.profiles import ABIQUO_4_0_4, ContractProfile
from simulator.trace import TraceWriter, microseconds

__all__ = [
    "REJECTION_CODES",
    "TASK_KINDS",
    "CheckRecord",
    "Platform",
    "PlatformSettings",
    "Task",
]


_EMPTY = BackupSchedule()
_IN_PROGRESS = ResultState.IN_PROGRESS
_JOB_OF = {
    Operation.APPLY_SCHEDULE: "BACKUP_SCHEDULE",
    Operation.APPLY_NEW_SCHEDULE: "BACKUP_SCHEDULE",
    Operation.REMOVE_SCHEDULE: "BACKUP_SCHEDULE",
    Operation.EXECUTE_BACKUP: "BACKUP",
    Operation.EXECUTE_RESTORE: "RESTORE",
}


class _Hooks:
    """Callbacks observers register on the platform."""

    def __init__(self) -> None:
        self.task_end: list[Callable[[Task], None]] = []
        self.check_end: list[Callable[[CheckRecord], None]] = []
        #: Called after each policy synchronisation (``abiquo-6.0``).
        self.sync_end: list[Callable[[SyncRecord], None]] = []
        #: Called with the transitions of one upsert, in order, and the instant.
        self.transition: list[Callable[[list[Transition], float], None]] = []
        self.queue_depth: list[Callable[[float, int], None]] = []


class Platform:
    """The API, the Virtual Factory and the Cloud Provider Proxy over one environment.

    ``profile`` is the contract generation it drives the plugin as (``abiquo-4.0.4``
    unless given); ``policies`` the datacenter's backup policies by code, which the
    ``abiquo-6.0`` policy synchronisation assigns to VMs.
    """

    def __init__(
        self,
        env: simpy.Environment,
        clock: SimClock,
        fleet: Any,
        invoker: Invoker,
        trace: TraceWriter,
        plugin_class: type,
        properties: Mapping[str, str],
        settings: PlatformSettings,
        *,
        profile: ContractProfile = ABIQUO_4_0_4,
        policies: Mapping[str, BackupPolicy] | None = None,
    ) -> None:
        self.env = env
        self.profile = profile
        self.clock = clock
        self.fleet = fleet
        self.invoker = invoker
        self.trace = trace
        self.plugin_class = plugin_class
        #: The class each component builds its instance from (see ``World``).
        self.component_classes: dict[str, type] = {}
        self.properties = dict(properties)
        self.settings = settings
        self.hooks = _Hooks()
        rotate_done = (
            profile.results_check == "list-results" and settings.expiry_question == "held-done"
        )
        self.results = ResultsTable(
            unknown_is_final=profile.results_check == "list-results"
            or not settings.unknown_asked_again,
            rotate_done=rotate_done,
            expire_by_date=not rotate_done,  # the rotation's check never asks by date
        )
        #: The per-id check (from 4.7) and the policy synchronisation (6.0), if any.
        self.per_id_check = PerIdCheck(self) if profile.results_check == "per-id-polling" else None
        self.policy_sync = PolicySync(self, policies or {}) if profile.policy_sync else None
        self.instances: dict[str, Any] = {}
        self.loaded: dict[str, bool] = {}
        self.ready = env.event()
        # Platform-side view of each VM's backup configuration.
        self.vm_schedule: dict[str, BackupSchedule] = {}
        self.last_schedule: dict[str, BackupSchedule] = {}
        self._end_events: dict[int, simpy.Event] = {}
        self._unsupported: frozenset[Operation] = frozenset(
            getattr(plugin_class, "unsupported_operations", frozenset())
        )
        self._types = frozenset(getattr(plugin_class, "supported_backup_types", ()))
        self._periodicities = frozenset(getattr(plugin_class, "supported_periodicities", ()))
        self._max_policies: int | None = getattr(plugin_class, "max_policies_per_vm", None)
        self._replication = bool(getattr(plugin_class, "supports_replication", True))
        # Session pools: the Virtual Factory's openSession slots, one pool per backup
        # manager or per VDC; the results check has its own (§4a), so a long check never
        # delays a deploy and a deploy never makes a check overrun.
        cap = settings.open_sessions
        vdc_pools = settings.vdcs if settings.session_scope == "vdc" else 1
        self._vf_pools = [SessionPool(env, cap) for _ in range(vdc_pools)]
        self._cpp_pool = SessionPool(env, cap)
        # Virtual Factory state: only VMs with work queued have entries.
        self._task_seq = 0
        # Tasks whose VM lock is held, waiting for a worker, and the workers waiting for
        # a task: a deque and a wake-up event per idle worker (a simpy.Store costs two
        # events a task, and the initial deploys of a large fleet are a task per VM).
        self._ready_tasks: deque[Task] = deque()
        self._idle_workers: deque[simpy.Event] = deque()
        self._waiting: dict[str, deque[Task]] = {}
        self._running: dict[str, Task] = {}
        self._backup_locked: dict[str, int] = {}
        self.tasks_by_status: dict[str, int] = {}
        self.tasks_by_kind: dict[str, int] = {}
        self.rejections: dict[str, int] = {}
        self.rollbacks = 0
        self.events: dict[str, int] = {}
        # Cloud Provider Proxy state.
        self.last_check_date: datetime | None = None
        self.checks: int = 0
        self.results_seen = 0
        self.quiesced = False
        self.checks_stopped = False
        self._checking = False

    # ------------------------------------------------------------------ start-up

    def start(self) -> None:
        """Start the component loaders, the VF workers and the periodic check."""
        self.env.process(self._startup())
        for _ in range(self.settings.vf_workers):
            self.env.process(self._worker())
        if self.per_id_check is not None:
            self.env.process(self.per_id_check.run())
        else:
            self.env.process(ListingCheck(self).run())
        if self.policy_sync is not None:
            self.env.process(self.policy_sync.run())

    def _startup(self) -> Generator[simpy.Event, Any, None]:
        for component in ("api", "virtualfactory", "cpp"):
            yield from self._load(component)
        self.ready.succeed()

    def _load(self, component: str) -> Generator[simpy.Event, Any, None]:
        context = PluginContext(
            self.clock,
            dict(self.properties),
            component,  # type: ignore[arg-type]
            self.profile.id,
        )
        record = yield from self.invoker.lifecycle(
            component,
            CONSTRUCTOR,
            lambda: self.class_for(component)(context),
            owner=self.plugin_class,
        )
        if not record.ok:
            self.loaded[component] = False
            return
        instance = record.result
        self.instances[component] = instance
        record = yield from self.invoker.lifecycle(
            component, VALIDATE, instance.validate_configuration, owner=instance
        )
        self.loaded[component] = record.ok

    def class_for(self, component: str) -> type:
        """The plugin class ``component`` builds its instance from."""
        return self.component_classes.get(component, self.plugin_class)

    def plugin_loaded(self, component: str) -> bool:
        """True when ``component`` and the API both loaded the plugin."""
        return self.loaded.get("api", False) and self.loaded.get(component, False)

    # ------------------------------------------------------------------ API: submit

    def submit(
        self,
        kind: str,
        vm_index: int,
        *,
        schedule: BackupSchedule | None = None,
        replication: bool = False,
        backup: str | None = None,
        repeat: bool = False,
    ) -> Task:
        """Receive a user request; refuse it or queue it on the VM's lock. With ``repeat``,
        the task makes its schedule call twice with the same arguments, as Abiquo does
        after a timeout or a retried task."""
        if kind not in TASK_KINDS and kind != PROBE:
            raise ValueError(f"unknown task kind {kind!r}; expected one of {TASK_KINDS}")
        task = self._new_task(
            kind,
            vm_index,
            schedule=schedule,
            replication=replication,
            backup_ref=backup,
            repeat=repeat,
        )
        self.tasks_by_kind[kind] = self.tasks_by_kind.get(kind, 0) + 1
        if kind == "RESTORE":
            task.backup_id = self._resolve_backup(task)
        refusal = api_refusal(self, task)
        if refusal is not None:
            self._reject(task, refusal, "api")
            return task
        self._enqueue(task)
        return task

    def submit_probe(self, vm_index: int, op: Operation, args: tuple[Any, ...]) -> Task:
        """Queue one plugin call on a VM under its lock, bypassing the API's preconditions."""
        task = self._new_task(PROBE, vm_index, probe_op=op, probe_args=args)
        self._enqueue(task)
        return task

    def _new_task(self, kind: str, vm_index: int, **fields: Any) -> Task:
        """A task submitted now, with the next id."""
        self._task_seq += 1
        return Task(
            id=self._task_seq,
            kind=kind,
            vm_index=vm_index,
            vm_uuid=self.fleet.uuid(vm_index),
            submitted=float(self.env.now),
            **fields,
        )

    def _enqueue(self, task: Task) -> None:
        """Queue ``task`` on its VM's lock and start it if the VM is free."""
        self._waiting.setdefault(task.vm_uuid, deque()).append(task)
        self._dispatch(task.vm_uuid)

    @property
    def cpp_pool(self) -> SessionPool:
        """The session pool the Cloud Provider Proxy's calls take a slot of."""
        return self._cpp_pool

    @property
    def busy(self) -> bool:
        """True while a task runs or waits, or a check (or a sync) is in progress."""
        return bool(self._running or self._waiting or self.checking)

    @property
    def checking(self) -> bool:
        """True while a periodic check, or a policy synchronisation, is in progress."""
        return self._checking or (self.policy_sync is not None and self.policy_sync.running)

    def stop_checks(self) -> None:
        """Stop the periodic check after the one in progress, if any."""
        self.checks_stopped = True

    def vm_busy(self, vm: str) -> bool:
        """True while ``vm`` runs or waits for a task, or is locked by a backup."""
        return vm in self._running or vm in self._waiting or bool(self._backup_locked.get(vm))

    @property
    def vm_tasks_pending(self) -> bool:
        """True while a Virtual Factory task runs or waits for its VM."""
        return bool(self._running or self._waiting)

    def quiesce(self) -> None:
        """Tell the workload to stop; queued tasks and the periodic check go on."""
        self.quiesced = True

    def _resolve_backup(self, task: Task) -> str | None:
        ref = task.backup_ref or "latest"
        if ref in ("latest", "latest-any"):
            held = self.results.latest_for_vm(task.vm_uuid, done_only=ref == "latest")
            return held.provider_id if held is not None else None
        if ref == "oldest":
            old = self.results.oldest_for_vm(task.vm_uuid, now=self.clock.now())
            return old.provider_id if old is not None else None
        return ref

    def _has_schedule(self, vm: str) -> bool:
        schedule = self.vm_schedule.get(vm)
        return schedule is not None and bool(schedule.policies)

    def when_ended(self, task: Task) -> simpy.Event:
        """An event that fires (with the task) when ``task`` ends, however it ends."""
        if task.ended is not None:
            event = self.env.event()
            event.succeed(task)
            return event
        return self._end_events.setdefault(task.id, self.env.event())

    def _reject(self, task: Task, refusal: tuple[str, str], stage: str) -> None:
        task.status, (task.code, task.detail) = "rejected", refusal
        task.ended = float(self.env.now)
        self.rejections[task.code] = self.rejections.get(task.code, 0) + 1
        self.trace.emit(
            "rejection",
            self.env.now,
            task=task.id,
            type=task.kind,
            vm=task.vm_uuid,
            code=task.code,
            reason=task.detail,
            stage=stage,
        )
        self._end_task(task)

    # ----------------------------------------------------------- VF: locks, workers

    def _dispatch(self, vm: str) -> None:
        """Hand the VM's next waiting task to the workers if the VM is free."""
        if vm in self._running or self._backup_locked.get(vm):
            return
        queue = self._waiting.get(vm)
        if not queue:
            self._waiting.pop(vm, None)
            return
        task = queue.popleft()
        if not queue:
            del self._waiting[vm]
        self._running[vm] = task
        task.lock_wait = float(self.env.now) - task.submitted
        self.trace.emit(
            "lock", self.env.now, vm=vm, task=task.id, action="acquire", wait=task.lock_wait
        )
        if self._idle_workers:
            self._idle_workers.popleft().succeed(task)
        else:
            self._ready_tasks.append(task)
        for hook in self.hooks.queue_depth:
            hook(float(self.env.now), len(self._ready_tasks))

    def _worker(self) -> Generator[simpy.Event, Any, None]:
        yield self.ready
        while True:
            if self._ready_tasks:
                task = self._ready_tasks.popleft()
            else:
                wake = self.env.event()
                self._idle_workers.append(wake)
                task = yield wake
            task.started = float(self.env.now)
            task.queue_wait = task.started - task.submitted - task.lock_wait
            refusal = api_refusal(self, task)
            if refusal is not None:
                self._reject(task, refusal, "virtualfactory")
            else:
                yield from self._execute(task)
                self._end_task(task)
            self.trace.emit(
                "lock", self.env.now, vm=task.vm_uuid, task=task.id, action="release", wait=None
            )
            del self._running[task.vm_uuid]
            self._dispatch(task.vm_uuid)

    def _end_task(self, task: Task) -> None:
        task.ended = float(self.env.now)
        self.tasks_by_status[task.status] = self.tasks_by_status.get(task.status, 0) + 1
        if task.status != "rejected":
            trace = self.trace
            if trace.wants("task"):
                # Built whole (see TraceWriter.emit_record): a line for every task.
                trace.emit_record(
                    {
                        "seq": 0,
                        "t": microseconds(self.env.now),
                        "kind": "task",
                        "task": task.id,
                        "type": task.kind,
                        "vm": task.vm_uuid,
                        "submitted": microseconds(task.submitted),
                        "start": microseconds(task.started),
                        "end": microseconds(task.ended),
                        "status": task.status,
                        "code": task.code,
                        "detail": task.detail,
                        "lock_wait": microseconds(task.lock_wait),
                        "queue_wait": microseconds(task.queue_wait),
                        "jobs": task.jobs,
                    }
                )
            else:
                trace.count("task")
        for hook in self.hooks.task_end:
            hook(task)
        event = self._end_events.pop(task.id, None)
        if event is not None:
            event.succeed(task)

    def _hypervisor_job(self, task: Task, job: str) -> Generator[simpy.Event, Any, None]:
        start = float(self.env.now)
        if (
            self.settings.hypervisor_job_s > 0
            and (wait := hold(self.env, self.settings.hypervisor_job_s)) is not None
        ):
            yield wait
        task.jobs.append({"job": job, "start": start, "end": float(self.env.now)})

    def _vf_call(
        self, task: Task, op: Operation, args: tuple[Any, ...]
    ) -> Generator[simpy.Event, Any, CallRecord]:
        pool = self._vf_pools[task.vm_index % len(self._vf_pools)]
        record: CallRecord = yield from self.invoker.call(
            "virtualfactory",
            self.instances["virtualfactory"],
            op,
            task.vm_uuid,
            args,
            pool=pool,
            task=task.id,
            probe=task.kind == PROBE,
        )
        task.jobs.append(
            {
                "job": _JOB_OF.get(op, "BACKUP"),
                "op": op.value,
                "start": record.start,
                "end": record.end,
                "outcome": record.outcome,
                "call": record.seq,
            }
        )
        return record

    def _schedule_call(
        self, task: Task, op: Operation, args: tuple[Any, ...]
    ) -> Generator[simpy.Event, Any, CallRecord]:
        """A schedule call; with ``task.repeat``, made once more with the same arguments
        after it succeeded, and the repeat's outcome is the task's."""
        record = yield from self._vf_call(task, op, args)
        if task.repeat and record.ok:
            record = yield from self._vf_call(task, op, args)
        return record

    def _fail(self, task: Task, record: CallRecord) -> None:
        task.status = "failed"
        task.code = record.error_code or record.outcome
        task.detail = record.detail

    def _rollback(self, task: Task, reason: str) -> None:
        self.rollbacks += 1
        self.trace.emit(
            "rollback", self.env.now, task=task.id, type=task.kind, vm=task.vm_uuid, reason=reason
        )

    def _execute(self, task: Task) -> Generator[simpy.Event, Any, None]:
        i, vm = task.vm_index, task.vm_uuid
        kind = task.kind
        task.status = "done"
        if kind == PROBE and task.probe_op is not None:
            record = yield from self._vf_call(task, task.probe_op, task.probe_args)
            task.record = record
            if not record.ok:
                self._fail(task, record)
            return
        if kind == "DEPLOY":
            yield from self._hypervisor_job(task, "HYPERVISOR_DEPLOY")
            self.fleet.set_deployed(i, True)
            schedule = task.schedule or _EMPTY
            if schedule.policies:
                record = yield from self._schedule_call(
                    task, Operation.APPLY_SCHEDULE, (self.fleet.info(i), schedule)
                )
                if not record.ok:
                    self._fail(task, record)
                    self._rollback(task, f"applySchedule {record.outcome}: undeploy the VM")
                    yield from self._hypervisor_job(task, "HYPERVISOR_UNDEPLOY_ROLLBACK")
                    self.fleet.set_deployed(i, False)
                    return
                self.vm_schedule[vm] = schedule
        elif kind == "RECONFIGURE":
            old = self.vm_schedule.get(vm, _EMPTY)
            new = task.schedule or _EMPTY
            yield from self._hypervisor_job(task, "HYPERVISOR_RECONFIGURE")
            if old != new:
                record = yield from self._schedule_call(
                    task, Operation.APPLY_NEW_SCHEDULE, (self.fleet.info(i), old, new)
                )
                if not record.ok:
                    self._fail(task, record)
                    self._rollback(task, f"applyNewSchedule {record.outcome}: restore old config")
                    yield from self._hypervisor_job(task, "HYPERVISOR_RECONFIGURE_ROLLBACK")
                    return
            if new.policies:
                self.vm_schedule[vm] = new
            else:
                self.vm_schedule.pop(vm, None)
        elif kind == "UNDEPLOY":
            schedule = self.vm_schedule.get(vm, _EMPTY)
            if schedule.policies:
                record = yield from self._schedule_call(
                    task, Operation.REMOVE_SCHEDULE, (self.fleet.info(i),)
                )
                if not record.ok:
                    self._fail(task, record)
                    self._rollback(task, f"removeSchedule {record.outcome}: VM stays deployed")
                    return
            yield from self._hypervisor_job(task, "HYPERVISOR_UNDEPLOY")
            self.fleet.set_deployed(i, False)
            self.vm_schedule.pop(vm, None)
            self.last_schedule[vm] = schedule
        elif kind == "BACKUP_NOW":
            record = yield from self._vf_call(
                task,
                Operation.EXECUTE_BACKUP,
                (self.fleet.info(i), OnDemandBackupOptions(replication=task.replication)),
            )
            if not record.ok:
                self._fail(task, record)
                return
            result: BackupResult = record.result
            task.backup_id = result.provider_id
            self._upsert((result,), float(self.env.now))
        elif kind == "RESTORE":
            record = yield from self._vf_call(
                task, Operation.EXECUTE_RESTORE, (self.fleet.info(i), task.backup_id)
            )
            if not record.ok:
                self._fail(task, record)
                return
            restore: RestoreResult = record.result
            self.results.track_restore(
                restore.provider_id, task.backup_id or "", restore.state, restore.creation_date
            )
        elif kind in ("POWER_OFF", "POWER_ON"):
            yield from self._hypervisor_job(task, f"HYPERVISOR_{kind}")
            self.fleet.set_powered_on(i, kind == "POWER_ON")

    # ------------------------------------- results learnt: upsert, events, backup locks

    def _upsert(self, results: Iterable[BackupResult], now: float) -> int:
        """Upsert results, raise their events, keep their VMs' backup locks current.

        Returns how many there were. One loop for a whole answer, with the lock update
        and the events inline: a check at fleet scale upserts hundreds of thousands a
        day. The transition hooks get the answer's transitions at once, in order.
        """
        table = self.results
        upsert = table.upsert
        in_progress_by_vm = table.in_progress_by_vm
        backup_locked = self._backup_locked
        waiting = self._waiting
        lock = self.settings.lock_vm_during_backup
        trace = self.trace
        traced = trace.wants("event")
        events = self.events
        raised: list[Transition] = []
        numbered = 0  # of ``raised``, the events whose (unwritten) trace lines have a seq
        count = 0
        for result in results:
            count += 1
            transitions = upsert(result, now)
            if transitions:
                for tr in transitions:
                    events[tr.event] = events.get(tr.event, 0) + 1
                    if traced:
                        self._trace_event(tr, now)
                raised += transitions
            elif result.state is not _IN_PROGRESS:
                continue  # a final result seen again: nothing to raise, no lock to change
            if lock:
                # The VM the platform holds the result for: an UNKNOWN answer may not say.
                vm = table.last_vm_uuid
                # Since 4.0 the VM stays locked while the backup system backs it up.
                busy = in_progress_by_vm.get(vm, 0)
                if busy:
                    backup_locked[vm] = busy
                elif backup_locked.pop(vm, None) is not None and vm in waiting:
                    if not traced:  # number the events before the dispatch's lock line
                        trace.count_many("event", len(raised) - numbered)
                        numbered = len(raised)
                    self._dispatch(vm)  # a task was waiting for the backup to end
        if raised:
            if not traced:
                trace.count_many("event", len(raised) - numbered)
            for hook in self.hooks.transition:
                hook(raised, now)
        return count

    def raise_transitions(self, transitions: list[Transition], now: float) -> None:
        """Raise the events of transitions found outside an upsert (a restore answered
        on its own, from 4.7 on), as :meth:`_upsert` raises its own."""
        traced = self.trace.wants("event")
        for tr in transitions:
            self.events[tr.event] = self.events.get(tr.event, 0) + 1
            if traced:
                self._trace_event(tr, now)
        if not traced:
            self.trace.count_many("event", len(transitions))
        for hook in self.hooks.transition:
            hook(transitions, now)

    def refresh_backup_lock(self, vm: str) -> None:
        """Release ``vm``'s backup lock once no backup of it is held IN_PROGRESS any more
        (a backup the backup system lost, from 4.7 on), and start its waiting task."""
        if not self.settings.lock_vm_during_backup:
            return
        busy = self.results.in_progress_by_vm.get(vm, 0)
        if busy:
            self._backup_locked[vm] = busy
        elif self._backup_locked.pop(vm, None) is not None and vm in self._waiting:
            self._dispatch(vm)

    def _trace_event(self, tr: Transition, now: float) -> None:
        """Write the trace line of one transition's event."""
        self.trace.emit(
            "event",
            now,
            event=tr.event,
            provider_id=tr.provider_id,
            vm=tr.vm_uuid,
            state=tr.state.value,
        )
