"""A plugin that offers neither on-demand backups nor restores, and declares so: the rules
that need them are skipped for that declaration, never "not exercised", so its check is
conformant, not incomplete."""

from __future__ import annotations

from typing import ClassVar

from simulator.contract import (
    BackupPluginError,
    BackupPluginException,
    BackupResult,
    Connection,
    OnDemandBackupOptions,
    Operation,
    RestoreResult,
    VirtualMachineInfo,
)
from simulator.reference import ReferencePlugin


class NoOnDemandNoRestore(ReferencePlugin):
    """Scheduled backups only: executeBackup and executeRestore declared unsupported."""

    unsupported_operations: ClassVar[frozenset[Operation]] = frozenset(
        {Operation.EXECUTE_BACKUP, Operation.EXECUTE_RESTORE}
    )

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Not offered."""
        raise BackupPluginException(BackupPluginError.UNSUPPORTED, "no on-demand backups")

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Not offered."""
        raise BackupPluginException(BackupPluginError.UNSUPPORTED, "no restores")
