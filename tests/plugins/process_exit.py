"""A plugin that ends its process from listResults: what a crash in native code does."""

from __future__ import annotations

import os
from datetime import datetime
from typing import ClassVar

from simulator.contract import BackupResult, BackupSchedule, Connection, VirtualMachineInfo
from simulator.reference import ReferencePlugin


class ExitsInListResults(ReferencePlugin):
    """The reference plugin, except that ``list_results`` ends the process at once."""

    #: list_results is called only under the 4.0.4 profile.
    contract_profiles = ("abiquo-4.0.4",)

    def list_results(
        self,
        connection: object,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """End the process: no exception, no cleanup, as a segfault would."""
        os._exit(70)


#: The property naming the datacenter whose process :class:`ExitsInOneDatacenter` ends.
EXIT_IN_DATACENTER = "test.exit.in.datacenter"


class ExitsInOneDatacenter(ReferencePlugin):
    """The reference plugin, except that it ends its process in one datacenter.

    It does so when asked to apply a schedule to a VM of the datacenter that the
    ``test.exit.in.datacenter`` property names; in every other datacenter it is the
    reference plugin.
    """

    example_properties: ClassVar[dict[str, str]] = {
        **ReferencePlugin.example_properties,
        EXIT_IN_DATACENTER: "",
    }

    def apply_schedule(
        self, connection: Connection, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """End the process in the named datacenter; elsewhere, apply the schedule."""
        if vm.datacenter == self.context.properties.get(EXIT_IN_DATACENTER):
            os._exit(70)
        super().apply_schedule(connection, vm, schedule)
