"""The Abiquo backup plugin contract, in Python.

This module is the public surface a plugin vendor codes against. Its names are fixed
(see ``docs/contract.md``); they map one to one onto the Java contract
(``com.abiquo.backup.plugin.BackupScheduling``) of the three generations the harness
speaks, its *contract profiles* (:mod:`simulator.profiles`):

- ``abiquo-4.0.4`` (Abiquo 4.0.4 to 4.6): ``list_results`` and ``get_expired_results``;
- ``abiquo-4.7`` (4.7 to 5.4): per-id polling, ``list_new_backup_results``,
  ``list_new_restore_results``, ``get_backup_result``, ``get_restore_result`` and
  ``is_backup_expired`` replace those two;
- ``abiquo-6.0`` (6.0 on, the current line): 4.7 plus
  ``list_virtual_machines_in_backup_policy``.

The schedule, on-demand and restore methods are the same in all three. A plugin is a
class built as ``PluginClass(context)`` with a :class:`PluginContext`. It MUST provide the
class attributes ``metadata``, ``connection_metadata`` and ``unsupported_operations``, the
method ``new_connection()`` and the contract methods of the profiles it declares in
``contract_profiles`` (default ``("abiquo-4.0.4",)``). :class:`BackupPluginBase` supplies
sensible defaults.

Every model here is a frozen pydantic v2 model with ``extra="forbid"``: a typo in a
field name, a naive datetime or a malformed schedule time is an error that names the
field and the rule it broke.

This module imports only the standard library and pydantic, so that a plugin author
can import it without pulling in any test tool.

Kept whole: it is one concept, the contract a vendor codes against, and a vendor reads it
top to bottom as the Python twin of the Java interface (enums, exceptions, the models the
methods take and return, the plugin protocol and its base class). Split, the reader would
chase one interface through several files, and ``from simulator.contract import ...``
must keep naming every one of these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal, Protocol, Self, runtime_checkable

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

__all__ = [
    "ALL_BACKUP_TYPES",
    "ALL_PERIODICITIES",
    "COMPONENTS",
    "DEFAULT_CONTRACT_PROFILES",
    "DISK_SOURCE_TYPES",
    "WEEKDAYS",
    "BackupConfiguration",
    "BackupPlugin",
    "BackupPluginBase",
    "BackupPluginError",
    "BackupPluginException",
    "BackupPolicy",
    "BackupResult",
    "BackupSchedule",
    "BackupType",
    "Clock",
    "Component",
    "ConfigurationError",
    "Connection",
    "ConnectionData",
    "ConnectionMetadata",
    "ContractModel",
    "Disk",
    "FieldConstraint",
    "OnDemandBackupOptions",
    "Operation",
    "Periodicity",
    "PluginConnectionError",
    "PluginContext",
    "PluginMetadata",
    "RestoreResult",
    "ResultState",
    "VirtualMachineInfo",
]


# --------------------------------------------------------------------------- enums


class BackupType(StrEnum):
    """What a backup configuration copies (Abiquo ``type``)."""

    COMPLETE = "COMPLETE"
    SNAPSHOT = "SNAPSHOT"
    FILESYSTEM = "FILESYSTEM"


class Periodicity(StrEnum):
    """When a backup configuration fires (Abiquo ``subtype``).

    The ``time`` format depends on it:

    - ``DEFINED_HOUR``: ``yyyy/MM/dd HH:mm:ss Z``, a one-off instant,
      e.g. ``2026/11/26 22:00:00 +0100``;
    - ``HOURLY``: a whole number of hours from 1 to 24, as a string, e.g. ``"6"``;
    - ``DAILY``, ``WEEKLY_PLANNED``, ``MONTHLY``: ``HH:mm:ss Z``, e.g. ``"23:30:00 +0000"``.
    """

    DEFINED_HOUR = "DEFINED_HOUR"
    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY_PLANNED = "WEEKLY_PLANNED"
    MONTHLY = "MONTHLY"


class ResultState(StrEnum):
    """The state of a backup or restore result.

    ``IN_PROGRESS`` is the only non-final state. ``DONE`` and ``FAILED`` are final and
    never change again. ``UNKNOWN`` is what a plugin answers for an id the backup system
    no longer knows; the platform treats it as final in ``abiquo-4.0.4``. From
    ``abiquo-4.7`` on it is not final: the platform holds a result whose
    ``get_backup_result`` answered ``None`` as UNKNOWN and asks again on the next check.
    """

    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_final(self) -> bool:
        """True for every state but ``IN_PROGRESS``."""
        return self is not ResultState.IN_PROGRESS


class FieldConstraint(StrEnum):
    """Whether a connection field is needed (Java ``FieldConstraint``).

    ``OPTIONAL`` is *(modelled)*: the platform passes the field when the backup manager
    has it and ``None`` otherwise.
    """

    MANDATORY = "MANDATORY"
    OPTIONAL = "OPTIONAL"
    NO_APPLICABLE = "NO_APPLICABLE"


class BackupPluginError(StrEnum):
    """The error codes a :class:`BackupPluginException` carries *(modelled)*."""

    CONNECTION = "CONNECTION"
    INVALID_SCHEDULE = "INVALID_SCHEDULE"
    VM_NOT_FOUND = "VM_NOT_FOUND"
    BACKUP_NOT_FOUND = "BACKUP_NOT_FOUND"
    BACKUP_NOT_RESTORABLE = "BACKUP_NOT_RESTORABLE"
    UNSUPPORTED = "UNSUPPORTED"
    BACKEND = "BACKEND"
    TIMEOUT = "TIMEOUT"


class Operation(StrEnum):
    """The operational methods, valued by their wire (Java) name.

    The four-argument ``applySchedule`` overload has no overloads to hide behind on the
    wire, so it carries the name Abiquo 4.6 gave it, ``applyNewSchedule`` *(modelled)*.
    """

    APPLY_SCHEDULE = "applySchedule"
    APPLY_NEW_SCHEDULE = "applyNewSchedule"
    REMOVE_SCHEDULE = "removeSchedule"
    EXECUTE_BACKUP = "executeBackup"
    EXECUTE_RESTORE = "executeRestore"
    LIST_RESULTS = "listResults"
    GET_EXPIRED_RESULTS = "getExpiredResults"
    # abiquo-4.7: per-id polling, replacing listResults and getExpiredResults.
    IS_BACKUP_EXPIRED = "isBackupExpired"
    GET_BACKUP_RESULT = "getBackupResult"
    GET_RESTORE_RESULT = "getRestoreResult"
    LIST_NEW_BACKUP_RESULTS = "listNewBackupResults"
    LIST_NEW_RESTORE_RESULTS = "listNewRestoreResults"
    # abiquo-6.0: backup-policy synchronisation.
    LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY = "listVirtualMachinesInBackupPolicy"

    @property
    def python_name(self) -> str:
        """The snake_case method name a Python plugin implements."""
        return _PYTHON_NAMES[self]


_PYTHON_NAMES: dict[Operation, str] = {
    Operation.APPLY_SCHEDULE: "apply_schedule",
    Operation.APPLY_NEW_SCHEDULE: "apply_new_schedule",
    Operation.REMOVE_SCHEDULE: "remove_schedule",
    Operation.EXECUTE_BACKUP: "execute_backup",
    Operation.EXECUTE_RESTORE: "execute_restore",
    Operation.LIST_RESULTS: "list_results",
    Operation.GET_EXPIRED_RESULTS: "get_expired_results",
    Operation.IS_BACKUP_EXPIRED: "is_backup_expired",
    Operation.GET_BACKUP_RESULT: "get_backup_result",
    Operation.GET_RESTORE_RESULT: "get_restore_result",
    Operation.LIST_NEW_BACKUP_RESULTS: "list_new_backup_results",
    Operation.LIST_NEW_RESTORE_RESULTS: "list_new_restore_results",
    Operation.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY: "list_virtual_machines_in_backup_policy",
}

ALL_BACKUP_TYPES: frozenset[BackupType] = frozenset(BackupType)
ALL_PERIODICITIES: frozenset[Periodicity] = frozenset(Periodicity)
DISK_SOURCE_TYPES: frozenset[BackupType] = frozenset({BackupType.COMPLETE, BackupType.SNAPSHOT})
WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
Component = Literal["api", "virtualfactory", "cpp"]
COMPONENTS: tuple[Component, ...] = ("api", "virtualfactory", "cpp")
#: What a plugin that declares no ``contract_profiles`` speaks: the 4.0.4 generation.
DEFAULT_CONTRACT_PROFILES: tuple[str, ...] = ("abiquo-4.0.4",)


# ---------------------------------------------------------------------- exceptions


class BackupPluginException(Exception):
    """The only exception an operational method MAY raise (Java ``BackupPluginException``).

    ``error`` says what went wrong in a way the platform can act on; ``message`` is for
    people. Raising any other exception type from an operational method is a violation.
    """

    def __init__(self, error: BackupPluginError, message: str) -> None:
        if not isinstance(error, BackupPluginError):
            raise TypeError(
                f"BackupPluginException needs a BackupPluginError as error, got {error!r}"
            )
        super().__init__(f"{error.value}: {message}")
        self.error = error
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.error, self.message))


class PluginConnectionError(BackupPluginException):
    """Raised by ``Connection.connect`` when the backup manager cannot be reached or
    refuses the credentials (Java ``ComputeException``). Its code is always ``CONNECTION``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(BackupPluginError.CONNECTION, message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message,))


class ConfigurationError(Exception):
    """Raised by ``validate_configuration`` when the plugin's own properties are missing
    or wrong (Java ``IllegalStateException``). The platform then does not load the plugin.
    """


# -------------------------------------------------------------------------- models


class ContractModel(BaseModel):
    """Base of every contract model: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    @classmethod
    def _trusted(cls, values: dict[str, Any]) -> Self:
        """A model from ``values`` that are already of the field types: no validation.

        For the harness's own hot paths, whose values come from typed columns: a check
        at fleet scale builds one result per backup in its window, and validating them
        was the largest single cost. ``values`` must hold every field, each of its
        declared type and constraints; nothing checks it. It mirrors what pydantic's
        ``model_construct`` stores, at a tenth of its cost. Plugins should construct
        models normally.
        """
        model = _new_object(cls)
        _set_dict(model, values)
        # One set shared by the class's trusted models: pydantic copies it before any
        # change (model_copy), and every field is set.
        fields_set = _TRUSTED_FIELDS_SET.get(cls)
        if fields_set is None:
            fields_set = _TRUSTED_FIELDS_SET[cls] = set(cls.model_fields)
        _set_fields_set(model, fields_set)
        _set_extra(model, None)
        _set_private(model, None)
        return model


# BaseModel's slots, set through their descriptors: half the cost of object.__setattr__,
# which looks each name up first. A pydantic without these slots fails here, on import.
_new_object = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_TRUSTED_FIELDS_SET: dict[type[BaseModel], set[str]] = {}


class Disk(ContractModel):
    """One disk of a virtual machine."""

    sequence: int = Field(ge=0, description="The disk's position on the VM, 0 is the boot disk.")
    size_bytes: int = Field(ge=0, description="Capacity in bytes.")
    path: str = Field(min_length=1, description="Datastore path of the disk image.")


class VirtualMachineInfo(ContractModel):
    """The VM a schedule, backup or restore is about (Java ``VirtualMachineBackupRestoreInfo``)."""

    uuid: str = Field(min_length=1)
    name: str = Field(min_length=1)
    datacenter: str = Field(min_length=1)
    hypervisor_type: str = Field(min_length=1, description="For example VMX_04, KVM, HYPERV_301.")
    hypervisor_address: str = Field(min_length=1)
    disks: tuple[Disk, ...] = ()

    @field_validator("disks")
    @classmethod
    def _disk_sequences_unique(cls, disks: tuple[Disk, ...]) -> tuple[Disk, ...]:
        seqs = [d.sequence for d in disks]
        if len(seqs) != len(set(seqs)):
            raise ValueError(f"disk sequences must be unique, got {seqs}")
        return disks


_CLOCK_TIME = re.compile(r"^(?P<h>[01]\d|2[0-3]):(?P<m>[0-5]\d):(?P<s>[0-5]\d) (?P<z>[+-]\d{4})$")
_DEFINED_TIME = re.compile(
    r"^(?P<y>\d{4})/(?P<mo>\d{2})/(?P<d>\d{2}) "
    r"(?P<h>[01]\d|2[0-3]):(?P<m>[0-5]\d):(?P<s>[0-5]\d) (?P<z>[+-]\d{4})$"
)
_HOURLY_TIME = re.compile(r"^(?:[1-9]|1\d|2[0-4])$")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:\\")
_TIME_FORMATS: dict[Periodicity, str] = {
    Periodicity.DEFINED_HOUR: "'yyyy/MM/dd HH:mm:ss Z', e.g. '2026/11/26 22:00:00 +0100'",
    Periodicity.HOURLY: "a whole number of hours from 1 to 24, e.g. '6'",
    Periodicity.DAILY: "'HH:mm:ss Z', e.g. '23:30:00 +0000'",
    Periodicity.WEEKLY_PLANNED: "'HH:mm:ss Z', e.g. '23:30:00 +0000'",
    Periodicity.MONTHLY: "'HH:mm:ss Z', e.g. '23:30:00 +0000'",
}


def _valid_offset(z: str) -> bool:
    return int(z[1:3]) <= 18 and int(z[3:5]) < 60


def _time_is_valid(subtype: Periodicity, time: str) -> bool:
    if subtype is Periodicity.HOURLY:
        return bool(_HOURLY_TIME.match(time))
    if subtype is Periodicity.DEFINED_HOUR:
        m = _DEFINED_TIME.match(time)
        if not m:
            return False
        try:
            datetime(int(m["y"]), int(m["mo"]), int(m["d"]))
        except ValueError:
            return False
        return _valid_offset(m["z"])
    m = _CLOCK_TIME.match(time)
    return m is not None and _valid_offset(m["z"])


class BackupConfiguration(ContractModel):
    """One configuration of a backup policy: what to copy and when.

    Rules enforced (Abiquo's):

    - ``time`` follows the format of its ``subtype`` (see :class:`Periodicity`), or is
      ``None`` to leave the timing to the backup system;
    - ``days`` are distinct lower-case weekday names; WEEKLY_PLANNED needs at least one,
      and the other periodicities take none;
    - ``sources`` are disk sequence numbers as decimal strings (``"0"``) for COMPLETE and
      SNAPSHOT, and absolute filesystem paths for FILESYSTEM *(modelled)*. Empty means
      "everything", left to the backup system.
    """

    type: BackupType
    subtype: Periodicity
    time: str | None = None
    days: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _abiquo_rules(self) -> BackupConfiguration:
        if self.time is not None and not _time_is_valid(self.subtype, self.time):
            raise ValueError(
                f"time {self.time!r} does not match the {self.subtype.value} format: "
                f"expected {_TIME_FORMATS[self.subtype]}"
            )
        for day in self.days:
            if day not in WEEKDAYS:
                raise ValueError(
                    f"days: {day!r} is not a lower-case weekday name; expected one of "
                    f"{', '.join(WEEKDAYS)}"
                )
        if len(set(self.days)) != len(self.days):
            raise ValueError(f"days: each weekday may appear once, got {list(self.days)}")
        if self.subtype is Periodicity.WEEKLY_PLANNED and not self.days:
            raise ValueError("days: WEEKLY_PLANNED needs at least one weekday")
        if self.subtype is not Periodicity.WEEKLY_PLANNED and self.days:
            raise ValueError(f"days: only WEEKLY_PLANNED takes days, not {self.subtype.value}")
        for source in self.sources:
            if self.type in DISK_SOURCE_TYPES:
                if not source.isdigit():
                    raise ValueError(
                        f"sources: {self.type.value} backs up disks, so a source is a disk "
                        f"sequence number such as '0', got {source!r}"
                    )
            elif not (source.startswith("/") or _WINDOWS_PATH.match(source)):
                raise ValueError(
                    f"sources: FILESYSTEM backs up paths, so a source is an absolute path "
                    f"such as '/var/lib', got {source!r}"
                )
        if len(set(self.sources)) != len(self.sources):
            raise ValueError(f"sources: each source may appear once, got {list(self.sources)}")
        return self

    @property
    def key(self) -> tuple[BackupType, Periodicity]:
        """The (type, subtype) pair, unique within a policy."""
        return (self.type, self.subtype)


class BackupPolicy(ContractModel):
    """A backup policy of a datacenter. ``code`` is unique per datacenter; vendors map
    it to jobs or SLAs their backup system already has.
    """

    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str = ""
    replication: bool = False
    configurations: tuple[BackupConfiguration, ...] = ()

    @field_validator("configurations")
    @classmethod
    def _type_subtype_unique(
        cls, configurations: tuple[BackupConfiguration, ...]
    ) -> tuple[BackupConfiguration, ...]:
        seen: set[tuple[BackupType, Periodicity]] = set()
        for c in configurations:
            if c.key in seen:
                raise ValueError(
                    f"the type/subtype pair {c.type.value}/{c.subtype.value} appears twice; "
                    "it must be unique within a policy"
                )
            seen.add(c.key)
        return configurations


class BackupSchedule(ContractModel):
    """The backup configuration of one VM: its policies (Java ``BackupSchedule``)."""

    policies: tuple[BackupPolicy, ...] = ()

    @field_validator("policies")
    @classmethod
    def _codes_unique(cls, policies: tuple[BackupPolicy, ...]) -> tuple[BackupPolicy, ...]:
        codes = [p.code for p in policies]
        if len(codes) != len(set(codes)):
            raise ValueError(f"policy codes must be unique within a schedule, got {codes}")
        return policies

    def configurations(self) -> list[tuple[BackupPolicy, BackupConfiguration]]:
        """Every (policy, configuration) pair, in order."""
        return [(p, c) for p in self.policies for c in p.configurations]


class OnDemandBackupOptions(ContractModel):
    """Options of an on-demand backup: ``{"replication": true|false}``."""

    replication: bool = False


class RestoreResult(ContractModel):
    """A restore, reported inside its backup's ``restores``.

    Java ``BackupResult.RestoreResult``.
    """

    provider_id: str
    backup_provider_id: str
    state: ResultState
    creation_date: AwareDatetime
    finish_date: AwareDatetime | None = None
    message: str | None = None


class BackupResult(ContractModel):
    """A backup as the backup system reports it.

    Types and timezone-awareness are enforced here. The semantic rules (non-empty and
    unique ids, dates in order, sizes at least 0, states only moving forward) are the
    conformance checks' to judge, so that a violation is reported as a finding with
    evidence rather than as an exception inside the plugin.
    """

    provider_id: str
    vm_uuid: str
    name: str
    type: BackupType
    state: ResultState
    creation_date: AwareDatetime
    finish_date: AwareDatetime | None = None
    expiration_date: AwareDatetime | None = None
    size_bytes: int = 0
    replication: bool = False
    on_demand: bool = False
    message: str | None = None
    restores: tuple[RestoreResult, ...] = ()


class ConnectionData(ContractModel):
    """How to reach the datacenter's backup manager (Java ``ConnectionData``)."""

    endpoint: str | None = None
    user: str | None = None
    password: SecretStr | None = None


class PluginMetadata(ContractModel):
    """The plugin's identity (Java ``@PluginMetadata``)."""

    type: str = Field(description="A short token, e.g. 'veeam10', 'networker', 'rubrik'.")
    friendly_name: str
    version: str
    supported_versions: tuple[str, ...] = ()


class ConnectionMetadata(ContractModel):
    """Which connection fields the plugin needs (Java ``@BackupConnectionMetadata``)."""

    endpoint: FieldConstraint = FieldConstraint.NO_APPLICABLE
    credentials: FieldConstraint = FieldConstraint.NO_APPLICABLE


# ----------------------------------------------------------- context and protocols


@runtime_checkable
class Clock(Protocol):
    """A source of the current instant."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


@dataclass(frozen=True)
class PluginContext:
    """What the platform hands a plugin class when it builds an instance.

    - ``clock.now()`` follows *simulated* time; a plugin MUST use it rather than
      ``datetime.now()``.
    - ``properties`` is the plugin's properties file
      (``abiquo.backup.<type>.config.path``), as strings.
    - ``component`` is the Abiquo component that owns this instance.
    - ``profile`` is the contract profile the platform drives the plugin as this run
      (one of the plugin's ``contract_profiles``).
    """

    clock: Clock
    properties: Mapping[str, str] = field(default_factory=dict)
    component: Component = "api"
    profile: str = DEFAULT_CONTRACT_PROFILES[0]


@runtime_checkable
class Connection(Protocol):
    """A session with the backup manager (Java ``IConnection``)."""

    def connect(self, data: ConnectionData) -> None:
        """Open the session. MUST raise :class:`PluginConnectionError` on failure."""
        ...

    def disconnect(self) -> None:
        """Close the session.

        The platform calls it after every operation, also after a failed one.
        """
        ...


@runtime_checkable
class BackupPlugin(Protocol):
    """The contract a backup plugin implements (Java ``BackupScheduling``).

    The platform builds one instance per component (API, Virtual Factory, Cloud Provider
    Proxy); state kept only in one instance's memory is invisible to the others. Every
    operational method receives a connected :class:`Connection` from ``new_connection()``
    and MAY raise only :class:`BackupPluginException`.
    """

    metadata: ClassVar[PluginMetadata]
    connection_metadata: ClassVar[ConnectionMetadata]
    unsupported_operations: ClassVar[frozenset[Operation]]
    supported_backup_types: ClassVar[frozenset[BackupType]]
    supported_periodicities: ClassVar[frozenset[Periodicity]]
    #: The contract profiles the plugin implements, e.g. ``("abiquo-4.7", "abiquo-6.0")``.
    contract_profiles: ClassVar[tuple[str, ...]]
    #: How many backup policies one VM may have (``None``: any). A backup system that
    #: keeps one job per VM (Veeam) declares 1; the platform then refuses a second
    #: policy with BC-27 before any plugin call.
    max_policies_per_vm: ClassVar[int | None]
    #: Whether the plugin replicates backups. ``False``: the platform refuses an
    #: on-demand backup with replication before any plugin call, and no rule expects it.
    supports_replication: ClassVar[bool]

    def validate_configuration(self) -> None:
        """Java ``validateConfiguration()``. Called once when a component loads the plugin.

        MUST raise :class:`ConfigurationError`, and nothing else, when a required
        property is missing or invalid; MUST return normally when the properties are complete.
        """
        ...

    def new_connection(self) -> Connection:
        """Build an unconnected :class:`Connection`; the platform connects it."""
        ...

    def apply_schedule(
        self, connection: Connection, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """Java ``applySchedule(c, vm, schedule)``: configure the backups of a VM just deployed.

        After it returns, the backup system MUST run backups at the schedule's times.
        Calling it again with the same arguments MUST change nothing.
        """
        ...

    def apply_new_schedule(
        self,
        connection: Connection,
        vm: VirtualMachineInfo,
        old_schedule: BackupSchedule,
        new_schedule: BackupSchedule,
    ) -> None:
        """Java ``applySchedule(c, vm, old, new)``: make a reconfiguration effective.

        Removed configurations MUST stop producing backups, added ones MUST start and
        changed ones MUST move to their new time.
        """
        ...

    def remove_schedule(self, connection: Connection, vm: VirtualMachineInfo) -> None:
        """Java ``removeSchedule(c, vm)``: the VM is about to be undeployed.

        No new scheduled backup MAY appear for the VM afterwards; earlier results MUST
        stay listable until they expire.
        """
        ...

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Java ``executeBackup``: start an on-demand backup now.

        MUST return a result for ``vm`` with a new non-empty provider id, state
        IN_PROGRESS or DONE and ``on_demand`` set; replication as asked, or raise
        ``UNSUPPORTED``.
        """
        ...

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Java ``executeRestore``: restore ``vm`` from the backup ``backup_id``.

        MUST raise a :class:`BackupPluginException` and change nothing when the backup
        is unknown, failed, expired or another VM's.
        """
        ...

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Java ``listResults``: the results the platform needs to hear about.

        MUST return every result created or turned final at or after ``last_check_date``
        (all of them when it is ``None``), and the current state of every id in
        ``in_progress_result_provider_ids`` (UNKNOWN if the backup system lost it). A
        restore id is answered with its parent backup. A backup-system failure MUST raise,
        never return an empty list.
        """
        ...

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Java ``getExpiredResults``: which of ``provider_ids`` are really expired.

        MUST return a subset of ``provider_ids`` without duplicates; an id once reported
        stays expired.
        """
        ...

    # -- abiquo-4.7 and abiquo-6.0: per-id polling, run by the API ---------------------

    def list_new_backup_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[BackupResult]:
        """Java ``listNewBackupResults(c, Optional<ZonedDateTime> start)`` (4.7, 6.0).

        ``start_date`` is the creation date of the newest backup result the platform
        holds, ``None`` when it holds none. MUST return at least every backup result
        created at or after ``start_date`` (all of them when it is ``None``); repeats are
        harmless, the platform upserts by provider id. MAY leave out older ones: that is
        what the parameter is for. A backup-system failure MUST raise, never return an
        empty list.
        """
        ...

    def list_new_restore_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[RestoreResult]:
        """Java ``listNewRestoreResults(c, Optional<ZonedDateTime> start)`` (4.7, 6.0).

        The same as :meth:`list_new_backup_results` for restores: MUST return every
        restore result created at or after ``start_date`` (all when ``None``).
        """
        ...

    def get_backup_result(self, connection: Connection, backup_id: str) -> BackupResult | None:
        """Java ``getBackupResult(c, backupId)`` (4.7, 6.0): the current state of one backup.

        MUST return the result whose ``provider_id`` is ``backup_id``, never another
        id's, and ``None`` only when the backup system does not know the id (the
        platform then keeps it as UNKNOWN and asks again). A backup-system failure MUST
        raise, never answer ``None``.
        """
        ...

    def get_restore_result(self, connection: Connection, restore_id: str) -> RestoreResult | None:
        """Java ``getRestoreResult(c, restoreId)`` (4.7, 6.0): the current state of one restore.

        As :meth:`get_backup_result`, for a restore id.
        """
        ...

    def is_backup_expired(self, connection: Connection, backup_id: str) -> bool:
        """Java ``isBackupExpired(c, backupId)`` (4.7, 6.0).

        MUST be ``True`` once the backup system has removed the backup, and MUST NOT be
        while the backup can still be restored; once ``True`` it stays ``True``. A
        backup-system failure MUST raise, never answer ``False``.
        """
        ...

    # -- abiquo-6.0: backup-policy synchronisation -------------------------------------

    def list_virtual_machines_in_backup_policy(
        self, connection: Connection, policy_code: str
    ) -> frozenset[str]:
        """Java ``listVirtualMachinesInBackupPolicy(c, policyCode)`` (6.0).

        MUST return the uuids of exactly the VMs the backup system protects with the
        policy ``policy_code`` now: those the platform configured, plus the changes an
        administrator made in the backup system directly. A backup-system failure MUST
        raise, never answer an empty set.
        """
        ...


class BackupPluginBase:
    """A convenience base class with the contract's defaults.

    Subclasses set ``metadata`` and ``connection_metadata``, list the properties they
    need in ``required_properties`` and implement the operations. The defaults:

    - nothing unsupported, every backup type and periodicity supported, any number of
      policies per VM (``max_policies_per_vm = None``), replication offered
      (``supports_replication = True``);
    - ``contract_profiles`` is ``("abiquo-4.0.4",)``: a plugin of a later generation
      declares its own;
    - ``validate_configuration`` raises :class:`ConfigurationError` naming every
      property of ``required_properties`` that is missing or blank;
    - every operation raises ``UNSUPPORTED``, so a subclass that leaves one out and
      declares it in ``unsupported_operations`` is honest by default.
    """

    metadata: ClassVar[PluginMetadata]
    connection_metadata: ClassVar[ConnectionMetadata] = ConnectionMetadata()
    unsupported_operations: ClassVar[frozenset[Operation]] = frozenset()
    supported_backup_types: ClassVar[frozenset[BackupType]] = ALL_BACKUP_TYPES
    supported_periodicities: ClassVar[frozenset[Periodicity]] = ALL_PERIODICITIES
    contract_profiles: ClassVar[tuple[str, ...]] = DEFAULT_CONTRACT_PROFILES
    #: How many backup policies one VM may have; ``None``: any (see :class:`BackupPlugin`).
    max_policies_per_vm: ClassVar[int | None] = None
    #: Whether on-demand backups with replication are offered (see :class:`BackupPlugin`).
    supports_replication: ClassVar[bool] = True
    required_properties: ClassVar[tuple[str, ...]] = ()

    def __init__(self, context: PluginContext) -> None:
        self.context = context

    def now(self) -> datetime:
        """The current simulated instant (``context.clock.now()``)."""
        return self.context.clock.now()

    def validate_configuration(self) -> None:
        """Raise :class:`ConfigurationError` if a required property is missing or blank."""
        missing = [
            name for name in self.required_properties if not self.context.properties.get(name)
        ]
        if missing:
            raise ConfigurationError(f"missing required properties: {', '.join(missing)}")

    def new_connection(self) -> Connection:
        """Subclasses MUST override this to build their connection class."""
        raise NotImplementedError(f"{type(self).__name__} must implement new_connection()")

    def _unsupported(self, op: Operation) -> BackupPluginException:
        return BackupPluginException(
            BackupPluginError.UNSUPPORTED, f"{type(self).__name__} does not support {op.value}"
        )

    def apply_schedule(
        self, connection: Connection, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """Raise ``UNSUPPORTED`` unless overridden."""
        raise self._unsupported(Operation.APPLY_SCHEDULE)

    def apply_new_schedule(
        self,
        connection: Connection,
        vm: VirtualMachineInfo,
        old_schedule: BackupSchedule,
        new_schedule: BackupSchedule,
    ) -> None:
        """Raise ``UNSUPPORTED`` unless overridden."""
        raise self._unsupported(Operation.APPLY_NEW_SCHEDULE)

    def remove_schedule(self, connection: Connection, vm: VirtualMachineInfo) -> None:
        """Raise ``UNSUPPORTED`` unless overridden."""
        raise self._unsupported(Operation.REMOVE_SCHEDULE)

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """Raise ``UNSUPPORTED`` unless overridden."""
        raise self._unsupported(Operation.EXECUTE_BACKUP)

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """Raise ``UNSUPPORTED`` unless overridden."""
        raise self._unsupported(Operation.EXECUTE_RESTORE)

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Raise ``UNSUPPORTED`` unless overridden."""
        raise self._unsupported(Operation.LIST_RESULTS)

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Raise ``UNSUPPORTED`` unless overridden."""
        raise self._unsupported(Operation.GET_EXPIRED_RESULTS)

    def list_new_backup_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[BackupResult]:
        """Raise ``UNSUPPORTED`` unless overridden."""
        raise self._unsupported(Operation.LIST_NEW_BACKUP_RESULTS)

    def list_new_restore_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[RestoreResult]:
        """Raise ``UNSUPPORTED`` unless overridden."""
        raise self._unsupported(Operation.LIST_NEW_RESTORE_RESULTS)

    def get_backup_result(self, connection: Connection, backup_id: str) -> BackupResult | None:
        """Raise ``UNSUPPORTED`` unless overridden."""
        raise self._unsupported(Operation.GET_BACKUP_RESULT)

    def get_restore_result(self, connection: Connection, restore_id: str) -> RestoreResult | None:
        """Raise ``UNSUPPORTED`` unless overridden."""
        raise self._unsupported(Operation.GET_RESTORE_RESULT)

    def is_backup_expired(self, connection: Connection, backup_id: str) -> bool:
        """Raise ``UNSUPPORTED`` unless overridden."""
        raise self._unsupported(Operation.IS_BACKUP_EXPIRED)

    def list_virtual_machines_in_backup_policy(
        self, connection: Connection, policy_code: str
    ) -> frozenset[str]:
        """Raise ``UNSUPPORTED`` unless overridden."""
        raise self._unsupported(Operation.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY)
