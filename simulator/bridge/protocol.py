"""The JSON-RPC 2.0 plugin protocol: the methods the harness calls and their schemas.

Both ends use this module: the harness side (:mod:`simulator.bridge.process`) and the
Python plugin server (:mod:`simulator.bridge.server`). ``docs/protocol.md`` is the
normative description, written so that a plugin can be implemented in any language
from it alone; this module and the two it re-exports are its executable form.

In short:

- one JSON object per line (UTF-8, ``\\n``-terminated) on the plugin's stdin
  (harness -> plugin) and stdout (plugin -> harness); stderr is free-form logging;
- the harness calls ``initialize``, ``validateConfiguration``, ``connect``,
  ``disconnect``, the operations of the run's contract profile by their Java names, and
  ``shutdown``; every request carries the simulated instant in ``params.now``;
- while handling a request, the plugin may call the harness back with ``backend/*``
  requests to use the simulated backup system ("the harness plays the network");
- contract exceptions travel as JSON-RPC errors whose ``data.exception`` names them.

Models travel as the JSON of the pydantic models of :mod:`simulator.contract`
(snake_case fields, ISO-8601 instants with an offset, enums by name). Everything a
plugin sends back is validated strictly, the way JSON is: ``"3"`` is not an integer
and an instant without an offset is not an instant.

Where each part lives (every name is importable from here):

- framing and wire values: :mod:`simulator.bridge.jsonrpc`;
- harness -> plugin: the methods, their params and result types, how a plugin's
  exception travels, and the ``initialize`` answer of a Python class: this module;
- plugin -> harness, ``backend/*``: :mod:`simulator.bridge.backend_methods`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from simulator.bridge.backend_methods import (
    BACKEND_ERROR_KINDS,
    BACKEND_RESULT_TYPES,
    BackendMethod,
    ChangedSinceParams,
    DeleteJobParams,
    IdsParams,
    JobRecord,
    OpenSessionParams,
    PolicyParams,
    PutJobParams,
    SessionParams,
    StartBackupParams,
    StartRestoreParams,
    VmParams,
    backend_error,
    backend_params_model_for,
)
from simulator.bridge.jsonrpc import (
    JSONRPC_VERSION,
    MAX_LINE_BYTES,
    ErrorCode,
    ErrorObject,
    Message,
    ProtocolViolation,
    Request,
    RequestId,
    Response,
    WireError,
    _Params,
    decode_message,
    dump_model,
    encode_error,
    encode_request,
    encode_result,
    format_validation_error,
    instant_to_wire,
    load_model,
    load_trusted,
    load_value,
)
from simulator.contract import (
    ALL_BACKUP_TYPES,
    ALL_PERIODICITIES,
    BackupPluginException,
    BackupResult,
    BackupSchedule,
    BackupType,
    Component,
    ConfigurationError,
    ConnectionData,
    ConnectionMetadata,
    OnDemandBackupOptions,
    Operation,
    Periodicity,
    PluginConnectionError,
    PluginMetadata,
    RestoreResult,
    VirtualMachineInfo,
)
from simulator.profiles import PROFILE_IDS

__all__ = [
    "BACKEND_ERROR_KINDS",
    "BACKEND_RESULT_TYPES",
    "DEFAULT_PROFILE",
    "HARNESS_METHODS",
    "JSONRPC_VERSION",
    "MAX_LINE_BYTES",
    "PROFILES",
    "PROTOCOL_VERSION",
    "RESULT_TYPES",
    "ApplyNewScheduleParams",
    "BackendMethod",
    "BackupIdParams",
    "ChangedSinceParams",
    "ConnectParams",
    "DeleteJobParams",
    "DisconnectParams",
    "ErrorCode",
    "ErrorObject",
    "ExecuteBackupParams",
    "ExecuteRestoreParams",
    "GetExpiredResultsParams",
    "HarnessInfo",
    "HarnessMethod",
    "IdsParams",
    "InitializeParams",
    "InitializeResult",
    "JobRecord",
    "ListNewResultsParams",
    "ListResultsParams",
    "Message",
    "NowParams",
    "OpenSessionParams",
    "PolicyCodeParams",
    "PolicyParams",
    "ProtocolViolation",
    "PutJobParams",
    "RemoveScheduleParams",
    "Request",
    "RequestId",
    "Response",
    "RestoreIdParams",
    "ScheduleParams",
    "SessionParams",
    "StartBackupParams",
    "StartRestoreParams",
    "VmParams",
    "WireConnectionData",
    "WireError",
    "WireException",
    "backend_error",
    "backend_params_model_for",
    "decode_message",
    "describe_plugin_class",
    "dump_model",
    "encode_error",
    "encode_request",
    "encode_result",
    "exception_to_error",
    "format_validation_error",
    "instant_to_wire",
    "load_model",
    "load_trusted",
    "load_value",
    "params_model_for",
]

#: The version of this protocol, sent in ``initialize`` params and optionally echoed.
PROTOCOL_VERSION = "1"
#: The contract profile of a plugin whose ``initialize`` answer lists no ``profiles``.
DEFAULT_PROFILE = "abiquo-4.0.4"
#: The contract profiles this harness speaks, oldest first (``simulator.profiles``).
PROFILES: tuple[str, ...] = PROFILE_IDS


class HarnessMethod(StrEnum):
    """The lifecycle methods the harness calls besides the seven operations."""

    INITIALIZE = "initialize"
    VALIDATE_CONFIGURATION = "validateConfiguration"
    CONNECT = "connect"
    DISCONNECT = "disconnect"
    SHUTDOWN = "shutdown"


#: Every method a plugin must answer, in the order the docs list them.
HARNESS_METHODS: tuple[str, ...] = (
    HarnessMethod.INITIALIZE.value,
    HarnessMethod.VALIDATE_CONFIGURATION.value,
    HarnessMethod.CONNECT.value,
    HarnessMethod.DISCONNECT.value,
    *(op.value for op in Operation),
    HarnessMethod.SHUTDOWN.value,
)


class WireException(StrEnum):
    """The exception names ``error.data.exception`` may carry without being foreign."""

    BACKUP_PLUGIN_EXCEPTION = "BackupPluginException"
    CONFIGURATION_ERROR = "ConfigurationError"
    PLUGIN_CONNECTION_ERROR = "PluginConnectionError"


# ----------------------------------------------------------------- method schemas


class _HarnessParams(_Params):
    """Base of the params of every harness request: the simulated instant."""

    now: AwareDatetime


class HarnessInfo(_Params):
    """Who is calling: ``{"name": "bpcert", "version": "0.1.0"}``."""

    name: str
    version: str


class InitializeParams(_HarnessParams):
    """Params of ``initialize``."""

    protocol_version: str
    harness: HarnessInfo
    profile: str
    component: Component
    properties: dict[str, str] = Field(default_factory=dict)


class InitializeResult(BaseModel):
    """Result of ``initialize``: the plugin's class attributes.

    Strict about unknown members, so that a misspelt ``unsupportedOperations`` is an
    error rather than a plugin that silently supports everything.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metadata: PluginMetadata
    connection_metadata: ConnectionMetadata = ConnectionMetadata()
    unsupported_operations: tuple[Operation, ...] = ()
    supported_backup_types: tuple[BackupType, ...] | None = None
    supported_periodicities: tuple[Periodicity, ...] | None = None
    example_properties: dict[str, str] | None = None
    protocol_version: str | None = None
    profiles: tuple[str, ...] | None = None
    max_policies_per_vm: int | None = Field(default=None, ge=1)
    supports_replication: bool = True

    @field_validator("profiles")
    @classmethod
    def _known_unique_profiles(cls, profiles: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if profiles is None:
            return None
        if not profiles:
            raise ValueError('profiles is empty; list at least one, e.g. ["abiquo-6.0"]')
        unknown = [p for p in profiles if p not in PROFILES]
        if unknown:
            raise ValueError(
                f"unknown contract profile(s) {unknown}; the known ones are {list(PROFILES)}"
            )
        if len(set(profiles)) != len(profiles):
            raise ValueError(f"each profile may appear once, got {list(profiles)}")
        return profiles

    def contract_profiles(self) -> tuple[str, ...]:
        """The declared profiles, ``("abiquo-4.0.4",)`` when none are listed."""
        return self.profiles if self.profiles is not None else (DEFAULT_PROFILE,)

    def backup_types(self) -> frozenset[BackupType]:
        """The supported backup types, all of them when not declared."""
        if self.supported_backup_types is None:
            return ALL_BACKUP_TYPES
        return frozenset(self.supported_backup_types)

    def periodicities(self) -> frozenset[Periodicity]:
        """The supported periodicities, all of them when not declared."""
        if self.supported_periodicities is None:
            return ALL_PERIODICITIES
        return frozenset(self.supported_periodicities)


class NowParams(_HarnessParams):
    """Params of ``validateConfiguration`` and ``shutdown``: only the instant."""


class WireConnectionData(_Params):
    """``ConnectionData`` on the wire: the password in clear, as the plugin needs it."""

    endpoint: str | None = None
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_contract(cls, data: ConnectionData) -> WireConnectionData:
        """The wire form of a contract :class:`ConnectionData`."""
        password = data.password.get_secret_value() if data.password is not None else None
        return cls(endpoint=data.endpoint, user=data.user, password=password)

    def to_contract(self) -> ConnectionData:
        """The contract :class:`ConnectionData` (password as a ``SecretStr``)."""
        return ConnectionData.model_validate(
            {"endpoint": self.endpoint, "user": self.user, "password": self.password}
        )


class ConnectParams(_HarnessParams):
    """Params of ``connect``; the result is the new connection's id, a non-empty string."""

    connection_data: WireConnectionData


class DisconnectParams(_HarnessParams):
    """Params of ``disconnect``."""

    connection: str


class _OperationParams(_HarnessParams):
    connection: str


class ScheduleParams(_OperationParams):
    """Params of ``applySchedule``."""

    vm: VirtualMachineInfo
    schedule: BackupSchedule


class ApplyNewScheduleParams(_OperationParams):
    """Params of ``applyNewSchedule`` (Java's four-argument ``applySchedule``)."""

    vm: VirtualMachineInfo
    old_schedule: BackupSchedule
    new_schedule: BackupSchedule


class RemoveScheduleParams(_OperationParams):
    """Params of ``removeSchedule``."""

    vm: VirtualMachineInfo


class ExecuteBackupParams(_OperationParams):
    """Params of ``executeBackup``."""

    vm: VirtualMachineInfo
    options: OnDemandBackupOptions


class ExecuteRestoreParams(_OperationParams):
    """Params of ``executeRestore``."""

    vm: VirtualMachineInfo
    backup_id: str


class ListResultsParams(_OperationParams):
    """Params of ``listResults``; the ids are sent sorted."""

    last_check_date: AwareDatetime | None
    in_progress_result_provider_ids: tuple[str, ...]


class GetExpiredResultsParams(_OperationParams):
    """Params of ``getExpiredResults``."""

    provider_ids: tuple[str, ...]


class ListNewResultsParams(_OperationParams):
    """Params of ``listNewBackupResults`` and ``listNewRestoreResults`` (4.7, 6.0).

    ``start_date`` is Java's ``Optional<ZonedDateTime>``: an instant, or null when the
    platform holds no result yet.
    """

    start_date: AwareDatetime | None


class BackupIdParams(_OperationParams):
    """Params of ``getBackupResult`` and ``isBackupExpired`` (4.7, 6.0)."""

    backup_id: str


class RestoreIdParams(_OperationParams):
    """Params of ``getRestoreResult`` (4.7, 6.0)."""

    restore_id: str


class PolicyCodeParams(_OperationParams):
    """Params of ``listVirtualMachinesInBackupPolicy`` (6.0); the result is a JSON array
    of unique VM uuids."""

    policy_code: str


_PARAMS: dict[str, type[_HarnessParams]] = {
    HarnessMethod.INITIALIZE.value: InitializeParams,
    HarnessMethod.VALIDATE_CONFIGURATION.value: NowParams,
    HarnessMethod.CONNECT.value: ConnectParams,
    HarnessMethod.DISCONNECT.value: DisconnectParams,
    Operation.APPLY_SCHEDULE.value: ScheduleParams,
    Operation.APPLY_NEW_SCHEDULE.value: ApplyNewScheduleParams,
    Operation.REMOVE_SCHEDULE.value: RemoveScheduleParams,
    Operation.EXECUTE_BACKUP.value: ExecuteBackupParams,
    Operation.EXECUTE_RESTORE.value: ExecuteRestoreParams,
    Operation.LIST_RESULTS.value: ListResultsParams,
    Operation.GET_EXPIRED_RESULTS.value: GetExpiredResultsParams,
    Operation.IS_BACKUP_EXPIRED.value: BackupIdParams,
    Operation.GET_BACKUP_RESULT.value: BackupIdParams,
    Operation.GET_RESTORE_RESULT.value: RestoreIdParams,
    Operation.LIST_NEW_BACKUP_RESULTS.value: ListNewResultsParams,
    Operation.LIST_NEW_RESTORE_RESULTS.value: ListNewResultsParams,
    Operation.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY.value: PolicyCodeParams,
    HarnessMethod.SHUTDOWN.value: NowParams,
}

#: What each operation returns on the wire (``None``: JSON null).
RESULT_TYPES: dict[str, Any] = {
    Operation.APPLY_SCHEDULE.value: None,
    Operation.APPLY_NEW_SCHEDULE.value: None,
    Operation.REMOVE_SCHEDULE.value: None,
    Operation.EXECUTE_BACKUP.value: BackupResult,
    Operation.EXECUTE_RESTORE.value: RestoreResult,
    Operation.LIST_RESULTS.value: list[BackupResult],
    Operation.GET_EXPIRED_RESULTS.value: list[str],
    Operation.IS_BACKUP_EXPIRED.value: bool,
    Operation.GET_BACKUP_RESULT.value: BackupResult | None,
    Operation.GET_RESTORE_RESULT.value: RestoreResult | None,
    Operation.LIST_NEW_BACKUP_RESULTS.value: list[BackupResult],
    Operation.LIST_NEW_RESTORE_RESULTS.value: list[RestoreResult],
    # A set in Java: the harness also checks the uuids are unique.
    Operation.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY.value: list[str],
}


def params_model_for(method: str) -> type[_HarnessParams] | None:
    """The params schema of a harness method, ``None`` for an unknown method."""
    return _PARAMS.get(method)


# ------------------------------------------------------------------ plugin errors


def exception_to_error(exc: BaseException) -> ErrorObject:
    """The error object a plugin sends for an exception its method raised.

    Contract exceptions keep their name; anything else travels under its own class
    name, which the harness reports as a foreign exception.
    """
    if isinstance(exc, PluginConnectionError):
        data = {
            "exception": WireException.PLUGIN_CONNECTION_ERROR.value,
            "code": exc.error.value,
            "message": exc.message,
        }
    elif isinstance(exc, BackupPluginException):
        data = {
            "exception": WireException.BACKUP_PLUGIN_EXCEPTION.value,
            "code": exc.error.value,
            "message": exc.message,
        }
    elif isinstance(exc, ConfigurationError):
        data = {"exception": WireException.CONFIGURATION_ERROR.value, "message": str(exc)}
    else:
        data = {"exception": type(exc).__name__, "message": str(exc)}
    return ErrorObject(
        ErrorCode.PLUGIN_EXCEPTION.value, f"{data['exception']}: {data['message']}", data
    )


# ------------------------------------------------------------ initialize helpers


def describe_plugin_class(cls: type[Any]) -> dict[str, Any]:
    """The ``initialize`` result for a Python plugin class (its class attributes)."""
    unsupported = sorted(op.value for op in getattr(cls, "unsupported_operations", frozenset()))
    out: dict[str, Any] = {
        "metadata": dump_model(cls.metadata),
        "connection_metadata": dump_model(
            getattr(cls, "connection_metadata", ConnectionMetadata())
        ),
        "unsupported_operations": unsupported,
        "protocol_version": PROTOCOL_VERSION,
        "profiles": list(getattr(cls, "contract_profiles", (DEFAULT_PROFILE,))),
        "max_policies_per_vm": getattr(cls, "max_policies_per_vm", None),
        "supports_replication": bool(getattr(cls, "supports_replication", True)),
    }
    order_types = [t.value for t in BackupType]
    order_periods = [p.value for p in Periodicity]
    types = getattr(cls, "supported_backup_types", None)
    if types is not None:
        out["supported_backup_types"] = sorted((t.value for t in types), key=order_types.index)
    periods = getattr(cls, "supported_periodicities", None)
    if periods is not None:
        out["supported_periodicities"] = sorted((p.value for p in periods), key=order_periods.index)
    example = getattr(cls, "example_properties", None)
    if isinstance(example, Mapping):
        out["example_properties"] = {str(k): str(v) for k, v in sorted(example.items())}
    return out
