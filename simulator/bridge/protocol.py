"""The JSON-RPC 2.0 plugin protocol: message framing, schemas and wire conversions.

Both ends use this module: the harness side (:mod:`simulator.bridge.process`) and the
Python plugin server (:mod:`simulator.bridge.server`). ``docs/protocol.md`` is the
normative description, written so that a plugin can be implemented in any language
from it alone; this module is its executable form.

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
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from simulator.contract import (
    ALL_BACKUP_TYPES,
    ALL_PERIODICITIES,
    BackupConfiguration,
    BackupPluginException,
    BackupPolicy,
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
#: The JSON-RPC version string every message carries.
JSONRPC_VERSION = "2.0"
#: The contract profile of a plugin whose ``initialize`` answer lists no ``profiles``.
DEFAULT_PROFILE = "abiquo-4.0.4"
#: The contract profiles this harness speaks, oldest first (``simulator.profiles``).
PROFILES: tuple[str, ...] = PROFILE_IDS
#: Longest line either side accepts; a longer one is a protocol violation.
MAX_LINE_BYTES = 64 * 1024 * 1024

#: A JSON-RPC request id: a string or an integer (never null, a bool or a fraction).
RequestId = int | str


class ErrorCode(IntEnum):
    """JSON-RPC error codes used by this protocol.

    The first five are JSON-RPC 2.0's own. ``PLUGIN_EXCEPTION`` carries an exception
    raised by the plugin (``data.exception`` names it); ``BACKEND_ERROR`` is the harness
    answering a failed ``backend/*`` request (``data.kind`` says why).
    """

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    PLUGIN_EXCEPTION = -32000
    BACKEND_ERROR = -32001


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


class WireError(ValueError):
    """A value on the wire does not match its schema; the message says where and why."""


class ProtocolViolation(ValueError):
    """A line that is not a valid JSON-RPC 2.0 message of this protocol.

    ``response_id`` is the id of a message that looks like a response (it has an
    ``id`` and no ``method``) but is malformed, so that the waiting side can tell a
    broken answer to its own request from stray output.
    """

    def __init__(
        self,
        detail: str,
        response_id: RequestId | None = None,
        code: int = -32600,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.response_id = response_id
        #: The JSON-RPC error code to answer such a line with (-32700: not JSON).
        self.code = code


# ------------------------------------------------------------------------ framing


@dataclass(frozen=True, slots=True)
class ErrorObject:
    """A JSON-RPC error object."""

    code: int
    message: str
    data: Any = None

    def to_json(self) -> dict[str, Any]:
        """The error as a JSON object (``data`` left out when ``None``)."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            out["data"] = self.data
        return out


@dataclass(frozen=True, slots=True)
class Request:
    """A JSON-RPC request (``id`` set) or notification (``id`` is ``None``)."""

    id: RequestId | None
    method: str
    params: Any


@dataclass(frozen=True, slots=True)
class Response:
    """A JSON-RPC response: exactly one of ``result`` and ``error`` is meaningful."""

    id: RequestId | None
    result: Any
    error: ErrorObject | None


Message = Request | Response


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _valid_id(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, str)


def _encode(message: dict[str, Any]) -> bytes:
    text = json.dumps(message, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.encode("ascii") + b"\n"


def encode_request(request_id: RequestId, method: str, params: Mapping[str, Any]) -> bytes:
    """One request line, ready to write."""
    return _encode(
        {"jsonrpc": JSONRPC_VERSION, "id": request_id, "method": method, "params": dict(params)}
    )


def encode_result(request_id: RequestId | None, result: Any) -> bytes:
    """One success-response line, ready to write (``result`` may be ``None``: JSON null)."""
    return _encode({"jsonrpc": JSONRPC_VERSION, "id": request_id, "result": result})


def encode_error(request_id: RequestId | None, error: ErrorObject) -> bytes:
    """One error-response line, ready to write."""
    return _encode({"jsonrpc": JSONRPC_VERSION, "id": request_id, "error": error.to_json()})


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def decode_message(line: bytes) -> Message:
    """Parse one line into a :class:`Request` or :class:`Response`.

    Raises :class:`ProtocolViolation` naming what is wrong when the line is not a single
    JSON-RPC 2.0 message (batches are not part of this protocol).
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolViolation(
            f"line is not valid UTF-8 ({exc.reason} at byte {exc.start})", code=-32700
        ) from None
    stripped = text.strip()
    if not stripped:
        raise ProtocolViolation("empty line; every line on stdout must be a JSON-RPC message")
    try:
        obj = json.loads(stripped, parse_constant=_reject_constant)
    except ValueError as exc:
        raise ProtocolViolation(f"not JSON ({exc})", code=-32700) from None
    if isinstance(obj, list):
        raise ProtocolViolation("JSON-RPC batches are not part of this protocol")
    if not isinstance(obj, dict):
        raise ProtocolViolation(f"a message is a JSON object, this is a JSON {_json_type(obj)}")
    is_response = "method" not in obj
    raw_id = obj.get("id")
    response_id = raw_id if is_response and _valid_id(raw_id) else None
    if obj.get("jsonrpc") != JSONRPC_VERSION:
        raise ProtocolViolation(
            f'not a JSON-RPC 2.0 message: "jsonrpc" must be "2.0", got '
            f"{json.dumps(obj.get('jsonrpc'))}",
            response_id,
        )
    if not is_response:
        method = obj["method"]
        if not isinstance(method, str) or not method:
            raise ProtocolViolation(f'"method" must be a non-empty string, got {method!r}')
        if "id" in obj and not _valid_id(raw_id):
            raise ProtocolViolation(f'request "id" must be a string or an integer, got {raw_id!r}')
        unknown = sorted(set(obj) - {"jsonrpc", "id", "method", "params"})
        if unknown:
            raise ProtocolViolation(f"request has unknown members {unknown}")
        params = obj.get("params")
        if params is not None and not isinstance(params, dict | list):
            raise ProtocolViolation(f'"params" must be an object or an array, got {params!r}')
        return Request(raw_id if "id" in obj else None, method, params)
    if "id" not in obj:
        raise ProtocolViolation('message has neither "method" nor "id"')
    if raw_id is not None and not _valid_id(raw_id):
        raise ProtocolViolation(
            f'response "id" must be a string, an integer or null, got {raw_id!r}'
        )
    unknown = sorted(set(obj) - {"jsonrpc", "id", "result", "error"})
    if unknown:
        raise ProtocolViolation(f"response has unknown members {unknown}", response_id)
    has_result, has_error = "result" in obj, "error" in obj
    if has_result == has_error:
        which = "both" if has_result else "neither"
        raise ProtocolViolation(
            f'a response must have exactly one of "result" and "error", this one has {which}',
            response_id,
        )
    if has_result:
        return Response(raw_id, obj["result"], None)
    err = obj["error"]
    if not isinstance(err, dict):
        raise ProtocolViolation(f'"error" must be an object, got {err!r}', response_id)
    code, message = err.get("code"), err.get("message")
    if not isinstance(code, int) or isinstance(code, bool):
        raise ProtocolViolation(f'"error.code" must be an integer, got {code!r}', response_id)
    if not isinstance(message, str):
        raise ProtocolViolation(f'"error.message" must be a string, got {message!r}', response_id)
    return Response(raw_id, None, ErrorObject(code, message, err.get("data")))


# ----------------------------------------------------------------- wire values


def instant_to_wire(instant: datetime) -> str:
    """An aware instant as ISO-8601 in UTC with a ``Z``, e.g. ``2026-01-05T10:00:00Z``."""
    offset = instant.utcoffset()
    if offset is None:
        raise ValueError(f"instants on the wire must be timezone-aware, got {instant!r}")
    # Hot at fleet scale (three instants per record): plain arithmetic, no astimezone.
    return (instant.replace(tzinfo=None) - offset).isoformat() + "Z"


def dump_model(model: BaseModel) -> Any:
    """The wire JSON of a contract model (enums by name, instants ISO-8601)."""
    return model.model_dump(mode="json")


def format_validation_error(error: ValidationError, where: str) -> str:
    """A one-line description of every problem in ``error``, located under ``where``."""
    parts = []
    for item in error.errors(include_url=False):
        loc = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in item["loc"])
        shown = _shorten(json.dumps(item.get("input"), default=str), 80)
        parts.append(f"{loc}: {item['msg']} (got {shown})")
    return "; ".join(parts)


M = TypeVar("M", bound=BaseModel)
_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def load_value(annotation: Any, value: Any, where: str) -> Any:
    """Validate a decoded JSON value against ``annotation`` the way JSON is typed.

    Strict: no string-to-number or number-to-string coercion, instants must carry an
    offset. Raises :class:`WireError` whose message locates every problem.
    """
    adapter = _ADAPTERS.get(annotation)
    if adapter is None:
        adapter = _ADAPTERS[annotation] = TypeAdapter(annotation)
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise WireError(f"{where}: not a JSON value ({exc})") from None
    try:
        return adapter.validate_json(text, strict=True)
    except ValidationError as exc:
        raise WireError(format_validation_error(exc, where)) from None


def load_trusted(annotation: Any, value: Any, where: str) -> Any:
    """Validate a decoded JSON value from the harness, which always sends well-typed JSON.

    Lax and without a second encoding pass, for the large answers of ``backend/*``
    polls; still raises :class:`WireError` on a mismatch.
    """
    adapter = _ADAPTERS.get(annotation)
    if adapter is None:
        adapter = _ADAPTERS[annotation] = TypeAdapter(annotation)
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise WireError(format_validation_error(exc, where)) from None


def load_model(model: type[M], value: Any, where: str) -> M:
    """Validate a decoded JSON value as ``model``; see :func:`load_value`."""
    if not isinstance(value, dict):
        raise WireError(
            f"{where}: expected a JSON object ({model.__name__}), got "
            f"{_json_type(value)} {_shorten(json.dumps(value, default=str), 80)}"
        )
    result: M = load_value(model, value, where)
    return result


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# ----------------------------------------------------------------- method schemas


class _Params(BaseModel):
    """Base of request params: unknown members are ignored, for forward compatibility."""

    model_config = ConfigDict(frozen=True, extra="ignore")


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


# --------------------------------------------------------- backend (plugin -> harness)


class BackendMethod(StrEnum):
    """The ``backend/*`` requests a plugin may send to use the simulated backup system.

    They mirror :class:`simulator.backend.backup_system.BackupSession` one to one.
    """

    OPEN_SESSION = "backend/openSession"
    CLOSE_SESSION = "backend/closeSession"
    PUT_JOB = "backend/putJob"
    DELETE_JOB = "backend/deleteJob"
    DELETE_JOBS = "backend/deleteJobs"
    JOBS = "backend/jobs"
    START_BACKUP = "backend/startBackup"
    START_RESTORE = "backend/startRestore"
    CHANGED_SINCE = "backend/changedSince"
    GET = "backend/get"
    EXPIRED = "backend/expired"
    POLICY_VMS = "backend/policyVms"


#: The ``data.kind`` values of a backend error (``BackupSystemError.kind``).
BACKEND_ERROR_KINDS: tuple[str, ...] = (
    "unreachable",
    "auth",
    "unavailable",
    "not_found",
    "not_restorable",
    "invalid",
)


class OpenSessionParams(_Params):
    """``backend/openSession``: like ``connect(endpoint, user, password)``; result
    ``{"session": "<id>"}``."""

    endpoint: str | None = None
    user: str | None = None
    password: str | None = None


class SessionParams(_Params):
    """``backend/closeSession``: result null, also for a session already closed."""

    session: str


class PutJobParams(SessionParams):
    """``backend/putJob``: result the job id (string)."""

    vm: VirtualMachineInfo
    policy: BackupPolicy
    configuration: BackupConfiguration


class DeleteJobParams(SessionParams):
    """``backend/deleteJob``: result ``true`` if the job existed."""

    vm_uuid: str
    policy_code: str
    type: BackupType
    subtype: Periodicity


class VmParams(SessionParams):
    """``backend/deleteJobs`` (result: how many, an integer) and ``backend/jobs``
    (result: the jobs)."""

    vm_uuid: str


class StartBackupParams(SessionParams):
    """``backend/startBackup``: result the new backup record."""

    vm: VirtualMachineInfo
    replication: bool = False


class StartRestoreParams(SessionParams):
    """``backend/startRestore``: result the new restore record."""

    vm_uuid: str
    backup_id: str


class ChangedSinceParams(SessionParams):
    """``backend/changedSince``: result the backup records, in creation order."""

    since: AwareDatetime | None = None


class IdsParams(SessionParams):
    """``backend/get`` (result: an object id -> record) and ``backend/expired``
    (result: the expired ids)."""

    ids: tuple[str, ...]


class PolicyParams(SessionParams):
    """``backend/policyVms``: result the uuids of the VMs the backup system protects with
    the policy ``policy_code`` (a job of that policy, or an administrator's change made
    in the backup system directly), sorted and unique."""

    policy_code: str


class JobRecord(BaseModel):
    """A job as ``backend/jobs`` lists it (``JobView``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    vm_uuid: str
    policy_code: str
    configuration: BackupConfiguration
    replication: bool


_BACKEND_PARAMS: dict[str, type[_Params]] = {
    BackendMethod.OPEN_SESSION.value: OpenSessionParams,
    BackendMethod.CLOSE_SESSION.value: SessionParams,
    BackendMethod.PUT_JOB.value: PutJobParams,
    BackendMethod.DELETE_JOB.value: DeleteJobParams,
    BackendMethod.DELETE_JOBS.value: VmParams,
    BackendMethod.JOBS.value: VmParams,
    BackendMethod.START_BACKUP.value: StartBackupParams,
    BackendMethod.START_RESTORE.value: StartRestoreParams,
    BackendMethod.CHANGED_SINCE.value: ChangedSinceParams,
    BackendMethod.GET.value: IdsParams,
    BackendMethod.EXPIRED.value: IdsParams,
    BackendMethod.POLICY_VMS.value: PolicyParams,
}

#: What each backend method returns on the wire.
BACKEND_RESULT_TYPES: dict[str, Any] = {
    BackendMethod.OPEN_SESSION.value: dict[str, str],
    BackendMethod.CLOSE_SESSION.value: None,
    BackendMethod.PUT_JOB.value: str,
    BackendMethod.DELETE_JOB.value: bool,
    BackendMethod.DELETE_JOBS.value: int,
    BackendMethod.JOBS.value: list[JobRecord],
    BackendMethod.START_BACKUP.value: BackupResult,
    BackendMethod.START_RESTORE.value: RestoreResult,
    BackendMethod.CHANGED_SINCE.value: list[BackupResult],
    BackendMethod.GET.value: dict[str, BackupResult],
    BackendMethod.EXPIRED.value: list[str],
    BackendMethod.POLICY_VMS.value: list[str],
}


def backend_params_model_for(method: str) -> type[_Params] | None:
    """The params schema of a ``backend/*`` method, ``None`` for an unknown method."""
    return _BACKEND_PARAMS.get(method)


def backend_error(
    kind: str, message: str, code: ErrorCode = ErrorCode.BACKEND_ERROR
) -> ErrorObject:
    """The error the harness answers a failed ``backend/*`` request with."""
    return ErrorObject(code.value, f"{kind}: {message}", {"kind": kind, "message": message})
