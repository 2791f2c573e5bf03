"""Serve a Python plugin class over the JSON-RPC plugin protocol on stdio.

Usage::

    python -m simulator.bridge.server module:Class

This is how the harness isolates a Python plugin (``--isolation process``): the class
runs in this process, the harness talks to it through :mod:`simulator.bridge.process`, and
a hang or a crash of the plugin cannot take the harness down. The server:

- builds the instance on ``initialize`` with a :class:`~simulator.contract.PluginContext`
  whose clock returns the ``now`` of the request being served, so the plugin follows
  simulated time;
- turns the exceptions the plugin raises into the protocol's error objects
  (``BackupPluginException``, ``ConfigurationError``, ``PluginConnectionError``, or any
  other class name, which the harness reports as foreign);
- routes :func:`simulator.backend.backup_system.connect` to the harness: inside this process it
  returns a :class:`RemoteBackupSession` whose every call is a ``backend/*`` request
  answered by the harness's fake backup system ("the harness plays the network");
- keeps the protocol channel clean: the real stdout is reserved for protocol lines and
  everything the plugin prints (``print``, C extensions writing to fd 1) goes to stderr.
- accepts a call cycle sent at once (bpcert's own extension, see
  ``ProcessPlugin.plan_cycle``): requests read while a ``backend/*`` answer is awaited
  are served next, and ``"@<id>"`` names the connection the connect ``<id>`` opened.

Exit status: 0 after ``shutdown`` or when stdin closes, 2 when the plugin class cannot
be loaded (the reason is on stderr).
"""

from __future__ import annotations

import importlib
import itertools
import os
import sys
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import IO, Any

from pydantic import BaseModel

from simulator.bridge.protocol import (
    BACKEND_ERROR_KINDS,
    MAX_LINE_BYTES,
    ApplyNewScheduleParams,
    BackendMethod,
    ConnectParams,
    DisconnectParams,
    ErrorCode,
    ErrorObject,
    ExecuteBackupParams,
    ExecuteRestoreParams,
    GetExpiredResultsParams,
    HarnessMethod,
    InitializeParams,
    JobRecord,
    ListResultsParams,
    ProtocolViolation,
    RemoveScheduleParams,
    Request,
    Response,
    ScheduleParams,
    WireError,
    decode_message,
    describe_plugin_class,
    dump_model,
    encode_error,
    encode_request,
    encode_result,
    exception_to_error,
    instant_to_wire,
    load_model,
    load_trusted,
    params_model_for,
)
from simulator.contract import (
    BackupConfiguration,
    BackupPolicy,
    BackupResult,
    BackupType,
    Connection,
    Operation,
    Periodicity,
    PluginContext,
    RestoreResult,
    VirtualMachineInfo,
)

__all__ = ["PluginServer", "RemoteBackupSession", "RequestClock", "load_class", "main"]


class RequestClock:
    """The plugin's clock: the ``now`` of the request being served."""

    def __init__(self) -> None:
        self.current: datetime | None = None

    def now(self) -> datetime:
        """The simulated instant of the current request."""
        if self.current is None:
            raise RuntimeError("no request is being served yet, so there is no current instant")
        return self.current


class _Fail(Exception):
    """Answer the current request with this error object."""

    def __init__(self, error: ErrorObject) -> None:
        super().__init__(error.message)
        self.error = error


class _HarnessGone(BaseException):
    """The harness closed stdin while a backend request was pending: end the process
    (a ``BaseException``, so that a plugin's ``except Exception`` does not swallow it)."""


def _fail(code: ErrorCode, message: str) -> _Fail:
    return _Fail(ErrorObject(code.value, message))


def _to_json(value: Any) -> Any:
    """The JSON of whatever the plugin returned, faithfully enough for the harness to judge.

    Models become their wire JSON and containers are walked; a value with no JSON form
    travels as its ``repr``, so that the harness reports the wrong type.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, BaseModel):
        return dump_model(value)
    if isinstance(value, Enum):
        return _to_json(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, set | frozenset):
        return [_to_json(v) for v in sorted(value, key=repr)]
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    return repr(value)


class PluginServer:
    """Answers the harness's requests with one plugin class, line by line."""

    def __init__(self, plugin_class: type[Any] | None, reader: IO[bytes], writer: IO[bytes]):
        self.plugin_class = plugin_class
        self.reader = reader
        self.writer = writer
        self.clock = RequestClock()
        self.instance: Any = None
        self.connections: dict[str, Connection] = {}
        self._connection_numbers = itertools.count(1)
        self._backend_numbers = itertools.count(1)
        #: Lines the harness sent ahead, read while waiting for a backend answer.
        self._ahead: deque[bytes] = deque()
        #: The id of the last connect request that opened a connection, and that
        #: connection's id: ``"@<request id>"`` names it (the harness's call cycle).
        self._opened: tuple[str, str] | None = None
        self._request_id: Any = None

    # -- the loop -----------------------------------------------------------------------

    def serve(self) -> int:
        """Serve until ``shutdown`` or the end of stdin; return the exit status."""
        while True:
            line = (
                self._ahead.popleft() if self._ahead else self.reader.readline(MAX_LINE_BYTES + 1)
            )
            if not line:
                return 0
            try:
                message = decode_message(line)
            except ProtocolViolation as exc:
                _log(f"ignored a line from the harness: {exc}")
                self._write(encode_error(None, ErrorObject(exc.code, exc.detail)))
                continue
            if isinstance(message, Response):
                _log(f"ignored an unexpected response with id {message.id!r}")
                continue
            if message.id is None:
                _log(f"ignored notification {message.method!r}")
                continue
            self._request_id = message.id
            try:
                result = self._handle(message)
            except _Fail as failure:
                self._write(encode_error(message.id, failure.error))
            else:
                self._write(encode_result(message.id, result))
            if message.method == HarnessMethod.SHUTDOWN.value:
                return 0

    def _write(self, data: bytes) -> None:
        self.writer.write(data)
        self.writer.flush()

    # -- dispatch -----------------------------------------------------------------------

    def _params(self, request: Request) -> Any:
        model = params_model_for(request.method)
        if model is None:
            raise _fail(ErrorCode.METHOD_NOT_FOUND, f"unknown method {request.method!r}")
        try:
            params = load_model(model, request.params, "params")
        except WireError as exc:
            raise _fail(ErrorCode.INVALID_PARAMS, str(exc)) from None
        self.clock.current = params.now
        return params

    def _connection(self, connection_id: str) -> Connection:
        opened = self._opened
        if opened is not None and connection_id == f"@{opened[0]}":
            connection_id = opened[1]  # a request sent ahead, after its connect
        connection = self.connections.get(connection_id)
        if connection is None:
            raise _fail(ErrorCode.INVALID_PARAMS, f"no open connection {connection_id!r}")
        return connection

    def _handle(self, request: Request) -> Any:
        params = self._params(request)
        method = request.method
        if method == HarnessMethod.SHUTDOWN.value:
            return None
        if method == HarnessMethod.INITIALIZE.value:
            return self._initialize(params)
        if self.instance is None:
            raise _fail(ErrorCode.INVALID_REQUEST, f"{method} before initialize")
        try:
            return self._call(method, params)
        except (_Fail, _HarnessGone):
            raise
        except BaseException as exc:  # noqa: BLE001 - any plugin exception is reported on the wire
            # KeyboardInterrupt and SystemExit too: raised by the plugin (no signal reaches
            # this process, which runs in a session of its own), they are its answer, a
            # foreign exception, as they are in process.
            raise _Fail(exception_to_error(exc)) from None

    def _initialize(self, params: InitializeParams) -> Any:
        if self.instance is not None:
            raise _fail(ErrorCode.INVALID_REQUEST, "initialize was already called")
        cls = self.plugin_class
        if cls is None:
            raise _fail(ErrorCode.INTERNAL_ERROR, "no plugin class to serve")
        context = PluginContext(
            clock=self.clock,
            properties=dict(params.properties),
            component=params.component,
            profile=params.profile,
        )
        try:
            self.instance = cls(context)
            return describe_plugin_class(cls)
        except _HarnessGone:
            raise
        except BaseException as exc:  # noqa: BLE001 - any plugin exception is reported on the wire
            self.instance = None
            raise _Fail(exception_to_error(exc)) from None

    def _call(self, method: str, params: Any) -> Any:
        """Run one method on the instance. Methods that return nothing in Python answer
        null whatever they returned, as the platform ignores that value in process too.
        """
        plugin = self.instance
        if method == HarnessMethod.VALIDATE_CONFIGURATION.value:
            plugin.validate_configuration()
            return None
        if isinstance(params, ConnectParams):
            connection = plugin.new_connection()
            connection.connect(params.connection_data.to_contract())
            connection_id = f"c{next(self._connection_numbers)}"
            self.connections[connection_id] = connection
            self._opened = (str(self._request_id), connection_id)
            return connection_id
        if isinstance(params, DisconnectParams):
            connection = self._connection(params.connection)
            self.connections = {k: v for k, v in self.connections.items() if v is not connection}
            connection.disconnect()
            return None
        connection = self._connection(params.connection)
        if isinstance(params, ScheduleParams):
            plugin.apply_schedule(connection, params.vm, params.schedule)
            return None
        if isinstance(params, ApplyNewScheduleParams):
            plugin.apply_new_schedule(
                connection, params.vm, params.old_schedule, params.new_schedule
            )
            return None
        if isinstance(params, RemoveScheduleParams):
            plugin.remove_schedule(connection, params.vm)
            return None
        if isinstance(params, ExecuteBackupParams):
            return _to_json(plugin.execute_backup(connection, params.vm, params.options))
        if isinstance(params, ExecuteRestoreParams):
            return _to_json(plugin.execute_restore(connection, params.vm, params.backup_id))
        if isinstance(params, ListResultsParams):
            ids = frozenset(params.in_progress_result_provider_ids)
            return _to_json(plugin.list_results(connection, params.last_check_date, ids))
        if isinstance(params, GetExpiredResultsParams):
            return _to_json(plugin.get_expired_results(connection, list(params.provider_ids)))
        return self._call_per_id(method, params, connection)

    def _call_per_id(self, method: str, params: Any, connection: Connection) -> Any:
        """The methods of ``abiquo-4.7`` and ``abiquo-6.0``, by name (two pairs share params)."""
        plugin = self.instance
        if method == Operation.LIST_NEW_BACKUP_RESULTS.value:
            return _to_json(plugin.list_new_backup_results(connection, params.start_date))
        if method == Operation.LIST_NEW_RESTORE_RESULTS.value:
            return _to_json(plugin.list_new_restore_results(connection, params.start_date))
        if method == Operation.GET_BACKUP_RESULT.value:
            return _to_json(plugin.get_backup_result(connection, params.backup_id))
        if method == Operation.GET_RESTORE_RESULT.value:
            return _to_json(plugin.get_restore_result(connection, params.restore_id))
        if method == Operation.IS_BACKUP_EXPIRED.value:
            return _to_json(plugin.is_backup_expired(connection, params.backup_id))
        if method == Operation.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY.value:
            vms = plugin.list_virtual_machines_in_backup_policy(connection, params.policy_code)
            return _to_json(vms)
        raise _fail(ErrorCode.METHOD_NOT_FOUND, f"unknown method {method!r}")

    # -- backend requests (plugin -> harness) -------------------------------------------

    def call_backend(self, method: BackendMethod, params: dict[str, Any]) -> Any:
        """Send one ``backend/*`` request and wait for its answer.

        Raises :class:`~simulator.backend.backup_system.BackupSystemError` with the kind the
        harness answered. The harness sends nothing else while it waits for the answer
        to its own request, so any other line is logged and skipped.
        """
        from simulator.backend.backup_system import BackupSystemError

        request_id = f"b{next(self._backend_numbers)}"
        self._write(encode_request(request_id, method.value, params))
        while True:
            line = self.reader.readline(MAX_LINE_BYTES + 1)
            if not line:
                _log(f"the harness closed stdin while {method.value} was pending")
                raise _HarnessGone
            try:
                message = decode_message(line)
            except ProtocolViolation as exc:
                _log(f"ignored a line from the harness: {exc}")
                continue
            if isinstance(message, Request):
                self._ahead.append(line)  # sent ahead by the harness: served next, in order
                continue
            if not isinstance(message, Response) or message.id != request_id:
                _log(f"ignored {message!r} while waiting for the answer to {method.value}")
                continue
            if message.error is None:
                return message.result
            data = message.error.data if isinstance(message.error.data, dict) else {}
            kind = data.get("kind")
            text = str(data.get("message", message.error.message))
            if kind not in BACKEND_ERROR_KINDS:
                raise BackupSystemError("invalid", f"{kind}: {text}")
            raise BackupSystemError(kind, text)


def _log(text: str) -> None:
    sys.stderr.write(f"rpc_server: {text}\n")
    sys.stderr.flush()


# -------------------------------------------------------------- the remote backend


def _backup_record(result: BackupResult) -> Any:
    """A ``BackupRecord`` from a validated :class:`BackupResult` (the same fields)."""
    from simulator.backend.backup_system import BackupRecord

    restores = tuple(_restore_from_model(r) for r in result.restores)
    return BackupRecord(**(dict(result) | {"restores": restores}))


def _restore_record(value: Any) -> Any:
    """A ``RestoreRecord`` from the wire JSON of a :class:`RestoreResult`."""
    return _restore_from_model(_load(RestoreResult, value))


def _restore_from_model(result: RestoreResult) -> Any:
    from simulator.backend.backup_system import RestoreRecord

    return RestoreRecord(**dict(result))


def _job_view(job: JobRecord) -> Any:
    """A ``JobView`` from a validated :class:`JobRecord`."""
    from simulator.backend.backup_system import JobView

    return JobView(job.vm_uuid, job.policy_code, job.configuration, job.replication)


def _load(annotation: Any, value: Any) -> Any:
    """Validate a backend answer (a whole list at once: polls may carry many records)."""
    try:
        return load_trusted(annotation, value, "backend result")
    except WireError as exc:
        from simulator.backend.backup_system import BackupSystemError

        raise BackupSystemError("invalid", f"the harness answered badly: {exc}") from None


class RemoteBackupSession:
    """A :class:`simulator.backend.backup_system.BackupSession` whose calls go to the harness.

    Same methods, same return types, same :class:`BackupSystemError` kinds; each call is
    one ``backend/*`` request over the protocol channel.
    """

    def __init__(self, server: PluginServer, session_id: str) -> None:
        self._server = server
        self.session_id = session_id
        self._closed = False

    def __repr__(self) -> str:
        return f"RemoteBackupSession({self.session_id!r})"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def _call(self, method: BackendMethod, **params: Any) -> Any:
        return self._server.call_backend(method, {"session": self.session_id, **params})

    def close(self) -> None:
        """End the session (idempotent)."""
        if not self._closed:
            self._closed = True
            self._call(BackendMethod.CLOSE_SESSION)

    def put_job(
        self, vm: VirtualMachineInfo, policy: BackupPolicy, configuration: BackupConfiguration
    ) -> str:
        """See ``BackupSession.put_job``."""
        result = self._call(
            BackendMethod.PUT_JOB,
            vm=dump_model(vm),
            policy=dump_model(policy),
            configuration=dump_model(configuration),
        )
        return str(result)

    def delete_job(
        self, vm_uuid: str, policy_code: str, type: BackupType, subtype: Periodicity
    ) -> bool:
        """See ``BackupSession.delete_job``."""
        result = self._call(
            BackendMethod.DELETE_JOB,
            vm_uuid=vm_uuid,
            policy_code=policy_code,
            type=BackupType(type).value,
            subtype=Periodicity(subtype).value,
        )
        return bool(result)

    def delete_jobs(self, vm_uuid: str) -> int:
        """See ``BackupSession.delete_jobs``."""
        count: int = _load(int, self._call(BackendMethod.DELETE_JOBS, vm_uuid=vm_uuid))
        return count

    def jobs(self, vm_uuid: str) -> list[Any]:
        """See ``BackupSession.jobs``."""
        found = self._call(BackendMethod.JOBS, vm_uuid=vm_uuid)
        return [_job_view(j) for j in _load(list[JobRecord], found)]

    def start_backup(self, vm: VirtualMachineInfo, *, replication: bool) -> Any:
        """See ``BackupSession.start_backup``."""
        found = self._call(BackendMethod.START_BACKUP, vm=dump_model(vm), replication=replication)
        return _backup_record(_load(BackupResult, found))

    def start_restore(self, vm_uuid: str, backup_id: str) -> Any:
        """See ``BackupSession.start_restore``."""
        return _restore_record(
            self._call(BackendMethod.START_RESTORE, vm_uuid=vm_uuid, backup_id=backup_id)
        )

    def changed_since(self, since: datetime | None) -> list[Any]:
        """See ``BackupSession.changed_since``."""
        wire = None if since is None else instant_to_wire(since)
        found = self._call(BackendMethod.CHANGED_SINCE, since=wire)
        return [_backup_record(r) for r in _load(list[BackupResult], found)]

    def restores_since(self, since: datetime | None) -> list[Any]:
        """See ``BackupSession.restores_since``: over the wire, the restores inside the
        backups of :meth:`changed_since` (the protocol has no restore index)."""
        return [
            restore
            for record in self.changed_since(since)
            for restore in record.restores
            if since is None or restore.creation_date >= since
        ]

    def get(self, ids: Iterable[str]) -> dict[str, Any]:
        """See ``BackupSession.get``."""
        found = self._call(BackendMethod.GET, ids=list(ids))
        return {k: _backup_record(v) for k, v in _load(dict[str, BackupResult], found).items()}

    def expired(self, ids: Iterable[str]) -> list[str]:
        """See ``BackupSession.expired``."""
        found = self._call(BackendMethod.EXPIRED, ids=list(ids))
        result: list[str] = _load(list[str], found)
        return result

    def policy_vms(self, policy_code: str) -> list[str]:
        """See ``BackupSession.policy_vms``."""
        found = self._call(BackendMethod.POLICY_VMS, policy_code=policy_code)
        result: list[str] = _load(list[str], found)
        return result


def _remote_connector(server: PluginServer) -> Any:
    def connect(endpoint: str | None, user: str | None, password: str | None) -> Any:
        """Open a session with the harness's backup system at ``endpoint``."""
        result = server.call_backend(
            BackendMethod.OPEN_SESSION, {"endpoint": endpoint, "user": user, "password": password}
        )
        session_id = result.get("session") if isinstance(result, dict) else None
        if not isinstance(session_id, str):
            from simulator.backend.backup_system import BackupSystemError

            raise BackupSystemError("invalid", f"the harness answered {result!r}, no session id")
        return RemoteBackupSession(server, session_id)

    return connect


def install_remote_backend(server: PluginServer) -> None:
    """Route :func:`simulator.backend.backup_system.connect` to the harness, in this process only.

    Must run before the plugin's module is imported, in case it imports ``connect``
    by name.
    """
    from simulator.backend import backup_system

    backup_system.connect = _remote_connector(server)


# -------------------------------------------------------------------------- main


def load_class(spec: str) -> type[Any]:
    """Import ``module:Class`` (``Class`` may be dotted); ``ValueError`` says what failed."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"expected module:Class, got {spec!r}")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise ValueError(f"{spec!r} is a {type(obj).__name__}, not a class")
    return obj


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m simulator.bridge.server module:Class``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        sys.stderr.write(
            "usage: python -m simulator.bridge.server module:Class\n"
            "Serves the plugin class over the JSON-RPC protocol of docs/protocol.md on stdio.\n"
        )
        return 2
    server = PluginServer(None, sys.stdin.buffer, sys.stdout.buffer)
    install_remote_backend(server)
    try:
        server.plugin_class = load_class(args[0])
    except Exception as exc:  # noqa: BLE001 - the server must answer, whatever failed
        _log(f"cannot load plugin class {args[0]!r}: {type(exc).__name__}: {exc}")
        return 2
    return serve_stdio(server)


def serve_stdio(server: PluginServer) -> int:
    """Serve on stdin and stdout, the plugin's own output sent to stderr (also each
    child of the fork server, :mod:`simulator.bridge.zygote`, which loaded the class)."""
    # Keep the protocol channel for protocol lines: the plugin's prints go to stderr.
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    server.reader = sys.stdin.buffer
    server.writer = channel
    try:
        return server.serve()
    except _HarnessGone:
        return 0
    finally:
        channel.close()


if __name__ == "__main__":
    raise SystemExit(main())
