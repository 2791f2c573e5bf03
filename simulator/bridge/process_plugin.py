"""One plugin instance in its own process: the :class:`ProcessPlugin` call cycle.

:class:`ProcessPlugin` is the harness side of the JSON-RPC plugin protocol for one
instance: it starts its child (a fresh one, a forked one, or one from a
:class:`ChildSource`), sends ``initialize``, exchanges each contract call with it under
its deadline, serves the child's ``backend/*`` requests meanwhile, and replaces a
process that crashed or missed a deadline. The classes are built, and the behaviour
towards the plugin documented, in :mod:`simulator.bridge.process`, which re-exports
every public name here.

Kept whole: the module is one class, :class:`ProcessPlugin`, whose lifecycle (start,
initialize, restart), one call (request, answer, exchange, serve) and contract methods
share the same private state (the child, its generation, the requests sent ahead);
cutting the class apart would scatter that state over modules, and a reader follows a
call from the contract method down to the wire in one file.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import time
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from simulator.bridge.backend_service import (
    BackendService,
)
from simulator.bridge.child import ChildProcess, EndOfOutput, LineTooLong
from simulator.bridge.forkserver import (
    ForkServerUnavailable,
    give_up_fork_server,
    shared_fork_server,
)
from simulator.bridge.plugin_errors import plugin_error_to_exception
from simulator.bridge.protocol import (
    MAX_LINE_BYTES,
    PROTOCOL_VERSION,
    RESULT_TYPES,
    HarnessMethod,
    InitializeResult,
    ProtocolViolation,
    Request,
    Response,
    WireConnectionData,
    WireError,
    decode_message,
    dump_model,
    encode_request,
    instant_to_wire,
    load_model,
    load_value,
)
from simulator.contract import (
    BackupResult,
    BackupSchedule,
    BackupType,
    Connection,
    ConnectionData,
    ConnectionMetadata,
    OnDemandBackupOptions,
    Operation,
    Periodicity,
    PluginContext,
    PluginMetadata,
    RestoreResult,
    VirtualMachineInfo,
)
from simulator.faults import (
    CallDeadlineExceeded,
    HarnessPluginFault,
    PluginBadReturn,
    PluginProcessCrashed,
)

__all__ = [
    "HARNESS_NAME",
    "ChildSource",
    "ProcessConnection",
    "ProcessPlugin",
]

#: The harness name sent in ``initialize``.
HARNESS_NAME = "bpcert"
_HARNESS_VERSION = "0.1.0"
#: How long a child may take to exit after ``shutdown`` and the closing of its stdin.
_SHUTDOWN_GRACE_S = 2.0
#: Methods after whose failure no replacement process is started.
_NO_RESTART = frozenset({HarnessMethod.INITIALIZE.value, HarnessMethod.SHUTDOWN.value})


class ChildSource:
    """Where a :class:`ProcessPlugin` gets a process at each start, and where it goes at close.

    This one starts a new process every time and stops it after ``shutdown``. A transport
    whose processes can serve one instance after another (the JVM bridge's warm JVMs,
    :mod:`simulator.bridge.jvm`) hands out an idle one instead and takes it back when its
    ``shutdown`` answer says it can. A process that crashed or missed a deadline is killed,
    never given back.
    """

    def acquire(self, argv: tuple[str, ...], cwd: Path | None) -> ChildProcess:
        """A running process, not yet initialized, for a new instance."""
        return ChildProcess(argv, cwd)

    def release(self, child: ChildProcess, shutdown_answer: Any) -> None:
        """``child`` answered ``shutdown`` (``None`` when it did not): stop it."""
        child.stop(_SHUTDOWN_GRACE_S)


_NEW_PROCESSES = ChildSource()


# --------------------------------------------------------------------- the plugin


class ProcessConnection:
    """A connection of a :class:`ProcessPlugin`: ``connect``/``disconnect`` are RPCs.

    The plugin process returns an id on ``connect``; operations carry it. An id does
    not survive a restart of the process: disconnecting a connection opened in a
    process that has since been replaced is a no-op (the process and its sessions are
    gone).
    """

    def __init__(self, plugin: ProcessPlugin) -> None:
        self._plugin = plugin
        self.connection_id: str | None = None
        self.generation = -1

    def connect(self, data: ConnectionData) -> None:
        """Send ``connect``; raises :class:`PluginConnectionError` when the plugin does."""
        self.connection_id = None
        self.connection_id = self._plugin._connect(data, self)
        self.generation = self._plugin._generation

    def disconnect(self) -> None:
        """Send ``disconnect`` for an open connection of the current process."""
        connection_id, self.connection_id = self.connection_id, None
        if connection_id is None or self.generation != self._plugin._generation:
            return
        self._plugin._disconnect(connection_id)


class ProcessPlugin:
    """A plugin running in a child process, one process per instance.

    Built by :func:`process_plugin_class`, which fills the class attributes from the
    plugin's ``initialize`` answer. ``ProcessPlugin(context)`` starts the process and
    sends ``initialize`` with ``context.component``, ``context.properties`` and
    ``context.clock.now()``. Every method raises what the contract method would, or one
    of the :mod:`simulator.faults` when the process misbehaves. Call :meth:`close`
    when done (a finalizer and an ``atexit`` hook kill forgotten processes).
    """

    metadata: ClassVar[PluginMetadata]
    connection_metadata: ClassVar[ConnectionMetadata]
    unsupported_operations: ClassVar[frozenset[Operation]]
    contract_profiles: ClassVar[tuple[str, ...]]
    supported_backup_types: ClassVar[frozenset[BackupType]]
    supported_periodicities: ClassVar[frozenset[Periodicity]]
    max_policies_per_vm: ClassVar[int | None]
    supports_replication: ClassVar[bool]
    #: Tells the invoker that this transport enforces per-call deadlines itself.
    enforces_deadlines: ClassVar[bool] = True
    #: Whether a process that crashed or missed a deadline is replaced right away.
    restarts: ClassVar[bool] = True
    #: Where processes come from and go (:class:`ChildSource`).
    children: ClassVar[ChildSource] = _NEW_PROCESSES
    argv: ClassVar[tuple[str, ...]]
    label: ClassVar[str]
    call_timeout_s: ClassVar[float]
    start_timeout_s: ClassVar[float]
    cwd: ClassVar[Path | None]
    description: ClassVar[InitializeResult]
    #: The ``module:Class`` that ``argv`` serves, when instances may be forked from a
    #: fork server that imported it once (:class:`~simulator.bridge.forkserver.ForkServer`).
    fork_target: ClassVar[str | None] = None
    #: Whether the plugin process is bpcert's own server, which accepts a call cycle sent
    #: at once (see :meth:`plan_cycle`).
    pipelines: ClassVar[bool] = False

    def __init__(self, context: PluginContext) -> None:
        if type(self) is ProcessPlugin:
            raise TypeError("build process plugin classes with process_plugin_class(argv, ...)")
        self.context = context
        self._violations: list[str] = []
        self._child: ChildProcess | None = None
        self._backend: BackendService | None = None
        self._generation = 0
        self._closed = False
        #: The cycle the invoker announced (:meth:`plan_cycle`), until ``connect``.
        self._plan: tuple[Operation, tuple[Any, ...]] | None = None
        #: Requests sent ahead (id, method), answered in this order.
        self._pending: deque[tuple[int, str]] = deque()
        #: Ids of requests sent ahead whose answers nobody waits for any more.
        self._discard: set[int] = set()
        self._capturing = False
        self._start()

    # -- lifecycle --------------------------------------------------------------------

    def drain_protocol_violations(self) -> list[str]:
        """Return and forget the protocol violations seen since the last drain."""
        out, self._violations = self._violations, []
        return out

    def close(self) -> None:
        """Send ``shutdown``, close the process's stdin and reap it (idempotent)."""
        if self._closed:
            return
        self._closed = True
        child = self._child
        if child is None:
            return
        answer = None
        with contextlib.suppress(Exception):
            answer = self._request(HarnessMethod.SHUTDOWN.value, {}, min(self.call_timeout_s, 2.0))
        child, self._child = self._child, None
        if child is not None:
            self.children.release(child, answer)
        # A plugin that leaves sessions open at shutdown keeps its leak, as in process.
        self._drop_child(killed=False)

    def __enter__(self) -> ProcessPlugin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The current child's process id, ``None`` while none runs."""
        return self._child.popen.pid if self._child is not None else None

    def _start(self) -> None:
        """Start a process and initialize it; on failure no process is left running."""
        try:
            child = self._new_child()
        except OSError as exc:
            raise PluginProcessCrashed(
                HarnessMethod.INITIALIZE.value,
                f"could not start `{shlex.join(self.argv)}`: {exc}",
            ) from exc
        self._child = child
        self._generation += 1
        self._backend = BackendService()
        params = {
            "protocol_version": PROTOCOL_VERSION,
            "harness": {"name": HARNESS_NAME, "version": _HARNESS_VERSION},
            "profile": self.context.profile,
            "component": self.context.component,
            "properties": {str(k): str(v) for k, v in sorted(self.context.properties.items())},
        }
        try:
            raw = self._request(HarnessMethod.INITIALIZE.value, params, self.start_timeout_s)
            described = load_model(InitializeResult, raw, "result")
        except WireError as exc:
            self._drop_child()
            raise PluginBadReturn(HarnessMethod.INITIALIZE.value, str(exc)) from None
        except BaseException:
            self._drop_child()  # an error answer or an interrupt: no half-started process
            raise
        self._accept(described)

    def _new_child(self) -> ChildProcess:
        """A forked child when the class has a fork server that works, else one from
        :attr:`children` (a spawned one, or the JVM bridge's warm JVM)."""
        target = self.fork_target
        if target is not None:
            server = shared_fork_server(target, self.cwd, self.start_timeout_s)
            if server is not None:
                try:
                    return ChildProcess(self.argv, self.cwd, server, self.start_timeout_s)
                except ForkServerUnavailable:
                    give_up_fork_server(target, self.cwd)  # spawn from now on
        return self.children.acquire(self.argv, self.cwd)

    def _accept(self, described: InitializeResult) -> None:
        """Compare a new process's description with the class's (the probe's)."""
        if described != self.description:
            self._violations.append(
                f"initialize of the {self.context.component} process described the plugin "
                f"as {dump_model(described)}, but the probe process described it as "
                f"{dump_model(self.description)}"
            )

    def _drop_child(self, *, killed: bool = True) -> None:
        """Forget the current process; when the harness killed it, close its sessions."""
        self._pending.clear()
        self._discard.clear()
        child, self._child = self._child, None
        backend, self._backend = self._backend, None
        self._generation += 1  # connections of the old process are now stale
        if child is not None:
            child.kill()
        if backend is not None and killed:
            backend.close_all()

    def _try_restart(self) -> None:
        """Replace a dead process now; a failed restart is retried by the next call."""
        if self._closed or not self.restarts:
            return
        with contextlib.suppress(Exception):
            self._start()

    # -- one call ---------------------------------------------------------------------

    def _request(
        self,
        method: str,
        params: dict[str, Any],
        timeout_s: float,
        follow: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> Any:
        """Send one request, serve backend calls, return the result or raise.

        ``follow``: requests sent right after it, in the same write, whose answers are
        read by the calls that make them next (:meth:`plan_cycle`); a ``connection``
        parameter equal to :data:`_LEAD` names the connection this request opens.
        """
        if self._capturing:
            raise _Captured(method, params)
        if self._pending:
            ahead, ahead_method = self._pending.popleft()
            if ahead_method == method and self._child is not None:
                return self._answer(self._child, method, ahead, None, timeout_s)
            # Not the cycle that was announced: nobody reads what was sent ahead.
            self._discard.add(ahead)
            self._discard.update(i for i, _ in self._pending)
            self._pending.clear()
        if self._child is None:
            if self._closed:
                raise PluginProcessCrashed(method, "the plugin instance was closed")
            try:
                self._start()
            except HarnessPluginFault as exc:
                raise PluginProcessCrashed(
                    method, f"the plugin process could not be restarted: {exc}"
                ) from exc
        child = self._child
        assert child is not None
        request_id = child.next_id
        child.next_id += 1 + len(follow)
        now = instant_to_wire(self.context.clock.now())
        data = encode_request(request_id, method, {**params, "now": now})
        lead = f"@{request_id}"
        for offset, (then, then_params) in enumerate(follow, start=1):
            if then_params.get("connection") == _LEAD:
                then_params = {**then_params, "connection": lead}
            data += encode_request(request_id + offset, then, {**then_params, "now": now})
            self._pending.append((request_id + offset, then))
        return self._answer(child, method, request_id, data, timeout_s)

    def _answer(
        self,
        child: ChildProcess,
        method: str,
        request_id: int,
        data: bytes | None,
        timeout_s: float,
    ) -> Any:
        """Send ``data`` (unless it was sent ahead), then the answer to ``request_id``."""
        try:
            response = self._exchange(child, method, request_id, data, timeout_s)
        except (CallDeadlineExceeded, PluginProcessCrashed):
            self._drop_child()
            if method not in _NO_RESTART:
                self._try_restart()
            raise
        except PluginBadReturn:
            raise  # The process answered, badly; it can serve the next call.
        except BaseException:
            # An interrupt from outside (a watchdog, ^C) left the process in an unknown
            # state: it must not serve another call.
            self._drop_child()
            raise
        if response.error is not None:
            raise plugin_error_to_exception(method, response.error)
        return response.result

    def _exchange(
        self,
        child: ChildProcess,
        method: str,
        request_id: int,
        data: bytes | None,
        timeout_s: float,
    ) -> Response:
        budget = timeout_s
        started = time.monotonic()

        def send(data: bytes) -> None:
            sent = child.send(data, budget - (time.monotonic() - started))
            if sent is None:
                raise CallDeadlineExceeded(method, timeout_s)
            if not sent:
                raise PluginProcessCrashed(method, child.exit_detail())

        if data is not None:
            send(data)
        while True:
            item = child.receive(budget - (time.monotonic() - started))
            if item is None:
                raise CallDeadlineExceeded(method, timeout_s)
            if isinstance(item, EndOfOutput):
                raise PluginProcessCrashed(method, child.exit_detail())
            if isinstance(item, LineTooLong):
                self._violation(
                    f"during {method}: dropped a stdout line longer than {MAX_LINE_BYTES} bytes"
                )
                continue
            try:
                message = decode_message(item)
            except ProtocolViolation as exc:
                if exc.response_id == request_id:
                    raise PluginBadReturn(
                        method, f"malformed JSON-RPC response: {exc.detail}"
                    ) from None
                self._violation(
                    f"during {method}: ignored stdout line {_snippet(item)}: {exc.detail}"
                )
                continue
            if isinstance(message, Request):
                serve_started = time.monotonic()
                reply = self._serve(method, message)
                # Time the harness spends answering is not the plugin's.
                budget += time.monotonic() - serve_started
                if reply is not None:
                    send(reply)
                continue
            if type(message.id) is int and message.id in self._discard:
                self._discard.discard(message.id)  # sent ahead, its cycle abandoned
                continue
            if message.id != request_id or type(message.id) is not type(request_id):
                self._violation(
                    f"during {method}: ignored a response with id {message.id!r}; the pending "
                    f"request has id {request_id!r}"
                )
                continue
            return message

    def _serve(self, method: str, message: Request) -> bytes | None:
        if message.id is None:
            self._violation(
                f"during {method}: ignored notification {message.method!r}; plugins send "
                "requests (with an id) or responses only"
            )
            return None
        backend = self._backend
        assert backend is not None
        reply = backend.handle(message)
        for text in backend.violations:
            self._violation(f"during {method}: {text}")
        backend.violations.clear()
        return reply

    def _violation(self, text: str) -> None:
        self._violations.append(text)

    def _call(self, method: str, params: dict[str, Any]) -> Any:
        return self._request(method, params, self.call_timeout_s)

    def _void(self, method: str, params: dict[str, Any]) -> None:
        result = self._call(method, params)
        if result is not None:
            raise PluginBadReturn(
                method, f"expected null (the method returns nothing), got {_short_json(result)}"
            )

    def _typed(self, method: str, params: dict[str, Any]) -> Any:
        result = self._call(method, params)
        try:
            return load_value(RESULT_TYPES[method], result, "result")
        except WireError as exc:
            raise PluginBadReturn(method, str(exc)) from None

    def _connection_id(self, connection: Connection, op: Operation) -> str:
        if not isinstance(connection, ProcessConnection) or connection._plugin is not self:
            raise TypeError(
                f"{op.value} needs a connection from this plugin's new_connection(), "
                f"got {type(connection).__name__}"
            )
        if connection.connection_id is None:
            raise ValueError(f"{op.value} needs a connected connection; call connect() first")
        if connection.generation != self._generation:
            raise PluginProcessCrashed(
                op.value,
                "the connection was opened in a plugin process that has since been "
                "replaced (after a crash or a missed deadline)",
            )
        return connection.connection_id

    # -- the call cycle sent at once ------------------------------------------------------

    def plan_cycle(self, op: Operation, args: tuple[Any, ...]) -> None:
        """The invoker announces its next call: ``new_connection``, ``connect``, ``op``
        with ``args``, ``disconnect``, nothing else in between.

        bpcert's own server (:attr:`pipelines`) is then sent the three requests at once
        on ``connect``, the operation and the disconnect naming the connection the
        connect opens (``"@<id of the connect request>"``): three round trips of the
        harness become one, while each call still returns or raises what its own
        request answered. When the connect fails, the two answers sent ahead are
        dropped unread (the server refused them: no such connection).
        """
        if self.pipelines and not self._pending:
            self._plan = (op, args)

    def _planned(
        self, connection: ProcessConnection, op: Operation, args: tuple[Any, ...]
    ) -> list[tuple[str, dict[str, Any]]]:
        """The operation's and the disconnect's requests, built by the method itself."""
        connection.connection_id, connection.generation = _LEAD, self._generation
        self._capturing = True
        try:
            getattr(self, op.python_name)(connection, *args)
        except _Captured as captured:
            return [
                (captured.method, captured.params),
                (HarnessMethod.DISCONNECT.value, {"connection": _LEAD}),
            ]
        except Exception:  # noqa: BLE001 - arguments it refuses: the call says so itself
            return []
        finally:
            self._capturing = False
            connection.connection_id, connection.generation = None, -1
        return []

    def _abandon_pending(self) -> None:
        self._discard.update(i for i, _ in self._pending)
        self._pending.clear()

    def _connect(self, data: ConnectionData, connection: ProcessConnection) -> str:
        plan, self._plan = self._plan, None
        follow = self._planned(connection, *plan) if plan is not None else []
        wire = WireConnectionData.from_contract(data)
        params = {"connection_data": dump_model(wire)}
        try:
            result = self._request(HarnessMethod.CONNECT.value, params, self.call_timeout_s, follow)
        except BaseException:
            self._abandon_pending()
            raise
        if not isinstance(result, str) or not result:
            self._abandon_pending()
            raise PluginBadReturn(
                HarnessMethod.CONNECT.value,
                f"expected the connection id, a non-empty string, got {_short_json(result)}",
            )
        return result

    def _disconnect(self, connection_id: str) -> None:
        self._void(HarnessMethod.DISCONNECT.value, {"connection": connection_id})

    # -- the contract -------------------------------------------------------------------

    def validate_configuration(self) -> None:
        """``validateConfiguration``; raises :class:`ConfigurationError` as the plugin does."""
        self._void(HarnessMethod.VALIDATE_CONFIGURATION.value, {})

    def new_connection(self) -> ProcessConnection:
        """A new, unconnected :class:`ProcessConnection` (no RPC until ``connect``)."""
        return ProcessConnection(self)

    def apply_schedule(
        self, connection: Connection, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """``applySchedule``."""
        op = Operation.APPLY_SCHEDULE
        self._void(
            op.value,
            {
                "connection": self._connection_id(connection, op),
                "vm": dump_model(vm),
                "schedule": dump_model(schedule),
            },
        )

    def apply_new_schedule(
        self,
        connection: Connection,
        vm: VirtualMachineInfo,
        old_schedule: BackupSchedule,
        new_schedule: BackupSchedule,
    ) -> None:
        """``applyNewSchedule`` (Java's four-argument ``applySchedule``)."""
        op = Operation.APPLY_NEW_SCHEDULE
        self._void(
            op.value,
            {
                "connection": self._connection_id(connection, op),
                "vm": dump_model(vm),
                "old_schedule": dump_model(old_schedule),
                "new_schedule": dump_model(new_schedule),
            },
        )

    def remove_schedule(self, connection: Connection, vm: VirtualMachineInfo) -> None:
        """``removeSchedule``."""
        op = Operation.REMOVE_SCHEDULE
        self._void(
            op.value, {"connection": self._connection_id(connection, op), "vm": dump_model(vm)}
        )

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """``executeBackup``."""
        op = Operation.EXECUTE_BACKUP
        result: BackupResult = self._typed(
            op.value,
            {
                "connection": self._connection_id(connection, op),
                "vm": dump_model(vm),
                "options": dump_model(options),
            },
        )
        return result

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """``executeRestore``."""
        op = Operation.EXECUTE_RESTORE
        result: RestoreResult = self._typed(
            op.value,
            {
                "connection": self._connection_id(connection, op),
                "vm": dump_model(vm),
                "backup_id": backup_id,
            },
        )
        return result

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """``listResults``; the in-progress ids travel sorted."""
        op = Operation.LIST_RESULTS
        result: list[BackupResult] = self._typed(
            op.value,
            {
                "connection": self._connection_id(connection, op),
                "last_check_date": (
                    instant_to_wire(last_check_date) if last_check_date is not None else None
                ),
                "in_progress_result_provider_ids": sorted(in_progress_result_provider_ids),
            },
        )
        return result

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """``getExpiredResults``."""
        op = Operation.GET_EXPIRED_RESULTS
        result: list[str] = self._typed(
            op.value,
            {"connection": self._connection_id(connection, op), "provider_ids": list(provider_ids)},
        )
        return result

    # -- abiquo-4.7 and abiquo-6.0 -----------------------------------------------------

    def _per_id(self, op: Operation, connection: Connection, **params: Any) -> Any:
        return self._typed(op.value, {"connection": self._connection_id(connection, op), **params})

    def list_new_backup_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[BackupResult]:
        """``listNewBackupResults``; ``start_date`` travels as an instant or null."""
        start = instant_to_wire(start_date) if start_date is not None else None
        result: list[BackupResult] = self._per_id(
            Operation.LIST_NEW_BACKUP_RESULTS, connection, start_date=start
        )
        return result

    def list_new_restore_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[RestoreResult]:
        """``listNewRestoreResults``."""
        start = instant_to_wire(start_date) if start_date is not None else None
        result: list[RestoreResult] = self._per_id(
            Operation.LIST_NEW_RESTORE_RESULTS, connection, start_date=start
        )
        return result

    def get_backup_result(self, connection: Connection, backup_id: str) -> BackupResult | None:
        """``getBackupResult``; null answers ``None``."""
        result: BackupResult | None = self._per_id(
            Operation.GET_BACKUP_RESULT, connection, backup_id=backup_id
        )
        return result

    def get_restore_result(self, connection: Connection, restore_id: str) -> RestoreResult | None:
        """``getRestoreResult``; null answers ``None``."""
        result: RestoreResult | None = self._per_id(
            Operation.GET_RESTORE_RESULT, connection, restore_id=restore_id
        )
        return result

    def is_backup_expired(self, connection: Connection, backup_id: str) -> bool:
        """``isBackupExpired``."""
        result: bool = self._per_id(Operation.IS_BACKUP_EXPIRED, connection, backup_id=backup_id)
        return result

    def list_virtual_machines_in_backup_policy(
        self, connection: Connection, policy_code: str
    ) -> frozenset[str]:
        """``listVirtualMachinesInBackupPolicy``: a JSON array of unique uuids (a Java set)."""
        op = Operation.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY
        result: list[str] = self._per_id(op, connection, policy_code=policy_code)
        if len(set(result)) != len(result):
            twice = sorted({vm for vm in result if result.count(vm) > 1})
            raise PluginBadReturn(
                op.value, f"a policy's VMs are a set, but {', '.join(twice)} appear more than once"
            )
        return frozenset(result)


#: Stands for the connection a connect sent ahead of its cycle opens (see plan_cycle).
_LEAD = "@lead"


class _Captured(Exception):
    """What a method would send, caught instead of sent (:meth:`ProcessPlugin._planned`)."""

    def __init__(self, method: str, params: dict[str, Any]) -> None:
        super().__init__(method)
        self.method = method
        self.params = params


def _snippet(line: bytes, limit: int = 80) -> str:
    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _short_json(value: Any, limit: int = 120) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------------------ factory
