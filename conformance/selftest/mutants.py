"""Deliberately broken plugins: the conformance harness's self-test.

Each mutant is the reference plugin with **one** bug of the kind vendors really ship,
and names in its docstring the rule id that should catch it. :data:`MUTANTS` maps a
kebab-case mutant name to ``(class, intended rule id)``; ``tests/test_selftest.py``
runs every mutant through the default scenarios and expects its rule to fail, and
``docs/mutants.md`` lists them. Run one by hand::

    bpcert check --plugin conformance.selftest.mutants:SessionLeakPlugin   # exits 1 naming the rule

Rules that no in-process mutant can break through the built-in scenarios are listed in
:data:`NO_MUTANT` with the reason.

A few mutants need the backup system to fail *inside* an operation rather than in
``connect``. They build on :class:`CachedLoginPlugin`, an honest variant of the
reference whose connection remembers credentials it has already verified and opens
its backend session on first use, so that during an outage ``connect`` succeeds and the
operation itself meets the failure.

None of this is an example to follow. The bugs are written plainly on purpose.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

from pydantic import SecretStr

from simulator.backend import backup_system
from simulator.backend.backup_system import BackupRecord, BackupSession, BackupSystemError
from simulator.contract import (
    BackupConfiguration,
    BackupPluginError,
    BackupPluginException,
    BackupResult,
    BackupSchedule,
    BackupType,
    ConfigurationError,
    Connection,
    ConnectionData,
    ConnectionMetadata,
    OnDemandBackupOptions,
    Operation,
    Periodicity,
    PluginConnectionError,
    PluginMetadata,
    RestoreResult,
    ResultState,
    VirtualMachineInfo,
)
from simulator.reference import (
    REPLICATION_PROPERTY,
    TIMEOUT_PROPERTY,
    UNKNOWN_MESSAGE,
    ReferenceConnection,
    ReferencePlugin,
    _restore_result,
    _result,
    _session,
    _translated,
)

__all__ = [
    "MUTANTS",
    "NO_MUTANT",
    "CachedLoginConnection",
    "CachedLoginPlugin",
]

_REF_META = ReferencePlugin.metadata


def _unknown(provider_id: str, now: datetime) -> BackupResult:
    """The reference's placeholder for an id the backup system does not know."""
    return BackupResult(
        provider_id=provider_id,
        vm_uuid="",
        name=provider_id,
        type=BackupType.COMPLETE,
        state=ResultState.UNKNOWN,
        creation_date=now,
        message=UNKNOWN_MESSAGE,
    )


# ============================================================ an honest lazy variant


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


# ===================================================================== startup


class UpperCaseTypePlugin(ReferencePlugin):
    """Bug: the metadata type is ``"Reference"``, not a lower-case token.

    Rule: ``startup.metadata-well-formed``.
    """

    metadata: ClassVar[PluginMetadata] = _REF_META.model_copy(update={"type": "Reference"})


class NoSupportedVersionsPlugin(ReferencePlugin):
    """Bug: the metadata lists no supported Abiquo version.

    Rule: ``startup.metadata-well-formed``.
    """

    metadata: ClassVar[PluginMetadata] = _REF_META.model_copy(update={"supported_versions": ()})


class UndocumentedPropertyPlugin(ReferencePlugin):
    """Bug: validation requires a licence key that the plugin's own example properties lack,
    so the plugin never loads with its documented configuration.

    Rule: ``startup.validate-passes-with-complete-properties``.
    """

    def validate_configuration(self) -> None:
        """Also demand ``reference.license.key``."""
        super().validate_configuration()
        if not self.context.properties.get("reference.license.key"):
            raise ConfigurationError("reference.license.key is missing")


class KeyErrorValidatePlugin(ReferencePlugin):
    """Bug: validation indexes and converts properties directly, so a missing one raises
    ``KeyError`` and a malformed one ``ValueError`` instead of ``ConfigurationError``.

    Rule: ``startup.validate-raises-configuration-error``.
    """

    def validate_configuration(self) -> None:
        """Read the properties the quick way."""
        if int(self.context.properties[TIMEOUT_PROPERTY]) <= 0:
            raise ConfigurationError(f"{TIMEOUT_PROPERTY} must be positive")
        if self.context.properties[REPLICATION_PROPERTY] not in ("true", "false"):
            raise ConfigurationError(f"{REPLICATION_PROPERTY} must be true or false")


class LaxValidatePlugin(ReferencePlugin):
    """Bug: validation checks only the timeout; list_results reads the replication setting
    later and fails there (``BACKEND``) when it is missing or invalid.

    Rule: ``startup.validate-detects-missing-properties``.
    """

    def validate_configuration(self) -> None:
        """Check the timeout only."""
        timeout = self.context.properties.get(TIMEOUT_PROPERTY, "")
        if not timeout.strip().isdigit():
            raise ConfigurationError(f"{TIMEOUT_PROPERTY} must be a positive whole number")

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Read every setting first (the replication one is only checked here)."""
        self._settings()
        return super().list_results(connection, last_check_date, in_progress_result_provider_ids)


class ForgottenConnectionMetadataPlugin(ReferencePlugin):
    """Bug: the connection metadata annotation was left out (everything NO_APPLICABLE), so
    the platform passes no endpoint or credentials and every connect fails.

    Rule: ``startup.connection-constraints-honoured``.
    """

    connection_metadata: ClassVar[ConnectionMetadata] = ConnectionMetadata()


class _DefaultAccountConnection(ReferenceConnection):
    def connect(self, data: ConnectionData) -> None:
        if data.user is None or data.password is None:
            data = data.model_copy(update={"user": "admin", "password": SecretStr("secret")})
        super().connect(data)


class DefaultAccountPlugin(ReferencePlugin):
    """Bug: credentials are MANDATORY, but connect quietly falls back to a built-in
    ``admin`` account when the backup manager has none.

    Rule: ``startup.connection-constraints-honoured``.
    """

    def new_connection(self) -> ReferenceConnection:
        """A connection with a default account."""
        return _DefaultAccountConnection()


class CachedFirstListingPlugin(ReferencePlugin):
    """Bug: the first full listing is cached in instance memory and served for every later
    full listing, so a long-lived instance and a fresh one disagree.

    Rule: ``startup.instances-isolated``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Serve full listings from the instance's cache."""
        if last_check_date is None and not in_progress_result_provider_ids:
            cached: list[BackupResult] | None = getattr(self, "_full_listing", None)
            if cached is None:
                cached = super().list_results(connection, None, frozenset())
                self._full_listing = cached
            return list(cached)
        return super().list_results(connection, last_check_date, in_progress_result_provider_ids)


# ================================================================= connections


class _LeakyConnection(ReferenceConnection):
    def disconnect(self) -> None:
        self.session = None  # dropped, never closed on the server


class SessionLeakPlugin(ReferencePlugin):
    """Bug: disconnect forgets the session without closing it on the backup server.

    Rule: ``connections.closed-after-use``.
    """

    def new_connection(self) -> ReferenceConnection:
        """A leaky connection."""
        return _LeakyConnection()


class _LogoutConnection(ReferenceConnection):
    def disconnect(self) -> None:
        session = self.session
        super().disconnect()
        if session is not None:
            session.jobs("")  # a "logout" call, on the session just closed: raises


class DisconnectRaisesPlugin(ReferencePlugin):
    """Bug: disconnect closes the session, then makes a logout call on it, which raises.

    Rule: ``connections.disconnect-does-not-fail``.
    """

    def new_connection(self) -> ReferenceConnection:
        """A connection whose disconnect raises."""
        return _LogoutConnection()


class _GenericErrorConnection(ReferenceConnection):
    def connect(self, data: ConnectionData) -> None:
        try:
            super().connect(data)
        except PluginConnectionError as error:
            raise BackupPluginException(BackupPluginError.CONNECTION, error.message) from error


class ConnectGenericExceptionPlugin(ReferencePlugin):
    """Bug: connect raises a plain ``BackupPluginException(CONNECTION)`` instead of
    ``PluginConnectionError``.

    Rule: ``connections.connect-failure-typed``.
    """

    def new_connection(self) -> ReferenceConnection:
        """A connection with the wrong exception type."""
        return _GenericErrorConnection()


class _BuiltinErrorConnection(ReferenceConnection):
    def connect(self, data: ConnectionData) -> None:
        try:
            super().connect(data)
        except PluginConnectionError as error:
            cause = error.__cause__
            if isinstance(cause, BackupSystemError) and cause.kind == "auth":
                raise PermissionError(cause.message) from cause
            raise ConnectionError(error.message) from error


class ConnectBuiltinErrorPlugin(ReferencePlugin):
    """Bug: connect raises Python's ``PermissionError``/``ConnectionError`` instead of
    ``PluginConnectionError``.

    Rule: ``connections.connect-failure-typed``.
    """

    def new_connection(self) -> ReferenceConnection:
        """A connection raising built-in exceptions."""
        return _BuiltinErrorConnection()


class _PasswordCacheConnection(ReferenceConnection):
    # Class-level on purpose: the bug is a password cache keyed without the password.
    _passwords: ClassVar[dict[tuple[str | None, str | None], Any]] = {}

    def connect(self, data: ConnectionData) -> None:
        key = (data.endpoint, data.user)
        cached = self._passwords.get(key)
        if cached is not None:
            data = data.model_copy(update={"password": cached})
        super().connect(data)
        self._passwords[key] = data.password


class PasswordCachePlugin(ReferencePlugin):
    """Bug: connect caches the password per endpoint and user, so a wrong (or rotated)
    password is ignored once a login has succeeded.

    Rule: ``connections.connect-failure-typed``.
    """

    def new_connection(self) -> ReferenceConnection:
        """A connection with a password cache."""
        return _PasswordCacheConnection()


# =================================================================== schedules


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


class HidesUnscheduledVmResultsPlugin(ReferencePlugin):
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


# =================================================================== on demand


class OnDemandFlagUnsetPlugin(ReferencePlugin):
    """Bug: execute_backup returns its result with ``on_demand`` false.

    Rule: ``on-demand.backup-result-well-formed``.
    """

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """As the reference, with the flag cleared."""
        result = super().execute_backup(connection, vm, options)
        return result.model_copy(update={"on_demand": False})


class IgnoresReplicationPlugin(ReferencePlugin):
    """Bug: execute_backup silently drops the replication request instead of honouring it
    or raising ``UNSUPPORTED``.

    Rule: ``on-demand.backup-result-well-formed``.
    """

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Always back up without replication."""
        return super().execute_backup(connection, vm, OnDemandBackupOptions(replication=False))


class PreviousRestorePointPlugin(ReferencePlugin):
    """Bug: execute_backup starts the backup, then returns the VM's latest *finished*
    backup (the backend's "last restore point" call) rather than the one just started.

    Rule: ``on-demand.backup-result-well-formed``.
    """

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Start a backup; report the last finished one if there is one."""
        started = super().execute_backup(connection, vm, options)
        session = _session(connection)
        with _translated("executeBackup"):
            finished = [
                r for r in session.changed_since(None) if r.vm_uuid == vm.uuid and r.state.is_final
            ]
        if not finished:
            return started
        latest = max(finished, key=lambda r: (r.creation_date, r.provider_id))
        return _result(latest)


def _stuck(r: BackupResult) -> BackupResult:
    return r.model_copy(
        update={
            "state": ResultState.IN_PROGRESS,
            "finish_date": None,
            "expiration_date": None,
            "size_bytes": 0,
            "message": None,
        }
    )


class OnDemandStuckPlugin(ReferencePlugin):
    """Bug: the state mapping only knows the scheduled jobs' final states; an on-demand
    backup is reported IN_PROGRESS forever.

    Rule: ``on-demand.backup-reaches-final-state``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """On-demand results stay IN_PROGRESS."""
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        return [_stuck(r) if r.on_demand else r for r in results]


class TaskIdPlugin(ReferencePlugin):
    """Bug: execute_backup returns the backend's *task* id (``task-<backup id>``), which
    list_results never uses: the platform can only ever learn it is UNKNOWN.

    Rule: ``on-demand.backup-reaches-final-state``.
    """

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """As the reference, with a task id."""
        result = super().execute_backup(connection, vm, options)
        return result.model_copy(update={"provider_id": f"task-{result.provider_id}"})


class AcceptedTaskAsDonePlugin(ReferencePlugin):
    """Bug: execute_backup reports the backend's *task* (``task-<backup id>``) as DONE as
    soon as the job is accepted; the real backup is never tied to what the platform holds.

    Rule: ``on-demand.backup-reaches-final-state``.
    """

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Report the accepted task as a finished backup."""
        result = super().execute_backup(connection, vm, options)
        return result.model_copy(
            update={
                "provider_id": f"task-{result.provider_id}",
                "state": ResultState.DONE,
                "finish_date": result.creation_date,
            }
        )


class RestoreReportsBackupIdPlugin(ReferencePlugin):
    """Bug: execute_restore reports the backup's id as the restore's provider id.

    Rule: ``on-demand.restore-points-at-backup``.
    """

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """As the reference, with the wrong id."""
        restore = super().execute_restore(connection, vm, backup_id)
        return restore.model_copy(update={"provider_id": backup_id})


class RestoreOntoOwnerPlugin(ReferencePlugin):
    """Bug: no ownership check, and the restore goes to the VM that owns the backup: a
    restore of another VM's backup "succeeds" (and overwrites that other VM).

    Rule: ``on-demand.restore-refuses-bad-backup``.
    """

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Restore the backup onto its own VM, whichever VM was asked."""
        session = _session(connection)
        with _translated("executeRestore"):
            record = session.get([backup_id]).get(backup_id)
            if record is None or record.provider_id != backup_id:
                raise BackupPluginException(
                    BackupPluginError.BACKUP_NOT_FOUND, f"no backup {backup_id!r}"
                )
            return _restore_result(session.start_restore(record.vm_uuid, backup_id))


class RestoreUnknownAsFailedPlugin(ReferencePlugin):
    """Bug: a restore the backend refuses is reported as a FAILED restore result instead
    of raising ``BackupPluginException``.

    Rule: ``on-demand.restore-refuses-bad-backup``.
    """

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Turn a refusal into a FAILED result."""
        try:
            return super().execute_restore(connection, vm, backup_id)
        except BackupPluginException as error:
            now = self.now()
            return RestoreResult(
                provider_id=f"rs-refused-{backup_id}",
                backup_provider_id=backup_id,
                state=ResultState.FAILED,
                creation_date=now,
                finish_date=now,
                message=error.message,
            )


class RestoresLatestBackupPlugin(ReferencePlugin):
    """Bug: execute_restore restores the VM's most recent DONE backup, whatever
    ``backup_id`` asked, and reports the asked id. The disks get the wrong content.

    Rule: ``data.restore-integrity``.
    """

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Restore the latest backup of the VM."""
        session = _session(connection)
        with _translated("executeRestore"):
            record = session.get([backup_id]).get(backup_id)
            if record is None or record.provider_id != backup_id or record.vm_uuid != vm.uuid:
                raise BackupPluginException(
                    BackupPluginError.BACKUP_NOT_FOUND, f"VM {vm.uuid} has no backup {backup_id!r}"
                )
            now = self.now()
            latest: BackupRecord = record
            for other in session.changed_since(None):
                if (
                    other.vm_uuid == vm.uuid
                    and other.state is ResultState.DONE
                    and (other.expiration_date is None or other.expiration_date > now)
                    and other.creation_date > latest.creation_date
                ):
                    latest = other
            restore = session.start_restore(vm.uuid, latest.provider_id)
        return _restore_result(restore).model_copy(update={"backup_provider_id": backup_id})


# ====================================================================== errors


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


class NotFoundAsVmNotFoundPlugin(ReferencePlugin):
    """Bug: every "not found" from the backend becomes ``VM_NOT_FOUND``, also an unknown
    backup id in execute_restore.

    Rule: ``errors.fitting-error-code``.
    """

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """As the reference, with the wrong code."""
        try:
            return super().execute_restore(connection, vm, backup_id)
        except BackupPluginException as error:
            if error.error is BackupPluginError.BACKUP_NOT_FOUND:
                raise BackupPluginException(
                    BackupPluginError.VM_NOT_FOUND, error.message
                ) from error
            raise


class NotFoundAsBackendPlugin(ReferencePlugin):
    """Bug: execute_restore raises ``BACKEND`` for an unknown backup id, where
    ``BACKUP_NOT_FOUND`` fits.

    Rule: ``errors.fitting-error-code``.
    """

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """As the reference, with the wrong code."""
        try:
            return super().execute_restore(connection, vm, backup_id)
        except BackupPluginException as error:
            if error.error is BackupPluginError.BACKUP_NOT_FOUND:
                raise BackupPluginException(BackupPluginError.BACKEND, error.message) from error
            raise


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


class ExpiredReturnsSetPlugin(ReferencePlugin):
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
        try:
            super().apply_schedule(connection, vm, schedule)
        except BackupPluginException as error:
            if error.error is not BackupPluginError.BACKEND:
                raise

    def apply_new_schedule(
        self,
        connection: Connection,
        vm: VirtualMachineInfo,
        old_schedule: BackupSchedule,
        new_schedule: BackupSchedule,
    ) -> None:
        """Swallow a BACKEND failure."""
        try:
            super().apply_new_schedule(connection, vm, old_schedule, new_schedule)
        except BackupPluginException as error:
            if error.error is not BackupPluginError.BACKEND:
                raise

    def remove_schedule(self, connection: Connection, vm: VirtualMachineInfo) -> None:
        """Swallow a BACKEND failure."""
        try:
            super().remove_schedule(connection, vm)
        except BackupPluginException as error:
            if error.error is not BackupPluginError.BACKEND:
                raise


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


class WaitsForUnindexedIdPlugin(ReferencePlugin):
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


# ===================================================================== polling


class ExclusiveWindowPlugin(ReferencePlugin):
    """Bug: the window is exclusive (``> last_check_date``): a result created exactly at
    ``last_check_date`` is never returned.

    Rule: ``polling.window-complete``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Ask the backend for what changed strictly after last_check_date."""
        since = None if last_check_date is None else last_check_date + timedelta(microseconds=1)
        return super().list_results(connection, since, in_progress_result_provider_ids)


class OnlyFinalResultsPlugin(ReferencePlugin):
    """Bug: the window part of the answer holds only final results; a backup still in
    progress is left out of the check in which it was created.

    Rule: ``polling.window-complete``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Drop unasked IN_PROGRESS results."""
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        return [
            r
            for r in results
            if r.state.is_final or r.provider_id in in_progress_result_provider_ids
        ]


class IgnoresAskedIdsPlugin(ReferencePlugin):
    """Bug: ``in_progress_result_provider_ids`` is ignored; only the window is listed.

    Rule: ``polling.in-progress-answered``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """List the window only."""
        return super().list_results(connection, last_check_date, frozenset())


class OmitsUnknownIdsPlugin(ReferencePlugin):
    """Bug: an asked id the backup system does not know is left out of the answer instead
    of being answered UNKNOWN.

    Rule: ``polling.unknown-for-lost-ids``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Drop the UNKNOWN placeholders."""
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        return [r for r in results if r.state is not ResultState.UNKNOWN]


class UnknownAsFailedPlugin(ReferencePlugin):
    """Bug: an asked id the backup system does not know is answered FAILED, not UNKNOWN.

    Rule: ``polling.unknown-for-lost-ids``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Answer lost ids FAILED."""
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        return [
            r.model_copy(update={"state": ResultState.FAILED, "finish_date": r.creation_date})
            if r.state is ResultState.UNKNOWN
            else r
            for r in results
        ]


_NEW_YORK = timezone(timedelta(hours=-5))


class ServerLocalWindowPlugin(ReferencePlugin):
    """Bug: ``last_check_date`` is sent to the backend as a local wall-clock time, which the
    backend (in New York, -0500) reads in its own zone: the window starts five hours late,
    and a backup that starts and ends between two checks is never returned.

    Rule: ``polling.no-lost-results``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Shift the window by the server's offset."""
        since = (
            None
            if last_check_date is None
            else last_check_date.astimezone(UTC).replace(tzinfo=_NEW_YORK)
        )
        return super().list_results(connection, since, in_progress_result_provider_ids)


class DuplicateIdsPlugin(ReferencePlugin):
    """Bug: the window and the asked ids are concatenated without removing duplicates.

    Rule: ``polling.unique-ids-per-answer``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Window, then asked ids, no dedup."""
        window = super().list_results(connection, last_check_date, frozenset())
        asked = super().list_results(connection, self.now(), in_progress_result_provider_ids)
        return window + [r for r in asked if r.provider_id in in_progress_result_provider_ids]


def _verification_failed(r: BackupResult, now: datetime) -> bool:
    """Every fifth backup "fails verification" two hours after it finished."""
    return (
        r.state is ResultState.DONE
        and r.finish_date is not None
        and now >= r.finish_date + timedelta(hours=2)
        and r.provider_id[-1:] in ("0", "5")
    )


class FlipsDoneToFailedPlugin(ReferencePlugin):
    """Bug: a backup is reported DONE when it finishes and FAILED later, when the backend's
    verification of it fails: a final result changes.

    Rule: ``polling.states-move-forward``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Report failed verifications as FAILED."""
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        now = self.now()
        return [
            r.model_copy(update={"state": ResultState.FAILED, "message": "verification failed"})
            if _verification_failed(r, now)
            else r
            for r in results
        ]


class WallClockPlugin(ReferencePlugin):
    """Bug: the UNKNOWN placeholder is stamped with ``datetime.now()``, the real clock,
    instead of the context clock: under simulation (the built-in scenarios start in early
    2026) it lies in the future.

    Rule: ``polling.dates-well-formed``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Stamp UNKNOWN answers with the wall clock."""
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        wall = datetime.now(UTC)  # the bug: real time, not simulated time
        return [
            _unknown(r.provider_id, wall) if r.state is ResultState.UNKNOWN else r for r in results
        ]


class DoneWithoutFinishDatePlugin(ReferencePlugin):
    """Bug: the backend's end time is only mapped for failed jobs, so DONE results carry
    no ``finish_date``.

    Rule: ``polling.dates-well-formed``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Drop the finish date of DONE results."""
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        return [
            r.model_copy(update={"finish_date": None}) if r.state is ResultState.DONE else r
            for r in results
        ]


class NegativeSizePlugin(ReferencePlugin):
    """Bug: a backup still in progress reports ``size_bytes=-1`` for "not known yet".

    Rule: ``polling.sizes-non-negative``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """-1 for unknown sizes."""
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        return [
            r.model_copy(update={"size_bytes": -1}) if r.state is ResultState.IN_PROGRESS else r
            for r in results
        ]


class EmptyListOnFailurePlugin(CachedLoginPlugin):
    """Bug: list_results and get_expired_results return ``[]`` when the backup system
    fails, as if nothing had happened.

    Rule: ``polling.failure-raises``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Swallow a BACKEND failure."""
        try:
            return super().list_results(
                connection, last_check_date, in_progress_result_provider_ids
            )
        except BackupPluginException:
            return []

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Swallow a BACKEND failure."""
        try:
            return super().get_expired_results(connection, provider_ids)
        except BackupPluginException:
            return []


# ====================================================================== expiry


class ExpiredPagesOverlapPlugin(ReferencePlugin):
    """Bug: get_expired_results asks the backend in pages of 10 ids with an off-by-one
    slice (``ids[i:i + 11]``), so an expired id on a page boundary is returned twice.

    Rule: ``expiry.subset-of-asked``.
    """

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Paged, with overlapping pages."""
        session = _session(connection)
        out: list[str] = []
        with _translated("getExpiredResults"):
            for i in range(0, len(provider_ids), 10):
                out.extend(session.expired(provider_ids[i : i + 11]))
        return out


class UpperCaseExpiredIdsPlugin(ReferencePlugin):
    """Bug: expired ids are returned as the backend's API spells them (upper case), not
    as the platform asked.

    Rule: ``expiry.subset-of-asked``.
    """

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Upper-case ids."""
        return [pid.upper() for pid in super().get_expired_results(connection, provider_ids)]


class RecentExpiryLogPlugin(ReferencePlugin):
    """Bug: expiry is read from the backend's expiry event log of the last six hours, so a
    backup that expired earlier is no longer reported expired.

    Rule: ``expiry.sticky``.
    """

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Only recently expired ids."""
        session = _session(connection)
        now = self.now()
        with _translated("getExpiredResults"):
            expired = session.expired(provider_ids)
            records = session.get(expired)
        return [
            pid
            for pid in expired
            if (r := records.get(pid)) is not None
            and r.expiration_date is not None
            and now - r.expiration_date <= timedelta(hours=6)
        ]


class NeverExpiresPlugin(ReferencePlugin):
    """Bug: get_expired_results is a stub that always answers ``[]``.

    Rule: ``expiry.reported-when-due``.
    """

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Nothing ever expires."""
        _session(connection)
        return []


class ExpiresDayEarlyPlugin(ReferencePlugin):
    """Bug: retention is compared in the wrong unit, so a backup is reported expired a
    day before its expiration date.

    Rule: ``expiry.live-never-reported``.
    """

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Expired from a day before the expiration date."""
        session = _session(connection)
        horizon = self.now() + timedelta(days=1)
        with _translated("getExpiredResults"):
            records = session.get(provider_ids)
        out = []
        for pid in dict.fromkeys(provider_ids):
            r = records.get(pid)
            if (
                r is not None
                and r.provider_id == pid
                and r.expiration_date is not None
                and r.expiration_date <= horizon
            ):
                out.append(pid)
        return out


# ====================================================================== tables

#: Mutant name -> (plugin class, the rule id it is meant to break).
MUTANTS: dict[str, tuple[type, str]] = {
    # startup
    "upper-case-type": (UpperCaseTypePlugin, "startup.metadata-well-formed"),
    "no-supported-versions": (NoSupportedVersionsPlugin, "startup.metadata-well-formed"),
    "undocumented-property": (
        UndocumentedPropertyPlugin,
        "startup.validate-passes-with-complete-properties",
    ),
    "validate-key-error": (KeyErrorValidatePlugin, "startup.validate-raises-configuration-error"),
    "lax-validate": (LaxValidatePlugin, "startup.validate-detects-missing-properties"),
    "forgotten-connection-metadata": (
        ForgottenConnectionMetadataPlugin,
        "startup.connection-constraints-honoured",
    ),
    "default-account": (DefaultAccountPlugin, "startup.connection-constraints-honoured"),
    "cached-first-listing": (CachedFirstListingPlugin, "startup.instances-isolated"),
    # connections
    "session-leak": (SessionLeakPlugin, "connections.closed-after-use"),
    "disconnect-raises": (DisconnectRaisesPlugin, "connections.disconnect-does-not-fail"),
    "connect-generic-exception": (
        ConnectGenericExceptionPlugin,
        "connections.connect-failure-typed",
    ),
    "connect-builtin-error": (ConnectBuiltinErrorPlugin, "connections.connect-failure-typed"),
    "password-cache": (PasswordCachePlugin, "connections.connect-failure-typed"),
    # schedules
    "ignores-offset": (IgnoresOffsetPlugin, "schedules.backups-at-scheduled-times"),
    "add-only-new-schedule": (AddOnlyNewSchedulePlugin, "schedules.new-schedule-replaces-old"),
    "noop-remove-schedule": (NoopRemoveSchedulePlugin, "schedules.removed-schedule-stops"),
    "hides-unscheduled-vm-results": (
        HidesUnscheduledVmResultsPlugin,
        "schedules.results-listable-until-expiry",
    ),
    "counter-job-key": (CounterJobKeyPlugin, "schedules.idempotent"),
    # on demand
    "on-demand-flag-unset": (OnDemandFlagUnsetPlugin, "on-demand.backup-result-well-formed"),
    "ignores-replication": (IgnoresReplicationPlugin, "on-demand.backup-result-well-formed"),
    "previous-restore-point": (
        PreviousRestorePointPlugin,
        "on-demand.backup-result-well-formed",
    ),
    "on-demand-stuck": (OnDemandStuckPlugin, "on-demand.backup-reaches-final-state"),
    "accepted-task-as-done": (
        AcceptedTaskAsDonePlugin,
        "on-demand.backup-reaches-final-state",
    ),
    "task-id": (TaskIdPlugin, "on-demand.backup-reaches-final-state"),
    "restore-reports-backup-id": (
        RestoreReportsBackupIdPlugin,
        "on-demand.restore-points-at-backup",
    ),
    "restore-onto-owner": (RestoreOntoOwnerPlugin, "on-demand.restore-refuses-bad-backup"),
    "restore-unknown-as-failed": (
        RestoreUnknownAsFailedPlugin,
        "on-demand.restore-refuses-bad-backup",
    ),
    # errors
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
    # polling
    "exclusive-window": (ExclusiveWindowPlugin, "polling.window-complete"),
    "only-final-results": (OnlyFinalResultsPlugin, "polling.window-complete"),
    "ignores-asked-ids": (IgnoresAskedIdsPlugin, "polling.in-progress-answered"),
    "omits-unknown-ids": (OmitsUnknownIdsPlugin, "polling.unknown-for-lost-ids"),
    "unknown-as-failed": (UnknownAsFailedPlugin, "polling.unknown-for-lost-ids"),
    "server-local-window": (ServerLocalWindowPlugin, "polling.no-lost-results"),
    "duplicate-ids": (DuplicateIdsPlugin, "polling.unique-ids-per-answer"),
    "flips-done-to-failed": (FlipsDoneToFailedPlugin, "polling.states-move-forward"),
    "wall-clock": (WallClockPlugin, "polling.dates-well-formed"),
    "done-without-finish-date": (DoneWithoutFinishDatePlugin, "polling.dates-well-formed"),
    "negative-size": (NegativeSizePlugin, "polling.sizes-non-negative"),
    "empty-list-on-failure": (EmptyListOnFailurePlugin, "polling.failure-raises"),
    # expiry
    "expired-pages-overlap": (ExpiredPagesOverlapPlugin, "expiry.subset-of-asked"),
    "upper-case-expired-ids": (UpperCaseExpiredIdsPlugin, "expiry.subset-of-asked"),
    "recent-expiry-log": (RecentExpiryLogPlugin, "expiry.sticky"),
    "never-expires": (NeverExpiresPlugin, "expiry.reported-when-due"),
    "expires-day-early": (ExpiresDayEarlyPlugin, "expiry.live-never-reported"),
    # data
    "restores-latest-backup": (RestoresLatestBackupPlugin, "data.restore-integrity"),
}

#: Rules no in-process mutant breaks through the built-in scenarios, with the reason.
NO_MUTANT: dict[str, tuple[None, str]] = {
    "errors.no-crash": (
        None,
        "applies only to out-of-process plugins; covered by the process-plugin self-tests",
    ),
    "protocol.stdout-clean": (
        None,
        "applies only to out-of-process plugins; covered by the process-plugin self-tests",
    ),
    "polling.fits-interval": (
        None,
        "every built-in scenario uses the fixed 1 s latency model, so a check lasts about "
        "2 simulated seconds whatever the plugin does; only a 'measured' or 'distribution' "
        "latency model can make a check outlast the 600 s interval",
    ),
}

__all__ += sorted(cls.__name__ for cls, _ in MUTANTS.values())
