"""The reference plugin: an honest, minimal backup plugin, written the way a vendor would.

It is the worked example of ``docs/contract.md``. Copy its shape, replace the calls to
:mod:`simulator.backend.backup_system` with calls to your backup system's API, and keep the
habits it shows:

- **All state lives in the backup system.** The platform builds one plugin instance per
  component (API, Virtual Factory, Cloud Provider Proxy), so anything kept in instance
  memory is invisible to the other two. This plugin keeps nothing but its context.
- **Calls are idempotent.** A schedule call converges the backup system to the schedule it
  is given, so repeating it, or retrying one that failed halfway, changes nothing more.
- **Only** :class:`~simulator.contract.BackupPluginException` **escapes.** Every backend
  error is translated into a code the platform can act on; a failure is never hidden as an
  empty answer.
- **Time comes from the context clock**, never from ``datetime.now()``, so that the plugin
  works under simulated time.
- **It speaks every contract profile** (``contract_profiles``): the 4.0.4 results methods,
  the 4.7 per-id methods and the 6.0 policy membership, each answered from the backend.
  A plugin for one Abiquo generation implements that generation's methods only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import ClassVar

from simulator.backend import backup_system
from simulator.backend.backup_system import (
    BackupRecord,
    BackupSession,
    BackupSystemError,
    RestoreRecord,
)
from simulator.contract import (
    BackupConfiguration,
    BackupPluginBase,
    BackupPluginError,
    BackupPluginException,
    BackupPolicy,
    BackupResult,
    BackupSchedule,
    BackupType,
    ConfigurationError,
    Connection,
    ConnectionData,
    ConnectionMetadata,
    FieldConstraint,
    OnDemandBackupOptions,
    Periodicity,
    PluginConnectionError,
    PluginMetadata,
    RestoreResult,
    ResultState,
    VirtualMachineInfo,
)

__all__ = [
    "REFERENCE_PROPERTIES",
    "ReferenceConnection",
    "ReferencePlugin",
    "ReferenceSettings",
    "parse_properties",
]

TIMEOUT_PROPERTY = "reference.timeout.seconds"
REPLICATION_PROPERTY = "reference.replication.enabled"

#: A complete, valid properties file for the reference plugin.
REFERENCE_PROPERTIES: dict[str, str] = {
    TIMEOUT_PROPERTY: "30",
    REPLICATION_PROPERTY: "true",
}

#: What an id the backup system no longer knows is reported with (see ``list_results``).
UNKNOWN_MESSAGE = "the backup system no longer knows this id"


@dataclass(frozen=True)
class ReferenceSettings:
    """The plugin's properties, parsed.

    - ``reference.timeout.seconds``: a positive whole number of seconds. A real plugin
      hands it to its HTTP client; the fake backup system answers at once, so here it is
      only validated.
    - ``reference.replication.enabled``: ``true`` or ``false``. When ``false``, the plugin
      refuses replication with ``UNSUPPORTED`` rather than silently dropping it.
    """

    timeout_s: int
    replication_enabled: bool


def parse_properties(properties: Mapping[str, str]) -> ReferenceSettings:
    """Parse the properties; raise :class:`ConfigurationError` naming every bad one."""
    problems: list[str] = []
    timeout = properties.get(TIMEOUT_PROPERTY)
    timeout_s = 0
    if timeout is None or not timeout.strip():
        problems.append(f"{TIMEOUT_PROPERTY} is missing; set it to a positive number of seconds")
    elif not timeout.strip().isdigit() or int(timeout) <= 0:
        problems.append(f"{TIMEOUT_PROPERTY} must be a positive whole number, got {timeout!r}")
    else:
        timeout_s = int(timeout)
    replication = properties.get(REPLICATION_PROPERTY)
    if replication is None or not replication.strip():
        problems.append(f"{REPLICATION_PROPERTY} is missing; set it to 'true' or 'false'")
    elif replication.strip().lower() not in ("true", "false"):
        problems.append(f"{REPLICATION_PROPERTY} must be 'true' or 'false', got {replication!r}")
    if problems:
        raise ConfigurationError("; ".join(problems))
    return ReferenceSettings(timeout_s, (replication or "").strip().lower() == "true")


class ReferenceConnection:
    """A session with the backup manager (Java ``IConnection``).

    The platform builds one per operation, connects it, runs the operation and
    disconnects it, also after a failure. It holds the backend session and nothing else.
    """

    def __init__(self) -> None:
        self.session: BackupSession | None = None

    def connect(self, data: ConnectionData) -> None:
        """Open a session at the endpoint with the credentials.

        Both are MANDATORY (see ``connection_metadata``); a missing one, an unreachable
        backend or refused credentials raise :class:`PluginConnectionError`. The message
        does not repeat the endpoint: in simulation it differs between runs, and messages
        reach the trace.
        """
        if not data.endpoint:
            raise PluginConnectionError("the backup manager has no endpoint; it is mandatory")
        if data.user is None or data.password is None:
            raise PluginConnectionError("the backup manager has no credentials; they are mandatory")
        if self.session is not None:  # a reused connection: do not leak the old session
            self.disconnect()
        try:
            self.session = backup_system.connect(
                data.endpoint, data.user, data.password.get_secret_value()
            )
        except BackupSystemError as error:
            raise PluginConnectionError(
                f"cannot open a session with the backup manager: {error.message}"
            ) from error

    def disconnect(self) -> None:
        """Close the session. Idempotent, and never fails, so a session never leaks."""
        session, self.session = self.session, None
        if session is not None:
            session.close()


_CODES: dict[str, BackupPluginError] = {
    "unreachable": BackupPluginError.CONNECTION,
    "auth": BackupPluginError.CONNECTION,
    "unavailable": BackupPluginError.BACKEND,
    "not_found": BackupPluginError.BACKUP_NOT_FOUND,
    "not_restorable": BackupPluginError.BACKUP_NOT_RESTORABLE,
    "invalid": BackupPluginError.BACKEND,
}


@contextmanager
def _translated(
    operation: str,
    *,
    not_found: BackupPluginError = BackupPluginError.BACKUP_NOT_FOUND,
    invalid: BackupPluginError = BackupPluginError.BACKEND,
) -> Iterator[None]:
    """Turn a backend error into the :class:`BackupPluginException` the platform expects.

    "Not found" and "invalid" depend on the operation: a schedule call that names an
    unknown VM is ``VM_NOT_FOUND``, a restore of an unknown backup ``BACKUP_NOT_FOUND``.
    """
    try:
        yield
    except BackupSystemError as error:
        code = _CODES[error.kind]
        if error.kind == "not_found":
            code = not_found
        elif error.kind == "invalid":
            code = invalid
        raise BackupPluginException(code, f"{operation}: {error.message}") from error


def _session(connection: Connection) -> BackupSession:
    """The backend session of a connection the platform has connected."""
    if not isinstance(connection, ReferenceConnection) or connection.session is None:
        raise BackupPluginException(
            BackupPluginError.CONNECTION,
            f"expected a connected ReferenceConnection, got {type(connection).__name__}",
        )
    return connection.session


def _job_key(
    policy: BackupPolicy, configuration: BackupConfiguration
) -> tuple[str, BackupType, Periodicity]:
    return (policy.code, configuration.type, configuration.subtype)


_BY_CREATION = attrgetter("creation_date", "provider_id")
_RECORD_ORDER = itemgetter(*map(BackupRecord._fields.index, ("creation_date", "provider_id")))


def _result(record: BackupRecord) -> BackupResult:
    """A backend record as the contract's :class:`BackupResult`.

    Built without re-validation: every field comes from the backend's typed record, and
    a check at fleet scale builds one per backup in its window (validation was the
    largest single cost of ``bpcert load``). A plugin translating a real backend's
    answers should construct its results normally, so that pydantic checks them.
    """
    # A backend record carries the result's fields in the same order (checked on import
    # of simulator.backend.backup_system), so it unpacks by position; a dict display is three
    # times faster than dict(zip(fields, record)).
    (
        provider_id,
        vm_uuid,
        name,
        backup_type,
        state,
        creation_date,
        finish_date,
        expiration_date,
        size_bytes,
        replication,
        on_demand,
        message,
        restores,
    ) = record
    return BackupResult._trusted(
        {
            "provider_id": provider_id,
            "vm_uuid": vm_uuid,
            "name": name,
            "type": backup_type,
            "state": state,
            "creation_date": creation_date,
            "finish_date": finish_date,
            "expiration_date": expiration_date,
            "size_bytes": size_bytes,
            "replication": replication,
            "on_demand": on_demand,
            "message": message,
            "restores": tuple(_restore_result(r) for r in restores) if restores else (),
        }
    )


def _unknown_result(provider_id: str, now: datetime) -> BackupResult:
    """The answer for an asked id the backup system no longer knows: UNKNOWN as of ``now``,
    with placeholders for what is not known (no VM, the id as its name, COMPLETE)."""
    return BackupResult(
        provider_id=provider_id,
        vm_uuid="",
        name=provider_id,
        type=BackupType.COMPLETE,
        state=ResultState.UNKNOWN,
        creation_date=now,
        message=UNKNOWN_MESSAGE,
    )


def _restore_result(record: RestoreRecord) -> RestoreResult:
    """A backend restore record as the contract's :class:`RestoreResult` (see ``_result``)."""
    return RestoreResult._trusted(record._asdict())


class ReferencePlugin(BackupPluginBase):
    """The bpcert reference plugin, backed by the fake backup system.

    Each backup configuration of a policy becomes one job in the backup system, keyed by
    (VM, policy code, type, subtype), which is unique by Abiquo's rules. Keying jobs by
    what the platform sends, rather than by ids kept in memory, is what lets three
    independent instances, and repeated calls, agree.
    """

    metadata: ClassVar[PluginMetadata] = PluginMetadata(
        type="reference",
        friendly_name="bpcert reference plugin",
        version="1.0.0",
        supported_versions=("1.0", "1.5"),  # the fake backup system's versions, not Abiquo's
    )
    connection_metadata: ClassVar[ConnectionMetadata] = ConnectionMetadata(
        endpoint=FieldConstraint.MANDATORY, credentials=FieldConstraint.MANDATORY
    )
    required_properties: ClassVar[tuple[str, ...]] = (TIMEOUT_PROPERTY, REPLICATION_PROPERTY)
    #: Every generation: ``list_results`` / ``get_expired_results`` for 4.0.4, the per-id
    #: methods for 4.7, and the policy membership for 6.0. bpcert runs the newest.
    contract_profiles: ClassVar[tuple[str, ...]] = ("abiquo-4.0.4", "abiquo-4.7", "abiquo-6.0")
    #: What bpcert loads the plugin with when no ``--properties`` file is given.
    example_properties: ClassVar[dict[str, str]] = dict(REFERENCE_PROPERTIES)

    def validate_configuration(self) -> None:
        """Fail fast at load time, so a broken properties file never reaches a VM task."""
        parse_properties(self.context.properties)

    def _settings(self) -> ReferenceSettings:
        """The properties, for an operation (they were validated at load time)."""
        try:
            return parse_properties(self.context.properties)
        except ConfigurationError as error:
            raise BackupPluginException(BackupPluginError.BACKEND, str(error)) from error

    def new_connection(self) -> ReferenceConnection:
        """A fresh, unconnected connection; the platform connects it."""
        return ReferenceConnection()

    def _refuse_replication(self, operation: str, asked: bool) -> None:
        if asked and not self._settings().replication_enabled:
            raise BackupPluginException(
                BackupPluginError.UNSUPPORTED,
                f"{operation}: replication is disabled ({REPLICATION_PROPERTY}=false)",
            )

    def _converge(
        self, session: BackupSession, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """Make the VM's jobs exactly the schedule's: put each one, drop any other.

        ``put_job`` is idempotent on the backend, so an unchanged job keeps its timing and
        no duplicate backup appears; dropping strays makes a retried call converge.
        """
        wanted = {_job_key(p, c) for p, c in schedule.configurations()}
        for policy, configuration in schedule.configurations():
            session.put_job(vm, policy, configuration)
        for job in session.jobs(vm.uuid):
            key = (job.policy_code, job.configuration.type, job.configuration.subtype)
            if key not in wanted:
                session.delete_job(vm.uuid, *key)

    def apply_schedule(
        self, connection: Connection, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """Create the VM's jobs. Called after deploy, when the VM already exists."""
        session = _session(connection)
        for policy in schedule.policies:
            self._refuse_replication("applySchedule", policy.replication)
        with _translated(
            "applySchedule",
            not_found=BackupPluginError.VM_NOT_FOUND,
            invalid=BackupPluginError.INVALID_SCHEDULE,
        ):
            self._converge(session, vm, schedule)

    def apply_new_schedule(
        self,
        connection: Connection,
        vm: VirtualMachineInfo,
        old_schedule: BackupSchedule,
        new_schedule: BackupSchedule,
    ) -> None:
        """Reconfigure: drop what the old schedule had and the new one lacks, put the rest.

        Changed configurations are replaced by ``put_job`` and move to their new time.
        Converging to ``new_schedule`` also drops any stray job, so the result does not
        depend on ``old_schedule`` being exact.
        """
        session = _session(connection)
        for policy in new_schedule.policies:
            self._refuse_replication("applyNewSchedule", policy.replication)
        kept = {_job_key(p, c) for p, c in new_schedule.configurations()}
        with _translated(
            "applyNewSchedule",
            not_found=BackupPluginError.VM_NOT_FOUND,
            invalid=BackupPluginError.INVALID_SCHEDULE,
        ):
            for policy, configuration in old_schedule.configurations():
                key = _job_key(policy, configuration)
                if key not in kept:
                    session.delete_job(vm.uuid, *key)
            self._converge(session, vm, new_schedule)

    def remove_schedule(self, connection: Connection, vm: VirtualMachineInfo) -> None:
        """Delete every job of the VM (before undeploy). Its backups stay until they expire."""
        session = _session(connection)
        with _translated("removeSchedule", not_found=BackupPluginError.VM_NOT_FOUND):
            session.delete_jobs(vm.uuid)

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Start an on-demand backup and report it as the backend created it."""
        session = _session(connection)
        self._refuse_replication("executeBackup", options.replication)
        with _translated("executeBackup", not_found=BackupPluginError.VM_NOT_FOUND):
            record = session.start_backup(vm, replication=options.replication)
        return _result(record)

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Restore the VM from one of *its* backups.

        The ownership check comes first and changes nothing: restoring another VM's
        backup onto this one would overwrite its disks with foreign data.
        """
        session = _session(connection)
        with _translated("executeRestore"):
            record = session.get([backup_id]).get(backup_id)
            if record is None or record.provider_id != backup_id or record.vm_uuid != vm.uuid:
                raise BackupPluginException(
                    BackupPluginError.BACKUP_NOT_FOUND,
                    f"executeRestore: VM {vm.uuid} has no backup {backup_id!r}",
                )
            restore = session.start_restore(vm.uuid, backup_id)
        return _restore_result(restore)

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """What changed since the last check, plus the current state of every id asked about.

        The window is inclusive (a repeat is harmless, a miss loses a result). An id the
        backup system no longer knows is answered with state UNKNOWN and placeholders:
        ``vm_uuid=""``, ``name`` = the id, ``type`` COMPLETE, ``creation_date`` = now and
        no finish date, since nothing else is known. The answer is ordered by creation
        date, then provider id, so that it is the same on every run.
        """
        session = _session(connection)
        asked = sorted(in_progress_result_provider_ids)
        with _translated("listResults"):
            changed = session.changed_since(last_check_date)
            by_id = {record.provider_id: record for record in changed}
            # An id the window already answered is not asked again (same instant, same record).
            current = session.get([pid for pid in asked if pid not in by_id])
        for record in current.values():  # a restore id is answered by its backup
            by_id[record.provider_id] = record
        # Ordered as records, before conversion: a key on a tuple costs a third of one on
        # a model, and the window comes nearly sorted.
        results = [_result(record) for record in sorted(by_id.values(), key=_RECORD_ORDER)]
        now = self.now()
        unknown = [
            _unknown_result(provider_id, now)
            for provider_id in asked
            if provider_id not in current and provider_id not in by_id
        ]
        if unknown:
            results.extend(unknown)
            results.sort(key=_BY_CREATION)
        return results

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Ask the backup system which of these backups are past their expiration date."""
        session = _session(connection)
        with _translated("getExpiredResults"):
            return session.expired(provider_ids)

    # -- abiquo-4.7 and abiquo-6.0: per-id polling ----------------------------------

    def list_new_backup_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[BackupResult]:
        """Every backup created at or after ``start_date`` (inclusive), and more.

        The backend's window also holds older backups that finished or had a restore
        since ``start_date``: repeats are harmless (the platform upserts by provider id),
        so they are not filtered out. Ordered by creation date, then provider id.
        """
        session = _session(connection)
        with _translated("listNewBackupResults"):
            records = session.changed_since(start_date)
        return [_result(record) for record in records]

    def list_new_restore_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[RestoreResult]:
        """Every restore created at or after ``start_date``, ordered by creation, then id.

        The backend indexes restores by creation: the window costs what it holds, not
        every backup created since the last restore.
        """
        session = _session(connection)
        with _translated("listNewRestoreResults"):
            records = session.restores_since(start_date)
        restores = [_restore_result(restore) for restore in records]
        restores.sort(key=_BY_CREATION)
        return restores

    def get_backup_result(self, connection: Connection, backup_id: str) -> BackupResult | None:
        """The backup ``backup_id`` as the backup system has it now; ``None`` if unknown.

        The backend answers a restore id with its parent backup: that is another id's
        result, so it is not returned.
        """
        session = _session(connection)
        with _translated("getBackupResult"):
            record = session.get([backup_id]).get(backup_id)
        if record is None or record.provider_id != backup_id:
            return None
        return _result(record)

    def get_restore_result(self, connection: Connection, restore_id: str) -> RestoreResult | None:
        """The restore ``restore_id`` as the backup system has it now; ``None`` if unknown."""
        session = _session(connection)
        with _translated("getRestoreResult"):
            record = session.get([restore_id]).get(restore_id)
        if record is None:
            return None
        for restore in record.restores:
            if restore.provider_id == restore_id:
                return _restore_result(restore)
        return None

    def is_backup_expired(self, connection: Connection, backup_id: str) -> bool:
        """Whether the backup system has removed the backup (its retention ran out, or
        it was lost)."""
        session = _session(connection)
        with _translated("isBackupExpired"):
            return backup_id in session.expired([backup_id])

    # -- abiquo-6.0: backup-policy synchronisation ----------------------------------

    def list_virtual_machines_in_backup_policy(
        self, connection: Connection, policy_code: str
    ) -> frozenset[str]:
        """The VMs the backup system protects with the policy now, as the backend says.

        The backend is asked rather than the jobs this plugin put: an administrator may
        have added or removed VMs in the backup system directly.
        """
        session = _session(connection)
        with _translated("listVirtualMachinesInBackupPolicy"):
            return frozenset(session.policy_vms(policy_code))
