"""End-of-run audits and probes, run inside the world after the scenario's duration.

The platform alone never exercises some rules: it never restores an unknown backup
(the API refuses first), never repeats a schedule call, never asks about a live
result's expiry. Like csi-sanity, the audit probes the plugin directly, through the
same invoker (so every probe is a traced, classified call) and, for calls about a VM,
under that VM's lock (``PROBE`` tasks), so the platform's invariants hold.

Order matters: first the read-only audits (full listing, fresh instance), then the
probes that change things.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy
from pydantic import SecretStr

from conformance.findings import Sink
from conformance.rules import FAKE_BACKEND
from conformance.rules.checkers import (
    BACKEND_DOWN_CODES,
    CallChecker,
    OnDemandChecker,
    Outages,
    PollChecker,
    ScheduleChecker,
)
from simulator.contract import (
    BackupPluginError,
    BackupResult,
    BackupSchedule,
    ConnectionData,
    ConnectionMetadata,
    FieldConstraint,
    OnDemandBackupOptions,
    Operation,
    PluginConnectionError,
    PluginContext,
    ResultState,
)
from simulator.platform.core import Task
from simulator.platform.invoker import CONSTRUCTOR, VALIDATE, CallRecord
from simulator.world import World

__all__ = ["AUDIT_CHECK_ID", "Auditor"]

#: The ``check`` number audit calls carry in the trace (real checks count from 1).
AUDIT_CHECK_ID = 0
#: How long the audit waits for the platform to drain, or for a probe's VM lock.
MAX_DRAIN_S = 6 * 3600.0
#: How long after an on-demand backup started it must have been seen final.
SETTLE_S = 6 * 3600.0
_NOT_FOUND = {BackupPluginError.BACKUP_NOT_FOUND.value}
_NOT_RESTORABLE = {
    BackupPluginError.BACKUP_NOT_FOUND.value,
    BackupPluginError.BACKUP_NOT_RESTORABLE.value,
}

Gen = Generator[simpy.Event, Any, Any]


class Auditor:
    """Attaches every checker to a world and runs the end-of-run audit and probes."""

    def __init__(self, world: World, sink: Sink, *, isolated: bool, probes: bool = True) -> None:
        self.world = world
        self.sink = sink
        self.isolated = isolated
        self.probes = probes
        self.calls = CallChecker(sink, world, isolated=isolated)
        self.polls = PollChecker(sink, world)
        self.on_demand = OnDemandChecker(sink, world, self.polls)
        self.schedules = ScheduleChecker(sink, world, self.polls)
        self.outages = Outages(world)
        self.unsupported = frozenset(getattr(world.plugin_class, "unsupported_operations", ()))
        self.uses_fake_backend = False

    def attach(self, world: World) -> None:
        """Register the checkers, the mid-run idempotency probe and the end-of-run audit."""
        for checker in (self.calls, self.polls, self.on_demand, self.schedules):
            checker.attach(world)
        if self.probes:
            world.env.process(self._repeat_schedules())
        world.finishers.append(self._finish)

    # ------------------------------------------------------------------ helpers

    @property
    def platform(self) -> Any:
        """The world's platform."""
        return self.world.platform

    def _supported(self, *ops: Operation) -> bool:
        return not any(op in self.unsupported for op in ops)

    def _cpp_call(self, instance: Any, op: Operation, args: tuple[Any, ...]) -> Gen:
        return (
            yield from self.world.invoker.call(
                "cpp",
                instance,
                op,
                None,
                args,
                pool=self.platform.cpp_pool,
                check=AUDIT_CHECK_ID,
                probe=True,
            )
        )

    def _probe(self, vm_index: int, op: Operation, args: tuple[Any, ...]) -> Gen:
        """One plugin call under the VM's lock; None if the VM stays locked too long."""
        task: Task = self.platform.submit_probe(vm_index, op, args)
        ended = self.platform.when_ended(task)
        yield ended | self.world.env.timeout(MAX_DRAIN_S)
        return task.record if ended.triggered else None

    def _deployed_vms(self) -> list[int]:
        """Deployed VMs with no task and no backup lock: a probe on them runs at once."""
        fleet = self.world.fleet
        platform = self.platform
        return [
            i
            for i in range(min(fleet.size, 5000))
            if fleet.is_deployed(i) and not platform.vm_busy(fleet.uuid(i))
        ]

    # --------------------------------------------------------- mid-run: repeats

    def _repeat_schedules(self) -> Gen:
        """Repeat the schedule call of a few VMs, as csi-sanity does, a quarter into the run."""
        if not self._supported(Operation.APPLY_SCHEDULE):
            return
        yield self.platform.ready
        yield self.world.env.timeout(self.world.duration_s * 0.25)
        if self.platform.quiesced or not self.platform.plugin_loaded("virtualfactory"):
            return
        fleet = self.world.fleet
        chosen = [
            vm for vm in sorted(self.platform.vm_schedule) if fleet.is_deployed(fleet.index_of(vm))
        ][:3]
        for vm in chosen:
            schedule = self.platform.vm_schedule.get(vm)
            if schedule is None:
                continue
            i = fleet.index_of(vm)
            for _ in range(2):
                yield from self._probe(i, Operation.APPLY_SCHEDULE, (fleet.info(i), schedule))

    # ----------------------------------------------------------------- the end

    def _finish(self, world: World) -> None:
        world.platform.quiesce()
        process = world.env.process(self._audit())
        world.env.run(until=process)

    def _audit(self) -> Gen:
        sink = self.sink
        platform = self.platform
        # Let queued tasks and a running check finish first, so that audit calls never
        # run beside the platform's own; a VM locked for good (a backup that never ends)
        # must not stall the audit, so the wait is bounded.
        # The periodic check goes on meanwhile: it is what releases the VMs locked by a
        # backup in progress.
        waited = 0.0
        while (platform.vm_tasks_pending or platform.checking) and waited < MAX_DRAIN_S:
            yield self.world.env.timeout(10.0)
            waited += 10.0
        platform.stop_checks()
        while platform.checking and waited < 2 * MAX_DRAIN_S:
            yield self.world.env.timeout(10.0)
            waited += 10.0
        backend = self.world.backup_system
        self.uses_fake_backend = backend.sessions_opened_total > 0
        if not self.uses_fake_backend:
            for rule_id in (
                "connections.closed-after-use",
                "data.restore-integrity",
                "errors.backend-failure-raises",
                "polling.failure-raises",
            ):
                sink.not_exercisable(
                    rule_id,
                    f"the plugin never opened a session on the fake backup system ({FAKE_BACKEND})",
                )
        if not (platform.plugin_loaded("cpp") and platform.plugin_loaded("virtualfactory")):
            yield from self._validate_probes(baseline=None)
            return
        cpp = platform.instances["cpp"]
        listing_rec = None
        if self._supported(Operation.LIST_RESULTS):
            listing_rec = yield from self._cpp_call(
                cpp, Operation.LIST_RESULTS, (None, frozenset())
            )
        now = float(self.world.env.now)
        listing: list[BackupResult] | None = (
            list(listing_rec.result) if listing_rec is not None and listing_rec.ok else None
        )
        if listing is not None and listing_rec is not None:
            self.polls.audit_listing(listing, listing_rec)
            self._listable_until_expiry(listing, listing_rec)
            yield from self._fresh_instance(listing, listing_rec)
            if world_has_copies(self.world):
                yield from self._fresh_instance(listing, listing_rec, "virtualfactory")
        else:
            sink.not_exercisable("polling.no-lost-results", "the end-of-run full listing failed")
        self.schedules.audit(listing_rec.start if listing_rec is not None else now, listing)
        self.schedules.removal_exercised(listing_rec.start if listing_rec is not None else now)
        self.on_demand.audit(SETTLE_S)
        if self.probes:
            yield from self._expiry_probes(listing)
            yield from self._unknown_id_probe()
            yield from self._window_probe()
            yield from self._restore_probes(listing)
            yield from self._unsupported_probes()
            yield from self._connect_probes()
            yield from self._validate_probes(baseline=listing_rec)
        self._sessions()
        self._restore_truth()

    # -------------------------------------------------------- read-only audits

    def _listable_until_expiry(self, listing: list[BackupResult], rec: CallRecord) -> None:
        sink = self.sink
        listed = {r.provider_id for r in listing}
        now_s = rec.start
        for pid, seen in sorted(self.polls.seen.items()):
            if pid in self.polls.reported_expired or not seen.state.is_final:
                continue
            if seen.expiration_s is not None and seen.expiration_s <= now_s:
                continue
            sink.exercise("schedules.results-listable-until-expiry")
            if pid not in listed:
                sink.fail(
                    "schedules.results-listable-until-expiry",
                    f"result {pid} of VM {seen.vm} was listed before and has not expired, but a "
                    "full listing at the end no longer shows it",
                    at=now_s,
                    calls=[rec],
                )

    def _fresh_instance(
        self, listing: list[BackupResult], rec: CallRecord, component: str = "cpp"
    ) -> Gen:
        """A brand-new instance (of ``component``'s class) must see what the CPP sees."""
        world = self.world
        context = PluginContext(world.clock, dict(world.properties), "cpp")
        cls = world.platform.class_for(component)
        built = yield from world.invoker.lifecycle(
            "cpp",
            CONSTRUCTOR,
            lambda: cls(context),
            owner=world.plugin_class,
            probe=True,
        )
        if not built.ok:
            return
        fresh = built.result
        try:
            validated = yield from world.invoker.lifecycle(
                "cpp", VALIDATE, fresh.validate_configuration, owner=fresh, probe=True
            )
            if not validated.ok:
                return
            other = yield from self._cpp_call(fresh, Operation.LIST_RESULTS, (None, frozenset()))
            if not other.ok:
                return
            self.sink.exercise("startup.instances-isolated")
            cutoff = rec.now
            mine = {r.provider_id for r in listing}
            theirs = {r.provider_id: r for r in other.result}
            missing = sorted(mine - set(theirs))
            extra = sorted(
                pid
                for pid, r in theirs.items()
                if pid not in mine and cutoff is not None and r.creation_date <= cutoff
            )
            if missing or extra:
                where = (
                    "instance memory"
                    if component == "cpp"
                    else "the Virtual Factory's memory (its JVM's static state)"
                )
                self.sink.fail(
                    "startup.instances-isolated",
                    f"a fresh instance built like the {component}'s lists {len(theirs)} results "
                    f"where the long-lived CPP instance lists {len(mine)}: {len(missing)} "
                    f"missing (e.g. {missing[:3]}), {len(extra)} extra (e.g. {extra[:3]}); "
                    f"state seems to live in {where}",
                    calls=[rec, other],
                )
        finally:
            close = getattr(fresh, "close", None)
            if callable(close):
                close()

    # ------------------------------------------------------------------ probes

    def _expiry_probes(self, listing: list[BackupResult] | None) -> Gen:
        if not self._supported(Operation.GET_EXPIRED_RESULTS):
            return
        sink = self.sink
        cpp = self.platform.instances["cpp"]
        now = self.world.clock.now()
        sticky = sorted(self.polls.reported_expired)[:50]
        live = []
        due = []
        for r in listing or []:
            if r.state is not ResultState.DONE or r.expiration_date is None:
                continue
            if r.expiration_date > now + (self.world.clock.at(3600) - self.world.clock.at(0)):
                live.append(r.provider_id)
            elif r.expiration_date <= now:
                due.append(r.provider_id)
        asked = sticky + sorted(live)[:50] + sorted(due)[:50]
        if not asked:
            sink.not_exercisable("expiry.sticky", "no result expired during the run")
            return
        rec = yield from self._cpp_call(cpp, Operation.GET_EXPIRED_RESULTS, (asked,))
        if not rec.ok:
            return
        answered = set(rec.result)
        for pid in sticky:
            sink.exercise("expiry.sticky")
            if pid not in answered:
                sink.fail(
                    "expiry.sticky",
                    f"{pid} was reported expired earlier but is no longer reported expired",
                    calls=[rec],
                )
        for pid in live:
            sink.exercise("expiry.live-never-reported")
            if pid in answered:
                sink.fail(
                    "expiry.live-never-reported",
                    f"{pid} is reported expired although its expiration_date is more than an "
                    "hour away",
                    calls=[rec],
                )
        for pid in due:
            sink.exercise("expiry.reported-when-due")
            if pid not in answered:
                sink.fail(
                    "expiry.reported-when-due",
                    f"{pid} is past its expiration_date but get_expired_results does not report it",
                    calls=[rec],
                )

    def _unknown_id_probe(self) -> Gen:
        if not self._supported(Operation.LIST_RESULTS):
            return
        cpp = self.platform.instances["cpp"]
        lost = f"bpcert-lost-{self.world.seed}"
        rec = yield from self._cpp_call(
            cpp, Operation.LIST_RESULTS, (self.world.clock.now(), frozenset({lost}))
        )
        if not rec.ok:
            return
        self.sink.exercise("polling.unknown-for-lost-ids")
        self.sink.exercise("polling.in-progress-answered")
        answer = [r for r in rec.result if r.provider_id == lost]
        if not answer:
            self.sink.fail(
                "polling.in-progress-answered",
                f"list_results was asked about {lost!r} and did not answer it",
                expected=f"a result for {lost} (UNKNOWN: the backup system never had it)",
                actual="absent from the answer",
                calls=[rec],
            )
        if not answer or answer[0].state is not ResultState.UNKNOWN:
            got = answer[0].state.value if answer else "absent"
            self.sink.fail(
                "polling.unknown-for-lost-ids",
                f"list_results was asked about {lost!r}, which the backup system never had, and "
                f"answered {got}",
                expected="a result with that provider id and state UNKNOWN",
                actual=got,
                calls=[rec],
            )

    def _window_probe(self) -> Gen:
        """A result created exactly at last_check_date must be listed (the window is inclusive)."""
        if not self._supported(Operation.EXECUTE_BACKUP, Operation.LIST_RESULTS):
            return
        vms = [i for i in self._deployed_vms() if not self.outages.contains(self.world.env.now)]
        if not vms:
            return
        i = vms[0]
        info = self.world.fleet.info(i)
        made = yield from self._probe(i, Operation.EXECUTE_BACKUP, (info, OnDemandBackupOptions()))
        if made is None or not made.ok:
            return
        result: BackupResult = made.result
        cpp = self.platform.instances["cpp"]
        rec = yield from self._cpp_call(
            cpp, Operation.LIST_RESULTS, (result.creation_date, frozenset())
        )
        if not rec.ok:
            return
        self.sink.exercise("polling.window-complete")
        if result.provider_id not in {r.provider_id for r in rec.result}:
            self.sink.fail(
                "polling.window-complete",
                f"backup {result.provider_id} was created at {result.creation_date.isoformat()}, "
                "exactly the last_check_date asked, but list_results left it out (the window "
                "must be inclusive)",
                calls=[made, rec],
            )

    def _restore_probes(self, listing: list[BackupResult] | None) -> Gen:
        if not self._supported(Operation.EXECUTE_RESTORE, Operation.LIST_RESULTS):
            return
        if listing is None:
            return
        sink = self.sink
        fleet = self.world.fleet
        deployed = self._deployed_vms()
        if not deployed:
            return
        now = self.world.clock.now()
        target = deployed[-1]
        target_uuid = fleet.uuid(target)
        cases: list[tuple[str, str, set[str]]] = [
            ("an unknown backup id", f"bpcert-no-such-backup-{self.world.seed}", _NOT_FOUND)
        ]
        for r in listing:
            if (
                r.vm_uuid != target_uuid
                and r.state is ResultState.DONE
                and (r.expiration_date is None or r.expiration_date > now)
            ):
                cases.append(("another VM's backup", r.provider_id, _NOT_RESTORABLE))
                break
        for r in listing:
            if r.state is ResultState.FAILED:
                vm_index = self._index(r.vm_uuid)
                if vm_index is not None:
                    cases.append(("a failed backup", r.provider_id, _NOT_RESTORABLE))
                    break
        for r in listing:
            expired = r.expiration_date is not None and r.expiration_date <= now
            if r.state is ResultState.DONE and expired and self._index(r.vm_uuid) is not None:
                cases.append(("an expired backup", r.provider_id, _NOT_RESTORABLE))
                break
        before = {r.provider_id: len(r.restores) for r in listing}
        truth_before = self.world.backup_system.restores_started
        probed = []
        for label, backup_id, fitting in cases:
            owner = target
            if label in ("a failed backup", "an expired backup"):
                owner = (
                    self._index(next(r.vm_uuid for r in listing if r.provider_id == backup_id))
                    or target
                )
            rec = yield from self._probe(
                owner, Operation.EXECUTE_RESTORE, (fleet.info(owner), backup_id)
            )
            if rec is None:
                continue
            sink.exercise("on-demand.restore-refuses-bad-backup")
            probed.append(backup_id)
            if rec.outcome == "ok":
                sink.fail(
                    "on-demand.restore-refuses-bad-backup",
                    f"execute_restore of {label} ({backup_id}) on VM {fleet.uuid(owner)} succeeded",
                    expected="BackupPluginException (BACKUP_NOT_FOUND or BACKUP_NOT_RESTORABLE)",
                    actual="a restore result",
                    calls=[rec],
                )
            elif rec.outcome == "error" and rec.error_code is not None:
                sink.exercise("errors.fitting-error-code")
                down = self.outages.contains(rec.start)
                if rec.error_code not in fitting and not (
                    down and rec.error_code in BACKEND_DOWN_CODES
                ):
                    sink.fail(
                        "errors.fitting-error-code",
                        f"execute_restore of {label} failed with {rec.error_code}",
                        expected=" or ".join(sorted(fitting)),
                        actual=rec.error_code,
                        calls=[rec],
                    )
        if not probed:
            return
        cpp = self.platform.instances["cpp"]
        after = yield from self._cpp_call(cpp, Operation.LIST_RESULTS, (None, frozenset()))
        if after.ok:
            for r in after.result:
                if r.provider_id in probed and len(r.restores) > before.get(r.provider_id, 0):
                    sink.fail(
                        "on-demand.restore-refuses-bad-backup",
                        f"a refused restore of {r.provider_id} still left a restore behind",
                        calls=[after],
                    )
        started = self.world.backup_system.restores_started - truth_before
        if self.uses_fake_backend and started > 0:
            sink.fail(
                "on-demand.restore-refuses-bad-backup",
                f"the backup system started {started} restore(s) for requests that should "
                "have been refused",
            )

    def _index(self, vm_uuid: str) -> int | None:
        try:
            return int(self.world.fleet.index_of(vm_uuid))
        except KeyError:
            return None

    def _unsupported_probes(self) -> Gen:
        sink = self.sink
        if not self.unsupported:
            sink.not_exercisable(
                "errors.unsupported-raises-unsupported", "the plugin declares nothing unsupported"
            )
            return
        deployed = self._deployed_vms()
        if not deployed:
            return
        i = deployed[0]
        info = self.world.fleet.info(i)
        schedule = self.platform.vm_schedule.get(info.uuid)
        empty = BackupSchedule()
        args: dict[Operation, tuple[Any, ...]] = {
            Operation.APPLY_SCHEDULE: (info, schedule or empty),
            Operation.APPLY_NEW_SCHEDULE: (info, schedule or empty, schedule or empty),
            Operation.REMOVE_SCHEDULE: (info,),
            Operation.EXECUTE_BACKUP: (info, OnDemandBackupOptions()),
            Operation.EXECUTE_RESTORE: (info, f"bpcert-probe-{self.world.seed}"),
        }
        for op in sorted(self.unsupported, key=lambda o: o.value):
            if op in args:
                rec = yield from self._probe(i, op, args[op])
            elif op is Operation.LIST_RESULTS:
                rec = yield from self._cpp_call(
                    self.platform.instances["cpp"], op, (None, frozenset())
                )
            else:
                rec = yield from self._cpp_call(self.platform.instances["cpp"], op, ([],))
            if rec is None:
                continue
            sink.exercise("errors.unsupported-raises-unsupported")
            if rec.outcome != "error" or rec.error_code != BackupPluginError.UNSUPPORTED.value:
                sink.fail(
                    "errors.unsupported-raises-unsupported",
                    f"{op.value} is declared unsupported but did not raise UNSUPPORTED "
                    f"({rec.outcome} {rec.error_code or ''})",
                    calls=[rec],
                )

    def _connect_probes(self) -> Gen:
        """Bad credentials, an unreachable endpoint and missing MANDATORY fields must fail
        the connect with PluginConnectionError."""
        world = self.world
        meta = getattr(world.plugin_class, "connection_metadata", ConnectionMetadata())
        good = world.connection_data
        instance = self.platform.instances["virtualfactory"]
        cases: list[tuple[str, ConnectionData, str]] = []
        if meta.credentials is not FieldConstraint.NO_APPLICABLE and good.user is not None:
            cases.append(
                (
                    "a wrong password",
                    good.model_copy(update={"password": SecretStr("bpcert-wrong-password")}),
                    "connections.connect-failure-typed",
                )
            )
        if meta.endpoint is not FieldConstraint.NO_APPLICABLE and good.endpoint is not None:
            cases.append(
                (
                    "an unreachable endpoint",
                    good.model_copy(update={"endpoint": "sim://bpcert-unreachable"}),
                    "connections.connect-failure-typed",
                )
            )
        if meta.endpoint is FieldConstraint.MANDATORY:
            cases.append(
                (
                    "no endpoint although it is MANDATORY",
                    good.model_copy(update={"endpoint": None}),
                    "startup.connection-constraints-honoured",
                )
            )
        if meta.credentials is FieldConstraint.MANDATORY:
            cases.append(
                (
                    "no credentials although they are MANDATORY",
                    good.model_copy(update={"user": None, "password": None}),
                    "startup.connection-constraints-honoured",
                )
            )
        for label, data, rule_id in cases:

            def attempt(data: ConnectionData = data) -> str:
                connection = instance.new_connection()
                try:
                    connection.connect(data)
                except PluginConnectionError:
                    return "PluginConnectionError"
                connection.disconnect()
                return "connected"

            rec = yield from world.invoker.lifecycle(
                "virtualfactory", "connect", attempt, owner=instance, probe=True
            )
            self.sink.exercise(rule_id)
            if rec.outcome == "ok" and rec.result == "PluginConnectionError":
                continue
            actual = "connected" if rec.outcome == "ok" else f"{rec.outcome}: {rec.detail}"
            self.sink.fail(
                rule_id,
                f"connect() with {label} did not raise PluginConnectionError ({actual})",
                expected="PluginConnectionError",
                actual=actual,
                calls=[rec],
            )

    def _validate_probes(self, baseline: CallRecord | None) -> Gen:
        """Each property removed or made invalid: ConfigurationError or a working plugin."""
        world = self.world
        sink = self.sink
        complete = dict(getattr(world.plugin_class, "example_properties", {}) or {})
        if world.scenario.platform.properties.mode == "default":
            complete = dict(world.properties)
        if not complete:
            sink.not_exercisable(
                "startup.validate-raises-configuration-error",
                "the plugin publishes no example properties to remove",
            )
            sink.not_exercisable(
                "startup.validate-detects-missing-properties",
                "the plugin publishes no example properties to remove",
            )
            return
        variants: list[tuple[str, dict[str, str]]] = [("no properties at all", {})]
        for key in sorted(complete):
            without = {k: v for k, v in complete.items() if k != key}
            variants.append((f"{key!r} missing", without))
            variants.append((f"{key!r} empty", {**without, key: ""}))
            variants.append((f"{key!r} invalid", {**without, key: "bpcert-invalid-\u2603"}))
        can_probe = (
            baseline is not None
            and baseline.ok
            and not self.outages.contains(world.env.now)
            and self._supported(Operation.LIST_RESULTS)
        )
        for label, props in variants:
            context = PluginContext(world.clock, props, "api")

            def build(context: PluginContext = context) -> Any:
                return world.plugin_class(context)

            built = yield from world.invoker.lifecycle(
                "api", CONSTRUCTOR, build, owner=world.plugin_class, probe=True
            )
            if not built.ok:
                sink.exercise("startup.validate-raises-configuration-error")
                sink.fail(
                    "startup.validate-raises-configuration-error",
                    f"building the plugin with {label} raised {built.detail}; problems with "
                    "properties belong in validate_configuration",
                    calls=[built],
                )
                continue
            instance = built.result
            try:
                rec = yield from world.invoker.lifecycle(
                    "api", VALIDATE, instance.validate_configuration, owner=instance, probe=True
                )
                sink.exercise("startup.validate-raises-configuration-error")
                sink.exercise("startup.validate-detects-missing-properties")
                if rec.outcome != "ok" and rec.error_code != "CONFIGURATION":
                    sink.fail(
                        "startup.validate-raises-configuration-error",
                        f"validate_configuration with {label} raised {rec.detail}",
                        expected="ConfigurationError (or return normally)",
                        actual=rec.detail,
                        calls=[rec],
                    )
                    continue
                if rec.outcome != "ok" or not can_probe:
                    continue
                # Accepted: then the plugin must work without that property.
                probe = yield from world.invoker.call(
                    "cpp",
                    instance,
                    Operation.LIST_RESULTS,
                    None,
                    (None, frozenset()),
                    pool=self.platform.cpp_pool,
                    check=AUDIT_CHECK_ID,
                    probe=True,
                )
                if not probe.ok:
                    sink.fail(
                        "startup.validate-detects-missing-properties",
                        f"validate_configuration accepted {label}, but list_results then "
                        f"failed ({probe.outcome}: {probe.detail}); it works with the complete "
                        "properties, so validation should have refused these",
                        calls=[rec, probe, baseline],
                    )
            finally:
                close = getattr(instance, "close", None)
                if callable(close):
                    close()

    # ------------------------------------------------------- ground truth

    def _sessions(self) -> None:
        if not self.uses_fake_backend:
            return
        self.sink.exercise("connections.closed-after-use")
        open_sessions = self.world.backup_system.open_sessions()
        if open_sessions:
            opened = ", ".join(f"{sid} (opened at {t:.0f} s)" for sid, t in open_sessions[:5])
            self.sink.fail(
                "connections.closed-after-use",
                f"{len(open_sessions)} session(s) left open on the backup server at the end: "
                f"{opened}",
                expected="every session closed by disconnect()",
                actual=f"{len(open_sessions)} open",
            )

    def _restore_truth(self) -> None:
        if not self.uses_fake_backend:
            return
        checked = False
        for truth in self.world.backup_system.truth_restores():
            if truth.verified is None:
                continue
            checked = True
            self.sink.exercise("data.restore-integrity")
            asked = self.on_demand.restores.get(truth.provider_id)
            if asked is not None and asked[0] != truth.backup_provider_id:
                self.sink.fail(
                    "data.restore-integrity",
                    f"restore {truth.provider_id} wrote back backup {truth.backup_provider_id}, "
                    f"but the platform asked to restore {asked[0]}",
                    expected=f"the content of {asked[0]}",
                    actual=f"the content of {truth.backup_provider_id}",
                    calls=[asked[1]],
                )
            elif not truth.verified:
                self.sink.fail(
                    "data.restore-integrity",
                    f"restore {truth.provider_id} of backup {truth.backup_provider_id} left the "
                    "VM's disks different from the content the backup captured",
                    evidence=[{"restore": truth.provider_id, "backup": truth.backup_provider_id}],
                )
        if not checked:
            self.sink.not_exercisable("data.restore-integrity", "no restore finished in this run")


def world_has_copies(world: World) -> bool:
    """True when the components build from separate copies of the plugin's module."""
    return bool(world.platform.component_classes)
