"""A plugin that offers neither on-demand backups nor restores, and declares so: the rules
that need them are skipped for that declaration, never "not exercised", so its check is
conformant, not incomplete."""

from __future__ import annotations

from datetime import datetime
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


class PerIdOnly(ReferencePlugin):
    """An abiquo-6.0 plugin that declares the 4.0.4 listing calls it never implements
    unsupported: 6.0 never calls them, so no rule may be skipped for that declaration."""

    contract_profiles: ClassVar[tuple[str, ...]] = ("abiquo-6.0",)
    unsupported_operations: ClassVar[frozenset[Operation]] = frozenset(
        {Operation.LIST_RESULTS, Operation.GET_EXPIRED_RESULTS}
    )

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Not part of the generation this plugin implements."""
        raise BackupPluginException(BackupPluginError.UNSUPPORTED, "abiquo-6.0 only")

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Not part of the generation this plugin implements."""
        raise BackupPluginException(BackupPluginError.UNSUPPORTED, "abiquo-6.0 only")
