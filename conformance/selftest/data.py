"""Mutants that break the data rules (:mod:`conformance.rules.data`).

Each is the reference plugin with **one** bug of the kind vendors really ship, and names in
its docstring the rule id that should catch it. None of this is an example to follow.
"""

from __future__ import annotations

from simulator.backend.backup_system import BackupRecord
from simulator.contract import (
    BackupPluginError,
    BackupPluginException,
    Connection,
    RestoreResult,
    ResultState,
    VirtualMachineInfo,
)
from simulator.reference import (
    ReferencePlugin,
    _restore_result,
    _session,
    _translated,
)

__all__ = ["MUTANTS", "RestoresLatestBackupPlugin"]


class RestoresLatestBackupPlugin(ReferencePlugin):
    """Bug: execute_restore restores the VM's most recent DONE backup, whatever
    ``backup_id`` asked, and reports the asked id. The disks get the wrong content.

    Rule: ``data.restore-integrity``.
    """

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Restore the latest backup of the VM."""
        session = _session(connection)
        with _translated("executeRestore"):
            record = session.get([backup_id]).get(backup_id)
            if record is None or record.provider_id != backup_id or record.vm_uuid != vm.uuid:
                raise BackupPluginException(
                    BackupPluginError.BACKUP_NOT_FOUND, f"VM {vm.uuid} has no backup {backup_id!r}"
                )
            now = self.now()
            latest: BackupRecord = record
            for other in session.changed_since(None):
                if (
                    other.vm_uuid == vm.uuid
                    and other.state is ResultState.DONE
                    and (other.expiration_date is None or other.expiration_date > now)
                    and other.creation_date > latest.creation_date
                ):
                    latest = other
            restore = session.start_restore(vm.uuid, latest.provider_id)
        return _restore_result(restore).model_copy(update={"backup_provider_id": backup_id})


#: Mutant name -> (plugin class, the rule id it is meant to break).
MUTANTS: dict[str, tuple[type, str]] = {
    "restores-latest-backup": (RestoresLatestBackupPlugin, "data.restore-integrity"),
}
