"""Mutants that break the errors (and protocol) rules (:mod:`conformance.rules.errors`).

Each is the reference plugin with **one** bug of the kind vendors really ship, and names in
its docstring the rule id that should catch it. None of this is an example to follow.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import ClassVar

from conformance.selftest.building import swallowed
from conformance.selftest.honest import CachedLoginPlugin, ListResultsGeneration
from simulator.contract import (
    BackupPluginError,
    BackupPluginException,
    BackupResult,
    BackupSchedule,
    BackupType,
    Connection,
    OnDemandBackupOptions,
    Operation,
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

__all__ = [
    "MUTANTS",
    "NO_MUTANT",
    "BackupReturnsDictPlugin",
    "BackupReturnsNonePlugin",
    "ExpiredReturnsSetPlugin",
    "FailedResultOnOutagePlugin",
    "NotFoundAsBackendPlugin",
    "NotFoundAsVmNotFoundPlugin",
    "RestoreKeyErrorPlugin",
    "SwallowScheduleFailurePlugin",
    "TimeRequiredPlugin",
    "UndeclaredFilesystemPlugin",
    "UnsupportedRaisesBackendPlugin",
    "UntranslatedBackendErrorPlugin",
    "WaitsForUnindexedIdPlugin",
]


class _RefusesSomeSchedulesPlugin(ReferencePlugin):
    """The reference, but both schedule calls first refuse what :meth:`_refuse` names."""

    def _refuse(self, schedule: BackupSchedule) -> None:
        """Raise for a schedule this mutant refuses."""
        raise NotImplementedError

    def apply_schedule(
        self, connection: Connection, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """Refuse, then apply as the reference does."""
        self._refuse(schedule)
        super().apply_schedule(connection, vm, schedule)

    def apply_new_schedule(
        self,
        connection: Connection,
        vm: VirtualMachineInfo,
        old_schedule: BackupSchedule,
        new_schedule: BackupSchedule,
    ) -> None:
        """Refuse the new schedule, then apply it as the reference does."""
        self._refuse(new_schedule)
        super().apply_new_schedule(connection, vm, old_schedule, new_schedule)


class TimeRequiredPlugin(_RefusesSomeSchedulesPlugin):
    """Bug: a configuration without ``time`` (left to the backup system, which the contract
    allows) is refused with ``INVALID_SCHEDULE``, so deploys with such a policy fail.

    Rule: ``errors.healthy-backend-succeeds``.
    """

    def _refuse(self, schedule: BackupSchedule) -> None:
        """Refuse configurations without time."""
        _refuse_timeless(schedule)


def _refuse_timeless(schedule: BackupSchedule) -> None:
    for policy, configuration in schedule.configurations():
        if configuration.time is None:
            raise BackupPluginException(
                BackupPluginError.INVALID_SCHEDULE,
                f"policy {policy.code}: {configuration.subtype.value} needs a time",
            )


class RestoreKeyErrorPlugin(ReferencePlugin):
    """Bug: execute_restore looks the backup up with ``[]``, so an unknown id raises
    ``KeyError``.

    Rule: ``errors.only-backup-plugin-exception``.
    """

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Look up with indexing."""
        session = _session(connection)
        with _translated("executeRestore"):
            record = session.get([backup_id])[backup_id]
        if record.vm_uuid != vm.uuid:
            raise BackupPluginException(BackupPluginError.BACKUP_NOT_FOUND, "another VM's backup")
        return super().execute_restore(connection, vm, backup_id)


class UntranslatedBackendErrorPlugin(ReferencePlugin):
    """Bug: execute_restore lets the backend client's own exception escape
    (``BackupSystemError``) instead of translating it.

    Rule: ``errors.only-backup-plugin-exception``.
    """

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Start the restore straight away, untranslated."""
        return _restore_result(_session(connection).start_restore(vm.uuid, backup_id))


class _NotFoundAsPlugin(ReferencePlugin):
    """The reference, but execute_restore raises :attr:`not_found_code` where ``BACKUP_NOT_FOUND``
    fits."""

    #: The code an unknown backup id is reported with (the bug).
    not_found_code: ClassVar[BackupPluginError]

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """As the reference, with the wrong code."""
        try:
            return super().execute_restore(connection, vm, backup_id)
        except BackupPluginException as error:
            if error.error is BackupPluginError.BACKUP_NOT_FOUND:
                raise BackupPluginException(self.not_found_code, error.message) from error
            raise


class NotFoundAsVmNotFoundPlugin(_NotFoundAsPlugin):
    """Bug: every "not found" from the backend becomes ``VM_NOT_FOUND``, also an unknown
    backup id in execute_restore.

    Rule: ``errors.fitting-error-code``.
    """

    not_found_code = BackupPluginError.VM_NOT_FOUND


class NotFoundAsBackendPlugin(_NotFoundAsPlugin):
    """Bug: execute_restore raises ``BACKEND`` for an unknown backup id, where
    ``BACKUP_NOT_FOUND`` fits.

    Rule: ``errors.fitting-error-code``.
    """

    not_found_code = BackupPluginError.BACKEND


class BackupReturnsDictPlugin(ReferencePlugin):
    """Bug: execute_backup returns the result as a ``dict`` (its JSON form).

    Rule: ``errors.well-typed-returns``.
    """

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Return a dict."""
        result = super().execute_backup(connection, vm, options)
        return result.model_dump(mode="json")  # type: ignore[return-value]


class BackupReturnsNonePlugin(ReferencePlugin):
    """Bug: execute_backup starts the backup and forgets to return its result.

    Rule: ``errors.well-typed-returns``.
    """

    def execute_backup(  # type: ignore[return]
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Return nothing."""
        super().execute_backup(connection, vm, options)


class ExpiredReturnsSetPlugin(ListResultsGeneration, ReferencePlugin):
    """Bug: get_expired_results returns a ``set`` instead of a list.

    Rule: ``errors.well-typed-returns``.
    """

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Return a set."""
        return set(super().get_expired_results(connection, provider_ids))  # type: ignore[return-value]


class UnsupportedRaisesBackendPlugin(ReferencePlugin):
    """Bug: EXECUTE_RESTORE is declared unsupported, but execute_restore raises ``BACKEND``
    instead of ``UNSUPPORTED``.

    Rule: ``errors.unsupported-raises-unsupported``.
    """

    unsupported_operations: ClassVar[frozenset[Operation]] = frozenset({Operation.EXECUTE_RESTORE})

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Raise the wrong code."""
        raise BackupPluginException(BackupPluginError.BACKEND, "restores are not available")


class UndeclaredFilesystemPlugin(_RefusesSomeSchedulesPlugin):
    """Bug: FILESYSTEM configurations are refused with ``UNSUPPORTED``, but the plugin does
    not declare it (``supported_backup_types`` still lists every type).

    Rule: ``errors.unsupported-raises-unsupported``.
    """

    def _refuse(self, schedule: BackupSchedule) -> None:
        """Refuse FILESYSTEM."""
        _refuse_filesystem(schedule)


def _refuse_filesystem(schedule: BackupSchedule) -> None:
    for _, configuration in schedule.configurations():
        if configuration.type is BackupType.FILESYSTEM:
            raise BackupPluginException(
                BackupPluginError.UNSUPPORTED, "FILESYSTEM backups are not supported"
            )


class SwallowScheduleFailurePlugin(CachedLoginPlugin):
    """Bug: schedule calls are "best effort": a backend failure is swallowed, so the
    platform believes a reconfiguration took effect while the backup system was down.

    Rule: ``errors.backend-failure-raises``.
    """

    def apply_schedule(
        self, connection: Connection, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """Swallow a BACKEND failure."""
        with swallowed(BackupPluginError.BACKEND):
            super().apply_schedule(connection, vm, schedule)

    def apply_new_schedule(
        self,
        connection: Connection,
        vm: VirtualMachineInfo,
        old_schedule: BackupSchedule,
        new_schedule: BackupSchedule,
    ) -> None:
        """Swallow a BACKEND failure."""
        with swallowed(BackupPluginError.BACKEND):
            super().apply_new_schedule(connection, vm, old_schedule, new_schedule)

    def remove_schedule(self, connection: Connection, vm: VirtualMachineInfo) -> None:
        """Swallow a BACKEND failure."""
        with swallowed(BackupPluginError.BACKEND):
            super().remove_schedule(connection, vm)


class FailedResultOnOutagePlugin(CachedLoginPlugin):
    """Bug: when the backup system refuses an on-demand backup, execute_backup reports a
    FAILED backup result instead of raising, so the platform thinks a backup was taken.

    Rule: ``errors.backend-failure-raises``.
    """

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Turn a BACKEND failure into a FAILED result."""
        try:
            return super().execute_backup(connection, vm, options)
        except BackupPluginException as error:
            if error.error is not BackupPluginError.BACKEND:
                raise
            now = self.now()
            return BackupResult(
                provider_id=f"failed-{vm.uuid}-{now.timestamp():.0f}",
                vm_uuid=vm.uuid,
                name=f"{vm.name}-on-demand",
                type=BackupType.COMPLETE,
                state=ResultState.FAILED,
                creation_date=now,
                finish_date=now,
                replication=options.replication,
                on_demand=True,
                message=error.message,
            )


class WaitsForUnindexedIdPlugin(ListResultsGeneration, ReferencePlugin):
    """Bug: an asked id the backup system does not know is assumed to be a job not yet
    indexed, and list_results waits (in wall time) for it to appear; it never does.

    Rule: ``errors.returns-within-deadline``.
    """

    #: How long the plugin waits for an id, in wall seconds, before giving up.
    wait_s: ClassVar[float] = 30.0

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Wait until every asked id is known to the backend."""
        session = _session(connection)
        asked = sorted(in_progress_result_provider_ids)
        deadline = time.monotonic() + self.wait_s
        with _translated("listResults"):
            while len(session.get(asked)) < len(asked) and time.monotonic() < deadline:
                time.sleep(0.05)
        return super().list_results(connection, last_check_date, in_progress_result_provider_ids)


#: Mutant name -> (plugin class, the rule id it is meant to break).
MUTANTS: dict[str, tuple[type, str]] = {
    "restore-key-error": (RestoreKeyErrorPlugin, "errors.only-backup-plugin-exception"),
    "untranslated-backend-error": (
        UntranslatedBackendErrorPlugin,
        "errors.only-backup-plugin-exception",
    ),
    "not-found-as-vm-not-found": (NotFoundAsVmNotFoundPlugin, "errors.fitting-error-code"),
    "not-found-as-backend": (NotFoundAsBackendPlugin, "errors.fitting-error-code"),
    "backup-returns-dict": (BackupReturnsDictPlugin, "errors.well-typed-returns"),
    "backup-returns-none": (BackupReturnsNonePlugin, "errors.well-typed-returns"),
    "expired-returns-set": (ExpiredReturnsSetPlugin, "errors.well-typed-returns"),
    "unsupported-raises-backend": (
        UnsupportedRaisesBackendPlugin,
        "errors.unsupported-raises-unsupported",
    ),
    "undeclared-filesystem": (UndeclaredFilesystemPlugin, "errors.unsupported-raises-unsupported"),
    "swallow-schedule-failure": (SwallowScheduleFailurePlugin, "errors.backend-failure-raises"),
    "failed-result-on-outage": (FailedResultOnOutagePlugin, "errors.backend-failure-raises"),
    "time-required": (TimeRequiredPlugin, "errors.healthy-backend-succeeds"),
    "waits-for-unindexed-id": (WaitsForUnindexedIdPlugin, "errors.returns-within-deadline"),
}

#: Rules of this capability no in-process mutant breaks through the built-in scenarios.
NO_MUTANT: dict[str, tuple[None, str]] = {
    "errors.no-crash": (
        None,
        "applies only to out-of-process plugins; covered by the process-plugin self-tests",
    ),
    "protocol.stdout-clean": (
        None,
        "applies only to out-of-process plugins; covered by the process-plugin self-tests",
    ),
}
