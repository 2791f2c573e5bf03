"""On demand: ``execute_backup`` and ``execute_restore`` as the Virtual Factory calls them.

Online, the checker judges each result the plugin returns. At the end it checks that every
on-demand backup reached a final state through ``list_results`` (``audit``), and asks the
plugin to restore an unknown, failed, expired and another VM's backup (``probe``): each
must be refused and change nothing.
"""

from __future__ import annotations

from conformance.rules.base import Checker, Context, EndOfRun, Gen, Rule, declare
from conformance.rules.errors import BACKEND_DOWN_CODES
from simulator.contract import (
    BackupPluginError,
    BackupResult,
    Operation,
    RestoreResult,
    ResultState,
)
from simulator.platform.invoker import CallRecord

__all__ = ["RULES", "SETTLE_S", "OnDemandChecker"]

_O = Operation

RULES: tuple[Rule, ...] = (
    declare(
        "on-demand.backup-result-well-formed",
        "execute_backup returns a result for that VM with a new non-empty provider id, state "
        "IN_PROGRESS or DONE, on_demand set, and replication as asked (or raises UNSUPPORTED).",
        [_O.EXECUTE_BACKUP],
    ),
    declare(
        "on-demand.backup-reaches-final-state",
        "An on-demand backup reaches DONE or FAILED through list_results.",
        [_O.EXECUTE_BACKUP, _O.LIST_RESULTS],
    ),
    declare(
        "on-demand.restore-points-at-backup",
        "execute_restore of a done, unexpired backup of that VM returns a restore result that "
        "points at it.",
        [_O.EXECUTE_RESTORE],
    ),
    declare(
        "on-demand.restore-refuses-bad-backup",
        "Restoring an unknown backup id, or a failed, expired or another VM's backup, raises "
        "BackupPluginException and changes nothing.",
        [_O.EXECUTE_RESTORE, _O.LIST_RESULTS],
    ),
)

#: How long after an on-demand backup started it must have been seen final.
SETTLE_S = 6 * 3600.0
_NOT_FOUND = {BackupPluginError.BACKUP_NOT_FOUND.value}
_NOT_RESTORABLE = {
    BackupPluginError.BACKUP_NOT_FOUND.value,
    BackupPluginError.BACKUP_NOT_RESTORABLE.value,
}


class OnDemandChecker(Checker):
    """Rules about execute_backup and execute_restore as the Virtual Factory calls them."""

    rules = RULES

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        #: Provider id of each on-demand backup that succeeded -> its call.
        self.on_demand: dict[str, CallRecord] = {}

    def on_call(self, rec: CallRecord) -> None:
        """Judge the results of on-demand backups and restores."""
        if rec.outcome != "ok":
            return
        if rec.op == Operation.EXECUTE_BACKUP.value:
            self._backup(rec)
        elif rec.op == Operation.EXECUTE_RESTORE.value:
            self._restore(rec)

    def _backup(self, rec: CallRecord) -> None:
        sink = self.sink
        rule = "on-demand.backup-result-well-formed"
        sink.exercise(rule)
        r: BackupResult = rec.result
        vm, options = rec.args
        problems = []
        earlier = self.observed.results.get(r.provider_id)
        if not r.provider_id.strip():
            problems.append("the provider id is empty")
        elif r.provider_id in self.on_demand or (
            earlier is not None and earlier.first_seq < rec.seq
        ):
            problems.append(f"provider id {r.provider_id!r} is not new")
        if r.vm_uuid != vm.uuid:
            problems.append(f"vm_uuid is {r.vm_uuid!r}, not the VM backed up ({vm.uuid})")
        if r.state not in (ResultState.IN_PROGRESS, ResultState.DONE):
            problems.append(f"state is {r.state.value}, expected IN_PROGRESS or DONE")
        if not r.on_demand:
            problems.append("on_demand is not set")
        if r.replication != options.replication:
            problems.append(
                f"replication is {r.replication} but {options.replication} was asked "
                "(raise UNSUPPORTED if replication cannot be done)"
            )
        for problem in problems:
            sink.fail(rule, f"execute_backup: {problem}", at=rec.start, calls=[rec])
        if r.provider_id:
            self.on_demand.setdefault(r.provider_id, rec)

    def _restore(self, rec: CallRecord) -> None:
        sink = self.sink
        rule = "on-demand.restore-points-at-backup"
        sink.exercise(rule)
        r: RestoreResult = rec.result
        _, backup_id = rec.args
        problems = []
        if r.backup_provider_id != backup_id:
            problems.append(f"backup_provider_id is {r.backup_provider_id!r}, not {backup_id!r}")
        if not r.provider_id.strip():
            problems.append("the restore's provider id is empty")
        elif r.provider_id == backup_id:
            problems.append("the restore reuses the backup's provider id")
        if r.state not in (ResultState.IN_PROGRESS, ResultState.DONE):
            problems.append(f"state is {r.state.value}, expected IN_PROGRESS or DONE")
        for problem in problems:
            sink.fail(rule, f"execute_restore: {problem}", at=rec.start, calls=[rec])
        if r.provider_id:
            self.observed.restore_requests.setdefault(r.provider_id, (backup_id, rec))

    def audit(self, end: EndOfRun) -> Gen:
        """Every on-demand backup has settled (no calls)."""
        self._settled(SETTLE_S)
        yield from ()

    def _settled(self, settle_s: float) -> None:
        """Every on-demand backup started ``settle_s`` before the last check must have been
        seen DONE or FAILED through list_results."""
        sink = self.sink
        rule = "on-demand.backup-reaches-final-state"
        last_poll = self.observed.last_poll_now()
        for pid, rec in self.on_demand.items():
            if last_poll is None or rec.start + settle_s > last_poll:
                continue
            if self.ctx.removals.lost(pid):
                continue  # the backup system lost it: UNKNOWN (or None) is its honest answer
            sink.exercise(rule)
            seen = self.observed.results.get(pid)
            done_or_failed = seen is not None and seen.state in (
                ResultState.DONE,
                ResultState.FAILED,
            )
            if seen is None or not seen.final_seen or not done_or_failed:
                state = seen.state.value if seen else "never listed"
                sink.fail(
                    rule,
                    f"on-demand backup {pid} started at {rec.start:.0f} s never reached DONE "
                    f"or FAILED through list_results by the last check ({state})",
                    at=rec.start,
                    calls=[rec],
                    cause=self.ctx.date_cause(pid),
                )
        if not self.on_demand:
            sink.not_exercisable(rule, "no on-demand backup succeeded in this run")

    def probe(self, end: EndOfRun) -> Gen:
        """Restores of an unknown, another VM's, a failed and an expired backup: each must be
        refused with a fitting code and leave nothing behind."""
        listing = end.listing
        if not self.ctx.supported(Operation.EXECUTE_RESTORE, self.ctx.listing_op):
            return
        if listing is None:
            return
        sink = self.sink
        fleet = self.world.fleet
        deployed = self.ctx.deployed_vms()
        if not deployed:
            return
        removals = self.ctx.removals
        target = deployed[-1]
        target_uuid = fleet.uuid(target)
        cases: list[tuple[str, str, set[str]]] = [
            ("an unknown backup id", f"bpcert-no-such-backup-{self.world.seed}", _NOT_FOUND)
        ]
        for r in listing:
            if (
                r.vm_uuid != target_uuid
                and r.state is ResultState.DONE
                and removals.state_at(r.provider_id, end.at) == "live"
            ):
                cases.append(("another VM's backup", r.provider_id, _NOT_RESTORABLE))
                break
        for r in listing:
            if r.state is ResultState.FAILED:
                vm_index = self.ctx.vm_index(r.vm_uuid)
                if vm_index is not None:
                    cases.append(("a failed backup", r.provider_id, _NOT_RESTORABLE))
                    break
        owner_of = {r.provider_id: r.vm_uuid for r in listing}
        # Expired: removed by the backup system, whatever its expiration_date said.
        for pid, seen in sorted(self.observed.results.items()):
            if (
                seen.state is ResultState.DONE
                and removals.state_at(pid, end.at) == "gone"
                and self.ctx.vm_index(seen.vm) is not None
            ):
                cases.append(("an expired backup", pid, _NOT_RESTORABLE))
                owner_of[pid] = seen.vm
                break
        before = {r.provider_id: len(r.restores) for r in listing}
        truth_before = self.world.backup_system.restores_started
        probed = []
        for label, backup_id, fitting in cases:
            owner = target
            if label in ("a failed backup", "an expired backup"):
                owner = self.ctx.vm_index(owner_of[backup_id]) or target
            rec = yield from self.ctx.probe_vm(
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
                down = self.ctx.outages.contains(rec.start)
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
        after = yield from self.ctx.full_listing()
        if after.ok:
            for r in after.result:
                if r.provider_id in probed and len(r.restores) > before.get(r.provider_id, 0):
                    sink.fail(
                        "on-demand.restore-refuses-bad-backup",
                        f"a refused restore of {r.provider_id} still left a restore behind",
                        calls=[after],
                    )
        started = self.world.backup_system.restores_started - truth_before
        if self.observed.uses_fake_backend and started > 0:
            sink.fail(
                "on-demand.restore-refuses-bad-backup",
                f"the backup system started {started} restore(s) for requests that should "
                "have been refused",
            )
