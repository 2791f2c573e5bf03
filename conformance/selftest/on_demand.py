"""Mutants that break the on-demand rules (:mod:`conformance.rules.on_demand`).

Each is the reference plugin with **one** bug of the kind vendors really ship, and names in
its docstring the rule id that should catch it. None of this is an example to follow.
"""

from __future__ import annotations

from conformance.selftest.building import RewritesListing
from simulator.contract import (
    BackupPluginError,
    BackupPluginException,
    BackupResult,
    Connection,
    OnDemandBackupOptions,
    RestoreResult,
    ResultState,
    VirtualMachineInfo,
)
from simulator.reference import (
    ReferencePlugin,
    _restore_result,
    _result,
    _session,
    _translated,
)

__all__ = [
    "MUTANTS",
    "AcceptedTaskAsDonePlugin",
    "IgnoresReplicationPlugin",
    "OnDemandFlagUnsetPlugin",
    "OnDemandStuckPlugin",
    "PreviousRestorePointPlugin",
    "RestoreOntoOwnerPlugin",
    "RestoreReportsBackupIdPlugin",
    "RestoreUnknownAsFailedPlugin",
    "TaskIdPlugin",
]


class OnDemandFlagUnsetPlugin(ReferencePlugin):
    """Bug: execute_backup returns its result with ``on_demand`` false.

    Rule: ``on-demand.backup-result-well-formed``.
    """

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """As the reference, with the flag cleared."""
        result = super().execute_backup(connection, vm, options)
        return result.model_copy(update={"on_demand": False})


class IgnoresReplicationPlugin(ReferencePlugin):
    """Bug: execute_backup silently drops the replication request instead of honouring it
    or raising ``UNSUPPORTED``.

    Rule: ``on-demand.backup-result-well-formed``.
    """

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Always back up without replication."""
        return super().execute_backup(connection, vm, OnDemandBackupOptions(replication=False))


class PreviousRestorePointPlugin(ReferencePlugin):
    """Bug: execute_backup starts the backup, then returns the VM's latest *finished*
    backup (the backend's "last restore point" call) rather than the one just started.

    Rule: ``on-demand.backup-result-well-formed``.
    """

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Start a backup; report the last finished one if there is one."""
        started = super().execute_backup(connection, vm, options)
        session = _session(connection)
        with _translated("executeBackup"):
            finished = [
                r for r in session.changed_since(None) if r.vm_uuid == vm.uuid and r.state.is_final
            ]
        if not finished:
            return started
        latest = max(finished, key=lambda r: (r.creation_date, r.provider_id))
        return _result(latest)


def _stuck(r: BackupResult) -> BackupResult:
    return r.model_copy(
        update={
            "state": ResultState.IN_PROGRESS,
            "finish_date": None,
            "expiration_date": None,
            "size_bytes": 0,
            "message": None,
        }
    )


class OnDemandStuckPlugin(RewritesListing):
    """Bug: the state mapping only knows the scheduled jobs' final states; an on-demand
    backup is reported IN_PROGRESS forever.

    Rule: ``on-demand.backup-reaches-final-state``.
    """

    def _rewrite(self, results: list[BackupResult]) -> list[BackupResult]:
        """On-demand results stay IN_PROGRESS."""
        return [_stuck(r) if r.on_demand else r for r in results]


class TaskIdPlugin(ReferencePlugin):
    """Bug: execute_backup returns the backend's *task* id (``task-<backup id>``), which
    list_results never uses: the platform can only ever learn it is UNKNOWN.

    Rule: ``on-demand.backup-reaches-final-state``.
    """

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """As the reference, with a task id."""
        result = super().execute_backup(connection, vm, options)
        return result.model_copy(update={"provider_id": f"task-{result.provider_id}"})


class AcceptedTaskAsDonePlugin(ReferencePlugin):
    """Bug: execute_backup reports the backend's *task* (``task-<backup id>``) as DONE as
    soon as the job is accepted; the real backup is never tied to what the platform holds.

    Rule: ``on-demand.backup-reaches-final-state``.
    """

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Report the accepted task as a finished backup."""
        result = super().execute_backup(connection, vm, options)
        return result.model_copy(
            update={
                "provider_id": f"task-{result.provider_id}",
                "state": ResultState.DONE,
                "finish_date": result.creation_date,
            }
        )


class RestoreReportsBackupIdPlugin(ReferencePlugin):
    """Bug: execute_restore reports the backup's id as the restore's provider id.

    Rule: ``on-demand.restore-points-at-backup``.
    """

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """As the reference, with the wrong id."""
        restore = super().execute_restore(connection, vm, backup_id)
        return restore.model_copy(update={"provider_id": backup_id})


class RestoreOntoOwnerPlugin(ReferencePlugin):
    """Bug: no ownership check, and the restore goes to the VM that owns the backup: a
    restore of another VM's backup "succeeds" (and overwrites that other VM).

    Rule: ``on-demand.restore-refuses-bad-backup``.
    """

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Restore the backup onto its own VM, whichever VM was asked."""
        session = _session(connection)
        with _translated("executeRestore"):
            record = session.get([backup_id]).get(backup_id)
            if record is None or record.provider_id != backup_id:
                raise BackupPluginException(
                    BackupPluginError.BACKUP_NOT_FOUND, f"no backup {backup_id!r}"
                )
            return _restore_result(session.start_restore(record.vm_uuid, backup_id))


class RestoreUnknownAsFailedPlugin(ReferencePlugin):
    """Bug: a restore the backend refuses is reported as a FAILED restore result instead
    of raising ``BackupPluginException``.

    Rule: ``on-demand.restore-refuses-bad-backup``.
    """

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Turn a refusal into a FAILED result."""
        try:
            return super().execute_restore(connection, vm, backup_id)
        except BackupPluginException as error:
            now = self.now()
            return RestoreResult(
                provider_id=f"rs-refused-{backup_id}",
                backup_provider_id=backup_id,
                state=ResultState.FAILED,
                creation_date=now,
                finish_date=now,
                message=error.message,
            )


#: Mutant name -> (plugin class, the rule id it is meant to break).
MUTANTS: dict[str, tuple[type, str]] = {
    "on-demand-flag-unset": (OnDemandFlagUnsetPlugin, "on-demand.backup-result-well-formed"),
    "ignores-replication": (IgnoresReplicationPlugin, "on-demand.backup-result-well-formed"),
    "previous-restore-point": (PreviousRestorePointPlugin, "on-demand.backup-result-well-formed"),
    "on-demand-stuck": (OnDemandStuckPlugin, "on-demand.backup-reaches-final-state"),
    "accepted-task-as-done": (AcceptedTaskAsDonePlugin, "on-demand.backup-reaches-final-state"),
    "task-id": (TaskIdPlugin, "on-demand.backup-reaches-final-state"),
    "restore-reports-backup-id": (
        RestoreReportsBackupIdPlugin,
        "on-demand.restore-points-at-backup",
    ),
    "restore-onto-owner": (RestoreOntoOwnerPlugin, "on-demand.restore-refuses-bad-backup"),
    "restore-unknown-as-failed": (
        RestoreUnknownAsFailedPlugin,
        "on-demand.restore-refuses-bad-backup",
    ),
}
