"""A plugin that refuses a repeated ``apply_schedule``: ``schedules.idempotent`` must catch it.

Like a backend client that creates a job per configuration and treats "already there" as an
error, it raises ``BackupPluginException(INVALID_SCHEDULE, "job already exists")`` when the
VM already has exactly the jobs the schedule asks for.
"""

from __future__ import annotations

from simulator.contract import (
    BackupPluginError,
    BackupPluginException,
    BackupSchedule,
    Connection,
    VirtualMachineInfo,
)
from simulator.reference import ReferencePlugin, _session


class RefusesRepeatedApplyPlugin(ReferencePlugin):
    """The reference, but a repeated apply_schedule is refused instead of changing nothing."""

    def apply_schedule(
        self, connection: Connection, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """Refuse when the VM's jobs are already the schedule's, else as the reference."""
        have = {
            (job.policy_code, job.configuration.type, job.configuration.subtype)
            for job in _session(connection).jobs(vm.uuid)
        }
        want = {(p.code, c.type, c.subtype) for p, c in schedule.configurations()}
        if have and have == want:
            raise BackupPluginException(BackupPluginError.INVALID_SCHEDULE, "job already exists")
        super().apply_schedule(connection, vm, schedule)
