"""A plugin shaped like Abiquo's Veeam plugin (contract.md §4a), correct by the docs.

- one backup job per VM: it declares ``max_policies_per_vm = 1``;
- complete backups of every disk, never a DEFINED_HOUR: it declares the types and
  periodicities, and backs up all disks whatever the configuration's sources say;
- retention by restore-point count, so no expiration date is known when a backup is
  taken: every result it reports carries ``expiration_date=None``, and the backup system
  alone decides when a restore point goes;
- listings carry finished backups only: an IN_PROGRESS backup is reported only as the
  answer to an asked in-progress id (and by ``execute_backup``);
- no replication: it declares ``supports_replication = False``.

The harness must judge it conformant.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from simulator.backend.backup_system import BackupSession
from simulator.contract import (
    ALL_PERIODICITIES,
    BackupResult,
    BackupSchedule,
    BackupType,
    Connection,
    OnDemandBackupOptions,
    Periodicity,
    PluginMetadata,
    VirtualMachineInfo,
)
from simulator.reference import ReferencePlugin


def _undated(result: BackupResult) -> BackupResult:
    return result.model_copy(update={"expiration_date": None})


class VeeamLikePlugin(ReferencePlugin):
    """One job per VM, complete backups of all disks, count retention, finished-only lists."""

    metadata: ClassVar[PluginMetadata] = PluginMetadata(
        type="veeam-like",
        friendly_name="A Veeam-shaped plugin",
        version="1.0.0",
        supported_versions=("10", "11", "12"),
    )
    max_policies_per_vm: ClassVar[int | None] = 1
    supports_replication: ClassVar[bool] = False
    supported_backup_types: ClassVar[frozenset[BackupType]] = frozenset({BackupType.COMPLETE})
    supported_periodicities: ClassVar[frozenset[Periodicity]] = ALL_PERIODICITIES - {
        Periodicity.DEFINED_HOUR
    }

    def _converge(
        self, session: BackupSession, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """Every job backs up all the VM's disks: Veeam takes the whole VM."""
        whole = BackupSchedule(
            policies=tuple(
                policy.model_copy(
                    update={
                        "configurations": tuple(
                            c.model_copy(update={"sources": ()}) for c in policy.configurations
                        )
                    }
                )
                for policy in schedule.policies
            )
        )
        super()._converge(session, vm, whole)

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """The reference's backup, reported without an expiration date."""
        return _undated(super().execute_backup(connection, vm, options))

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Finished backups in the window, and the current state of every asked id."""
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        asked = in_progress_result_provider_ids
        return [
            _undated(r)
            for r in results
            if r.state.is_final
            or r.provider_id in asked
            or any(rs.provider_id in asked for rs in r.restores)
        ]
