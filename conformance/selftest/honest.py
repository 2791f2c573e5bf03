"""Honest plugins the mutants build on; each must pass every rule it exercises.

:class:`CachedLoginPlugin` is the reference with a connection that verifies credentials once
per endpoint and user, then opens its backend session on first use, so that during an
outage ``connect`` succeeds and the operation itself meets the failure. The mutants that
need the backup system to fail *inside* an operation build on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from simulator.backend import backup_system
from simulator.backend.backup_system import BackupSession, BackupSystemError
from simulator.contract import (
    BackupPluginError,
    BackupPluginException,
    BackupResult,
    BackupSchedule,
    Connection,
    ConnectionData,
    OnDemandBackupOptions,
    PluginConnectionError,
    RestoreResult,
    VirtualMachineInfo,
)
from simulator.reference import (
    ReferenceConnection,
    ReferencePlugin,
)

__all__ = ["CachedLoginConnection", "CachedLoginPlugin", "ListResultsGeneration"]


class ListResultsGeneration:
    """Mixed into a mutant whose bug lives in ``list_results`` or ``get_expired_results``:
    those exist only in ``abiquo-4.0.4``, so the mutant declares that profile alone and is
    judged where its bug is called."""

    contract_profiles: ClassVar[tuple[str, ...]] = ("abiquo-4.0.4",)


class CachedLoginConnection(ReferenceConnection):
    """A connection that verifies credentials once per endpoint and user, then logs in lazily.

    The first ``connect`` with some credentials opens a session (so wrong credentials and
    unreachable endpoints fail with :class:`PluginConnectionError` as they must). Later
    connects with the same, already verified credentials open nothing: the session is
    opened on first use, where a backend failure becomes ``BACKEND``. The cache is keyed
    by the whole triple, endpoint included, so worlds never share it.
    """

    _verified: ClassVar[set[tuple[str, str, str]]] = set()

    def __init__(self) -> None:
        super().__init__()
        self._data: ConnectionData | None = None

    def connect(self, data: ConnectionData) -> None:
        """Verify unknown credentials now; remember the data for a lazy login."""
        if not data.endpoint:
            raise PluginConnectionError("the backup manager has no endpoint; it is mandatory")
        if data.user is None or data.password is None:
            raise PluginConnectionError("the backup manager has no credentials; they are mandatory")
        self.disconnect()
        key = (data.endpoint, data.user, data.password.get_secret_value())
        self._data = data
        if key in self._verified:
            return
        super().connect(data)
        self._verified.add(key)

    def open(self) -> BackupSession:
        """The session, opened now if ``connect`` did not; a failure is ``BACKEND``."""
        if self.session is None:
            data = self._data
            if data is None or data.password is None:
                raise BackupPluginException(BackupPluginError.CONNECTION, "not connected")
            try:
                self.session = backup_system.connect(
                    data.endpoint, data.user, data.password.get_secret_value()
                )
            except BackupSystemError as error:
                raise BackupPluginException(
                    BackupPluginError.BACKEND, f"cannot open a session: {error.message}"
                ) from error
        return self.session


class _CachedLoginMixin:
    """Open the lazy session before the reference's operation looks for it."""

    @staticmethod
    def _open(connection: Connection) -> None:
        if isinstance(connection, CachedLoginConnection):
            connection.open()


class CachedLoginPlugin(_CachedLoginMixin, ReferencePlugin):
    """The reference plugin with :class:`CachedLoginConnection`. Honest: it should pass.

    It exists so that the rules about a backup system failing *inside* an operation
    (``errors.backend-failure-raises``, ``polling.failure-raises``) can be exercised:
    with the reference's eager login, ``connect`` already fails during an outage.
    """

    def new_connection(self) -> CachedLoginConnection:
        """A lazy connection."""
        return CachedLoginConnection()

    def apply_schedule(
        self, connection: Connection, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """Log in, then as the reference."""
        self._open(connection)
        super().apply_schedule(connection, vm, schedule)

    def apply_new_schedule(
        self,
        connection: Connection,
        vm: VirtualMachineInfo,
        old_schedule: BackupSchedule,
        new_schedule: BackupSchedule,
    ) -> None:
        """Log in, then as the reference."""
        self._open(connection)
        super().apply_new_schedule(connection, vm, old_schedule, new_schedule)

    def remove_schedule(self, connection: Connection, vm: VirtualMachineInfo) -> None:
        """Log in, then as the reference."""
        self._open(connection)
        super().remove_schedule(connection, vm)

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Log in, then as the reference."""
        self._open(connection)
        return super().execute_backup(connection, vm, options)

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Log in, then as the reference."""
        self._open(connection)
        return super().execute_restore(connection, vm, backup_id)

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Log in, then as the reference."""
        self._open(connection)
        return super().list_results(connection, last_check_date, in_progress_result_provider_ids)

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Log in, then as the reference."""
        self._open(connection)
        return super().get_expired_results(connection, provider_ids)

    def list_new_backup_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[BackupResult]:
        """Log in, then as the reference."""
        self._open(connection)
        return super().list_new_backup_results(connection, start_date)

    def list_new_restore_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[RestoreResult]:
        """Log in, then as the reference."""
        self._open(connection)
        return super().list_new_restore_results(connection, start_date)

    def get_backup_result(self, connection: Connection, backup_id: str) -> BackupResult | None:
        """Log in, then as the reference."""
        self._open(connection)
        return super().get_backup_result(connection, backup_id)

    def get_restore_result(self, connection: Connection, restore_id: str) -> RestoreResult | None:
        """Log in, then as the reference."""
        self._open(connection)
        return super().get_restore_result(connection, restore_id)

    def is_backup_expired(self, connection: Connection, backup_id: str) -> bool:
        """Log in, then as the reference."""
        self._open(connection)
        return super().is_backup_expired(connection, backup_id)

    def list_virtual_machines_in_backup_policy(
        self, connection: Connection, policy_code: str
    ) -> frozenset[str]:
        """Log in, then as the reference."""
        self._open(connection)
        return super().list_virtual_machines_in_backup_policy(connection, policy_code)
