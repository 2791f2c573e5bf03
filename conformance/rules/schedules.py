"""Schedules: backups appear when, and only when, the applied schedule says, a new schedule
replaces the old, a removed one stops, and repeating a schedule call changes nothing.

Online, the checker follows each VM's applied schedule from the Virtual Factory's calls (a
history of segments). A quarter into the run it repeats a few VMs' ``apply_schedule``, as
csi-sanity does. At the end (``audit``) it matches every scheduled result the polls and the
full listing showed against the segments.

**Out-of-band changes.** An administrator's change to a VM's policies in the backup system
directly (a scenario's ``admin_add`` / ``admin_remove``) is no plugin call: from that
instant the backup system protects the VM as the administrator said. The change starts an
``admin`` segment: until the VM's next schedule call nothing is expected of it, and no
scheduled backup of it is blamed on the plugin from then on (a job the administrator made
may outlive the plugin's later calls). A schedule call after the change is judged again
for the backups it must produce.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any

from conformance.rules.base import Checker, Context, EndOfRun, Gen, Rule, declare
from simulator.backend.records import TruthBackup
from simulator.backend.schedule import occurrences, periods
from simulator.contract import BackupResult, BackupSchedule, Operation, ResultState
from simulator.platform.invoker import CallRecord

__all__ = ["RULES", "ScheduleChecker"]

_O = Operation

RULES: tuple[Rule, ...] = (
    declare(
        "schedules.backups-at-scheduled-times",
        "After apply_schedule the backup system runs backups at the times the schedule gives, "
        "within the tolerance, and only then, and they show up in list_results.",
        [_O.APPLY_SCHEDULE, _O.LIST_RESULTS],
    ),
    declare(
        "schedules.new-schedule-replaces-old",
        "After apply_new_schedule removed configurations stop, added ones start and changed "
        "ones move to their new time.",
        [_O.APPLY_NEW_SCHEDULE, _O.LIST_RESULTS],
    ),
    declare(
        "schedules.removed-schedule-stops",
        "After remove_schedule no new scheduled backup appears for that VM.",
        [_O.REMOVE_SCHEDULE, _O.LIST_RESULTS],
    ),
    declare(
        "schedules.results-listable-until-expiry",
        "Earlier results stay listable until the backup system removes them (or the plugin "
        "reports them expired), also after the schedule is removed.",
        [_O.LIST_RESULTS],
    ),
    declare(
        "schedules.idempotent",
        "Repeating a schedule call with the same arguments changes nothing: no duplicate backups.",
        [_O.APPLY_SCHEDULE, _O.LIST_RESULTS],
    ),
)


@dataclass(slots=True)
class _Segment:
    start: float
    schedule: BackupSchedule | None
    origin: str  # apply | new | remove | repeat | uncertain | admin
    previous: BackupSchedule | None
    call: CallRecord | None  # None for an administrator's change (no plugin call)


class ScheduleChecker(Checker):
    """Do scheduled backups appear when, and only when, the applied schedule says?"""

    rules = RULES

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.clock = self.world.clock
        self.tolerance = self.world.scenario.platform.tolerance
        self.segments: dict[str, list[_Segment]] = {}
        #: VM -> the operation and arguments of its last successful schedule call.
        self.last_calls: dict[str, tuple[str, tuple[Any, ...]]] = {}
        self._truth_by_vm: dict[str, list[TruthBackup]] | None = None

    def _backups_the_system_took(self, vm: str, type_: str, lo: float, hi: float) -> list[Any]:
        """With the fake backup system: the backups it took of ``vm`` created in [lo, hi]."""
        if not self.observed.uses_fake_backend:
            return []
        if self._truth_by_vm is None:
            self._truth_by_vm = {}
            for truth in self.world.backup_system.truth_backups():
                if not truth.on_demand:
                    self._truth_by_vm.setdefault(truth.vm_uuid, []).append(truth)
        return [
            t
            for t in self._truth_by_vm.get(vm, ())
            if t.type.value == type_ and lo <= self.clock.seconds(t.creation_date) <= hi
        ]

    def _what_happened(self, truths: list[TruthBackup]) -> tuple[str, str]:
        """What the backup system did and what the plugin reported, for a missing backup."""
        t = truths[0]
        seen = self.observed.results.get(t.provider_id)
        reported = (
            f"the plugin reported it as {seen.state.value}, created at "
            f"{self.clock.at(seen.creation_s).isoformat()}"
            if seen is not None
            else "the plugin never reported it (in no poll answer, nor in the end-of-run "
            "full listing)"
        )
        did = (
            f"the backup system created backup {t.provider_id} at "
            f"{t.creation_date.isoformat()} and it is {t.state.value} "
            f"(planned to finish at {t.planned_finish_date.isoformat()})"
        )
        return f"{did}, but {reported}", f"{reported}; the backup system: {t.state.value}"

    def before_run(self) -> None:
        """Start the mid-run repeat of a few schedule calls (a probe)."""
        if self.ctx.probes:
            self.world.env.process(self._repeat_schedules())

    def on_call(self, rec: CallRecord) -> None:
        """Follow each VM's applied schedule from the Virtual Factory's calls."""
        op = rec.op
        if rec.component != "virtualfactory" or op not in (
            Operation.APPLY_SCHEDULE.value,
            Operation.APPLY_NEW_SCHEDULE.value,
            Operation.REMOVE_SCHEDULE.value,
        ):
            return
        vm = rec.args[0].uuid
        segs = self.segments.setdefault(vm, [])
        current = segs[-1].schedule if segs else None
        if self.last_calls.get(vm) == (op, rec.args):
            self._repeated(rec)
        if rec.outcome == "ok":
            self.last_calls[vm] = (op, rec.args)
        if rec.outcome == "error":
            return  # refused: the VM's schedule is unchanged
        if rec.outcome != "ok":
            segs.append(_Segment(rec.start, None, "uncertain", current, rec))
            return
        if op == Operation.APPLY_SCHEDULE.value:
            schedule: BackupSchedule | None = rec.args[1]
            origin = "repeat" if (segs and segs[-1].schedule == schedule) else "apply"
        elif op == Operation.APPLY_NEW_SCHEDULE.value:
            schedule = rec.args[2]
            origin = "repeat" if (segs and segs[-1].schedule == schedule) else "new"
        else:
            schedule, origin = None, "remove"
        if origin == "repeat":
            segs.append(_Segment(rec.start, schedule, "repeat", current, rec))
            return
        if schedule is not None and not schedule.policies:
            schedule = None
        segs.append(_Segment(rec.start, schedule, origin, current, rec))

    def _repeated(self, rec: CallRecord) -> None:
        """The same call with the same arguments as the VM's last successful one: the
        platform repeats it after a timeout or a retried task, and it must change nothing.
        A refusal fails here; duplicate backups fail in the audit."""
        self.sink.exercise("schedules.idempotent")
        if rec.outcome == "error" and not self.ctx.outages.contains(rec.start):
            self.sink.fail(
                "schedules.idempotent",
                f"{rec.op} repeated with the same arguments on VM {rec.args[0].uuid} was "
                f"refused ({rec.error_code}: {rec.detail}); a repeat must succeed and change "
                "nothing",
                expected="returns normally",
                actual=f"{rec.error_code}: {rec.detail}",
                at=rec.start,
                calls=[rec],
            )

    # ------------------------------------------------------- mid-run: repeats

    def _repeat_schedules(self) -> Gen:
        """Repeat the schedule call of a few VMs, as csi-sanity does, a quarter into the run."""
        if not self.ctx.supported(Operation.APPLY_SCHEDULE):
            return
        yield self.ctx.platform.ready
        yield self.world.env.timeout(self.world.duration_s * 0.25)
        if self.ctx.platform.quiesced or not self.ctx.platform.plugin_loaded("virtualfactory"):
            return
        fleet = self.world.fleet
        chosen = [
            vm
            for vm in sorted(self.ctx.platform.vm_schedule)
            if fleet.is_deployed(fleet.index_of(vm))
        ][:3]
        for vm in chosen:
            schedule = self.ctx.platform.vm_schedule.get(vm)
            if schedule is None:
                continue
            i = fleet.index_of(vm)
            for _ in range(2):
                yield from self.ctx.probe_vm(i, Operation.APPLY_SCHEDULE, (fleet.info(i), schedule))

    def _listable_until_expiry(self, listing: list[BackupResult], rec: CallRecord) -> None:
        sink = self.sink
        listed = {r.provider_id for r in listing}
        now_s = rec.start
        removals = self.ctx.removals
        for pid, seen in sorted(self.observed.results.items()):
            if pid in self.observed.reported_expired or not seen.state.is_final:
                continue
            if removals.knows_now and removals.state_at(pid, now_s) != "live":
                continue  # the backup system removed it: correct to leave it out
            if not removals.knows_now and seen.state is ResultState.FAILED:
                # A plugin's own backend: its removal shows only as leaving the listing, and
                # the platform never asks get_expired_results about a failed result, so
                # there is no way to report it first.
                continue
            sink.exercise("schedules.results-listable-until-expiry")
            if pid not in listed:
                sink.fail(
                    "schedules.results-listable-until-expiry",
                    f"result {pid} of VM {seen.vm} was listed before and was not reported "
                    "expired, but a full listing at the end no longer shows it"
                    + (
                        " although the backup system still holds it"
                        if removals.knows_now
                        else " (a backup that left the listing is gone: report it expired)"
                    ),
                    at=now_s,
                    calls=[rec],
                )

    # ------------------------------------------------------------------ the end

    def ground_truth(self, end: EndOfRun) -> None:
        """Last, once the expiry probe has asked about every removed backup: results stay
        listable until the backup system removes them."""
        if end.listing is not None and end.listing_call is not None:
            self._listable_until_expiry(end.listing, end.listing_call)

    def audit(self, end: EndOfRun) -> Gen:
        """Every scheduled result matches a segment; removal and replacement were exercised
        where the old schedule would fire."""
        self._audit_segments(end.at, end.listing)
        self._removal_exercised(end.at)
        yield from ()

    def _audit_segments(self, end_s: float, listing: list[BackupResult] | None) -> None:
        """Match scheduled results (polled, or in the end-of-run ``listing``) against each
        VM's schedule segments."""
        by_vm: dict[str, list[tuple[float, str, str]]] = {}
        for pid, seen in self.observed.results.items():
            if not seen.on_demand:
                by_vm.setdefault(seen.vm, []).append((seen.creation_s, seen.type, pid))
        for r in listing or ():
            if not r.on_demand and r.provider_id not in self.observed.results:
                by_vm.setdefault(r.vm_uuid, []).append(
                    (self.clock.seconds(r.creation_date), r.type.value, r.provider_id)
                )
        for results in by_vm.values():
            results.sort()
        admin: dict[str, list[_Segment]] = {}
        for t, vm, _code, _action in self.world.backup_system.admin_changes:
            admin.setdefault(vm, []).append(_Segment(t, None, "admin", None, None))
        vms = sorted(set(self.segments) | set(by_vm))
        for vm in vms:
            segs = self.segments.get(vm, [])
            if vm in admin:  # stable: a call at the change's instant stays after it
                segs = sorted([*admin[vm], *segs], key=lambda seg: seg.start)
            self._audit_vm(vm, segs, by_vm.get(vm, []), end_s)

    def _windows(self, segs: list[_Segment], end_s: float) -> list[tuple[float, float, _Segment]]:
        out = []
        for i, seg in enumerate(segs):
            b = segs[i + 1].start if i + 1 < len(segs) else end_s
            out.append((seg.start, min(b, end_s), seg))
        return out

    def _audit_vm(
        self,
        vm: str,
        segs: list[_Segment],
        results: list[tuple[float, str, str]],
        end_s: float,
    ) -> None:
        sink = self.sink
        tol = self.tolerance
        windows = self._windows(segs, end_s)
        consumed: set[str] = set()
        creations = [r[0] for r in results]
        matched_occurrence: dict[tuple[str, float], list[str]] = {}

        def take(type_: str, lo: float, hi: float) -> str | None:
            i = bisect_left(creations, lo)
            j = bisect_right(creations, hi)
            for k in range(i, j):
                _, t, pid = results[k]
                if t == type_ and pid not in consumed:
                    consumed.add(pid)
                    return pid
            return None

        # 1. Every expected occurrence produced a backup. Each expectation is a window
        # [lo, hi] for a backup of one type; matching windows to backups by earliest window
        # end, each taking the earliest free backup inside it, is optimal, so a timeless
        # configuration's wide window never steals a timed occurrence's backup.
        expectations: list[tuple[float, float, str, str, Any, float | None]] = []
        for a, b, seg in windows:
            if seg.schedule is None:
                continue
            previous_configs = set()
            if seg.origin == "new" and seg.previous is not None:
                previous_configs = {(p.code, c) for p, c in seg.previous.configurations()}
            for policy, config in seg.schedule.configurations():
                added_or_changed = seg.origin == "new" and (policy.code, config) not in (
                    previous_configs
                )
                rule = (
                    "schedules.new-schedule-replaces-old"
                    if added_or_changed
                    else "schedules.backups-at-scheduled-times"
                )
                if seg.origin == "repeat":
                    sink.exercise("schedules.idempotent")
                start, stop = self.clock.at(a), self.clock.at(b)
                type_ = config.type.value
                if config.time is None:
                    for p_start, p_end in periods(config, start, stop):
                        ps, pe = self.clock.seconds(p_start), self.clock.seconds(p_end)
                        if ps < a or pe > b or self.ctx.outages.overlaps(ps - tol, pe):
                            continue
                        message = (
                            f"VM {vm}: no {type_} backup in the period {p_start.isoformat()} .. "
                            f"{p_end.isoformat()} of policy {policy.code}'s "
                            f"{config.subtype.value} configuration without time"
                        )
                        expectations.append((pe + tol, ps, type_, rule, (message, seg), None))
                    continue
                for occ in occurrences(config, start, stop):
                    o = self.clock.seconds(occ)
                    if o <= a or o + tol > b or self.ctx.outages.overlaps(o - tol, o + tol):
                        continue
                    message = (
                        f"VM {vm}: policy {policy.code} {type_} {config.subtype.value} "
                        f"'{config.time}' should have fired at {occ.isoformat()}"
                    )
                    expectations.append((o + tol, o, type_, rule, (message, seg), o))
        expectations.sort(key=lambda e: (e[0], e[1], e[2]))
        for hi, lo, type_, rule, (message, seg), occurrence in expectations:
            sink.exercise(rule)
            pid = take(type_, lo, hi)
            if pid is None:
                truths = self._backups_the_system_took(vm, type_, lo, hi)
                if any(self.ctx.removals.lost(t.provider_id) for t in truths):
                    continue  # taken, then lost by the backup system: nothing to report
                cause = None
                if truths:
                    did, actual = self._what_happened(truths)
                    message, actual = f"{message}: {did}", actual
                    cause = self.ctx.date_cause(truths[0].provider_id)
                elif occurrence is not None:
                    message = f"{message} but no backup was created within {tol / 60:.0f} min of it"
                    actual = "none listed"
                else:
                    actual = "none listed"
                sink.fail(
                    rule,
                    message,
                    expected=f"a {type_} backup created in [{self.clock.at(lo).isoformat()}, "
                    f"{self.clock.at(hi).isoformat()}]",
                    actual=actual,
                    at=lo,
                    calls=[seg.call] if seg.call is not None else [],
                    cause=cause,
                )
            elif occurrence is not None:
                matched_occurrence.setdefault((type_, occurrence), []).append(pid)
        # 2. Every scheduled backup belongs to an occurrence of a schedule then active.
        for c, type_, pid in results:
            if pid in consumed:
                continue
            verdict = self._explain(c, type_, windows, matched_occurrence)
            if verdict is None:
                continue
            rule, message = verdict
            sink.fail(
                rule,
                f"VM {vm}: scheduled {type_} backup {pid} created at "
                f"{self.clock.at(c).isoformat()} {message}",
                at=c,
                calls=[call for w in windows if w[0] <= c and (call := w[2].call)][-1:],
                cause=self.ctx.date_cause(pid),
            )

    def _explain(
        self,
        c: float,
        type_: str,
        windows: list[tuple[float, float, _Segment]],
        matched: dict[tuple[str, float], list[str]],
    ) -> tuple[str, str] | None:
        """None if the backup at ``c`` is explained by an active schedule, else (rule, why)."""
        tol = self.tolerance
        duplicate_of: tuple[str, float] | None = None
        for a, b, seg in windows:
            if seg.schedule is None or seg.origin in ("uncertain", "admin"):
                if seg.origin in ("uncertain", "admin") and a <= c:
                    # An indeterminate call: the platform cannot know. An administrator's
                    # change: the backup system's, not the plugin's.
                    return None
                continue
            for _, config in seg.schedule.configurations():
                if config.type.value != type_:
                    continue
                if config.time is None:
                    if a - tol <= c <= b + tol:
                        return None
                    continue
                lo = self.clock.at(max(a, c - tol) - 1e-6)
                hi = self.clock.at(min(b, c) + 1e-6)
                for occ in occurrences(config, lo, hi):
                    o = self.clock.seconds(occ)
                    if o <= c <= o + tol:
                        if not matched.get((type_, o)):
                            return None
                        duplicate_of = (type_, o)
        if duplicate_of is not None:
            self.sink.exercise("schedules.idempotent")
            return (
                "schedules.idempotent",
                f"duplicates backup {matched[duplicate_of][0]} of the same occurrence "
                f"{self.clock.at(duplicate_of[1]).isoformat()}",
            )
        active = [w for w in windows if w[0] <= c]
        if not active:
            return (
                "schedules.backups-at-scheduled-times",
                "but no schedule had been applied to the VM",
            )
        a, b, seg = active[-1]
        if seg.origin == "remove":
            self.sink.exercise("schedules.removed-schedule-stops")
            return (
                "schedules.removed-schedule-stops",
                f"after remove_schedule at {self.clock.at(a).isoformat()}",
            )
        if seg.origin == "new":
            return (
                "schedules.new-schedule-replaces-old",
                f"matches no configuration of the schedule applied by apply_new_schedule at "
                f"{self.clock.at(a).isoformat()} (an old configuration still firing?)",
            )
        return (
            "schedules.backups-at-scheduled-times",
            "matches no occurrence of the applied schedule",
        )

    def _removal_exercised(self, end_s: float) -> None:
        """Mark removal/replacement rules exercised where the old schedule would have fired."""
        for segs in self.segments.values():
            for i, seg in enumerate(segs):
                if seg.origin not in ("remove", "new") or seg.previous is None:
                    continue
                b = segs[i + 1].start if i + 1 < len(segs) else end_s
                for _, config in seg.previous.configurations():
                    if config.time is None:
                        continue
                    if occurrences(config, self.clock.at(seg.start), self.clock.at(b)):
                        rule = (
                            "schedules.removed-schedule-stops"
                            if seg.origin == "remove"
                            else "schedules.new-schedule-replaces-old"
                        )
                        self.sink.exercise(rule)
                        break
