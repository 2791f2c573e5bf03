"""Plugins that keep backups for a retention of their own (5 or 20 days), set on each job
as a vendor's plugin sets retention on the jobs it creates, whatever the scenario's
policies say.

- :class:`OwnRetention5Days` and :class:`OwnRetention20Days` report expiry correctly:
  conformant once the run lasts long enough for their backups to expire.
- :class:`NeverReportsExpiry5Days` and :class:`NeverReportsExpiry20Days` never report an
  expiry: the platform keeps billing removed backups. Non-conformant, and only a run
  longer than their retention can tell (a 2-day run leaves them a blind spot).
- :class:`ReportsLiveExpired` reports every asked id expired, live backups too.
"""

from __future__ import annotations

from typing import ClassVar

from simulator.backend.backup_system import BackupSession
from simulator.contract import BackupSchedule, Connection, VirtualMachineInfo
from simulator.reference import ReferencePlugin

_DAY_S = 86400.0


class OwnRetention5Days(ReferencePlugin):
    """Every job keeps its backups for ``retention_days``, the plugin's own setting."""

    retention_days: ClassVar[float] = 5.0

    def _converge(
        self, session: BackupSession, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """The reference's jobs, each with the plugin's retention."""
        wanted = {(p.code, c.type, c.subtype) for p, c in schedule.configurations()}
        for policy, configuration in schedule.configurations():
            session.put_job(vm, policy, configuration, retention_s=self.retention_days * _DAY_S)
        for job in session.jobs(vm.uuid):
            key = (job.policy_code, job.configuration.type, job.configuration.subtype)
            if key not in wanted:
                session.delete_job(vm.uuid, *key)


class OwnRetention20Days(OwnRetention5Days):
    """The same with 20 days."""

    retention_days: ClassVar[float] = 20.0


class NeverReportsExpiry5Days(OwnRetention5Days):
    """Bug: get_expired_results always answers that nothing expired."""

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Nothing, ever."""
        return []


class NeverReportsExpiry20Days(OwnRetention20Days):
    """Bug: the same with 20 days."""

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Nothing, ever."""
        return []


class ReportsLiveExpired(ReferencePlugin):
    """Bug: every id asked about is reported expired, live backups included."""

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Everything asked, once each."""
        return list(dict.fromkeys(provider_ids))


class OwnRetention40Days(OwnRetention5Days):
    """Correct, with a retention longer than any built-in scenario: its backups never
    expire within a run, so the expiry rules cannot be exercised unless the vendor lowers
    the retention for the run."""

    retention_days: ClassVar[float] = 40.0
