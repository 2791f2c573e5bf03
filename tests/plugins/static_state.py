"""A plugin whose on-demand results live in a module-level dict (a Java static field).

In one Python process the three components would share that dict and the bug would hide;
Abiquo's components are separate JVMs, so the CPP never sees what the VF stored.
"""

from __future__ import annotations

from datetime import datetime

from simulator.contract import (
    BackupResult,
    Connection,
    OnDemandBackupOptions,
    ResultState,
    VirtualMachineInfo,
)
from simulator.reference import ReferencePlugin

_ON_DEMAND: dict[str, BackupResult] = {}


class StaticOnDemand(ReferencePlugin):
    """Keeps on-demand results in static memory and lists them from there."""

    # Its static state shows in list_results, which only the 4.0.4 profile calls.
    contract_profiles = ("abiquo-4.0.4",)

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        result = super().execute_backup(connection, vm, options)
        _ON_DEMAND[result.provider_id] = result
        return result

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        listed = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        scheduled = [r for r in listed if not r.on_demand]
        cached = [
            r.model_copy(update={"state": ResultState.DONE, "finish_date": self.now()})
            for r in _ON_DEMAND.values()
        ]
        return scheduled + cached
