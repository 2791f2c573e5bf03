"""Mutants that break the schedules rules (:mod:`conformance.rules.schedules`).

Each is the reference plugin with **one** bug of the kind vendors really ship, and names in
its docstring the rule id that should catch it. None of this is an example to follow.
"""

from __future__ import annotations

from datetime import datetime

from conformance.selftest.honest import ListResultsGeneration
from simulator.backend.backup_system import BackupSession
from simulator.contract import (
    BackupConfiguration,
    BackupPluginError,
    BackupResult,
    BackupSchedule,
    Connection,
    Periodicity,
    VirtualMachineInfo,
)
from simulator.reference import (
    ReferencePlugin,
    _session,
    _translated,
)

__all__ = [
    "MUTANTS",
    "AddOnlyNewSchedulePlugin",
    "CounterJobKeyPlugin",
    "HidesUnscheduledVmResultsPlugin",
    "IgnoresOffsetPlugin",
    "NoopRemoveSchedulePlugin",
]


def _as_utc_offset(configuration: BackupConfiguration) -> BackupConfiguration:
    """The configuration with its ``Z`` offset replaced by ``+0000`` (the bug)."""
    time_ = configuration.time
    if time_ is None or configuration.subtype is Periodicity.HOURLY:
        return configuration
    return configuration.model_copy(update={"time": time_[:-5] + "+0000"})


class IgnoresOffsetPlugin(ReferencePlugin):
    """Bug: schedule times are read as UTC, ignoring their offset (``01:30:00 +0100`` runs
    at 01:30 UTC, an hour late).

    Rule: ``schedules.backups-at-scheduled-times``.
    """

    def _converge(
        self, session: BackupSession, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        utc = BackupSchedule(
            policies=tuple(
                p.model_copy(
                    update={"configurations": tuple(_as_utc_offset(c) for c in p.configurations)}
                )
                for p in schedule.policies
            )
        )
        super()._converge(session, vm, utc)


class AddOnlyNewSchedulePlugin(ReferencePlugin):
    """Bug: apply_new_schedule puts the new schedule's jobs but never deletes the jobs of
    removed configurations, which keep firing.

    Rule: ``schedules.new-schedule-replaces-old``.
    """

    def apply_new_schedule(
        self,
        connection: Connection,
        vm: VirtualMachineInfo,
        old_schedule: BackupSchedule,
        new_schedule: BackupSchedule,
    ) -> None:
        """Put every new job; delete nothing."""
        session = _session(connection)
        with _translated("applyNewSchedule", invalid=BackupPluginError.INVALID_SCHEDULE):
            for policy, configuration in new_schedule.configurations():
                session.put_job(vm, policy, configuration)


class NoopRemoveSchedulePlugin(ReferencePlugin):
    """Bug: remove_schedule does nothing, so the VM's jobs keep running after undeploy.

    Rule: ``schedules.removed-schedule-stops``.
    """

    def remove_schedule(self, connection: Connection, vm: VirtualMachineInfo) -> None:
        """Nothing."""
        _session(connection)


class HidesUnscheduledVmResultsPlugin(ListResultsGeneration, ReferencePlugin):
    """Bug: results are listed per job, so once a VM has no job left (undeploy, or a
    reconfiguration without policies) its earlier backups vanish from listings.

    Rule: ``schedules.results-listable-until-expiry``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Drop window results of VMs without jobs (asked ids are still answered)."""
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        session = _session(connection)
        has_jobs: dict[str, bool] = {}
        kept = []
        for r in results:
            if r.provider_id in in_progress_result_provider_ids or not r.vm_uuid:
                kept.append(r)
                continue
            if r.vm_uuid not in has_jobs:
                with _translated("listResults"):
                    has_jobs[r.vm_uuid] = bool(session.jobs(r.vm_uuid))
            if has_jobs[r.vm_uuid]:
                kept.append(r)
        return kept


class CounterJobKeyPlugin(ReferencePlugin):
    """Bug: apply_schedule names each job after the policy code plus the number of jobs the
    VM already has, so a repeated call creates a second set of jobs and duplicate backups.

    Rule: ``schedules.idempotent``.
    """

    def apply_schedule(
        self, connection: Connection, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """Create (never converge) jobs with a counter in their key."""
        session = _session(connection)
        with _translated("applySchedule", invalid=BackupPluginError.INVALID_SCHEDULE):
            n = len(session.jobs(vm.uuid))
            for policy, configuration in schedule.configurations():
                named = policy.model_copy(update={"code": f"{policy.code}-{n}"})
                session.put_job(vm, named, configuration)


#: Mutant name -> (plugin class, the rule id it is meant to break).
MUTANTS: dict[str, tuple[type, str]] = {
    "ignores-offset": (IgnoresOffsetPlugin, "schedules.backups-at-scheduled-times"),
    "add-only-new-schedule": (AddOnlyNewSchedulePlugin, "schedules.new-schedule-replaces-old"),
    "noop-remove-schedule": (NoopRemoveSchedulePlugin, "schedules.removed-schedule-stops"),
    "hides-unscheduled-vm-results": (
        HidesUnscheduledVmResultsPlugin,
        "schedules.results-listable-until-expiry",
    ),
    "counter-job-key": (CounterJobKeyPlugin, "schedules.idempotent"),
}
