"""The one place plugin methods are called.

Every operational call goes through :meth:`Invoker.call`, a SimPy sub-process that:

1. waits for a session of the open-session pool (``abiquo.virtualfactory.backup.openSession``);
2. builds a connection with ``new_connection()``, ``connect``\\ s it with the backup
   manager's :class:`~simulator.contract.ConnectionData`, invokes the method and
   always ``disconnect``\\ s after a successful connect, also when the method failed;
3. measures the wall time, turns the latency model into simulated time and holds the
   session (and the caller's VM lock) for that long (the ``measured`` mode uses the wall
   time less the time the harness waited for a CPU, see :class:`RunQueueClock`);
4. sorts the outcome into ``ok``, ``error`` (BackupPluginException), ``foreign-error``
   (any other exception), ``bad-return`` (an answer that is not of its exact type, see
   :mod:`simulator.platform.answers`; observers then see no result at all),
   ``indeterminate`` (past the deadline) or ``crash`` (an isolated plugin's process died);
5. writes a ``call`` line to the trace and hands the full :class:`CallRecord` to observers.

A ``KeyboardInterrupt`` or ``SystemExit`` raised during a call is the plugin's own
(``foreign-error``): only :class:`~simulator.interrupts.HarnessInterrupt`, which the
harness's SIGINT and SIGTERM handlers raise, stops the run.

An in-process plugin is handed copies of its arguments, and what observers see of an
answer is a copy taken when it returned (before ``disconnect``): a plugin that changes
either afterwards changes nothing the platform or a checker holds.

The plugin's code runs at the simulated instant the call starts; its simulated
duration follows. A call whose simulated duration exceeds ``deadline_s``, or whose
wall time exceeds ``call_timeout_s`` (a hung in-process plugin is interrupted by a
watchdog), is ``indeterminate``: the platform cannot know whether it took effect.

The invoker's parts that stand alone have their own modules, and their names are
importable from here too: the record of a call (:mod:`simulator.platform.call_record`),
the latency model (:mod:`simulator.platform.latency`), the session pool
(:mod:`simulator.platform.sessions`) and the watchdog (:mod:`simulator.platform.watchdog`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import simpy

from simulator.clock import hold
from simulator.contract import (
    BackupPluginError,
    BackupPluginException,
    ConnectionData,
    Operation,
    PluginConnectionError,
)
from simulator.faults import (
    CallDeadlineExceeded,
    HarnessError,
    PluginBadReturn,
    PluginForeignError,
    PluginProcessCrashed,
)
from simulator.interrupts import HarnessInterrupt, PluginStoppedAnswering
from simulator.platform.answers import accept_answer, handed_args, handed_copy
from simulator.platform.call_record import (
    OUTCOMES,
    CallRecord,
    Outcome,
    summarize_args,
)
from simulator.platform.latency import LatencyModel, RunQueueClock
from simulator.platform.sessions import SessionPool
from simulator.platform.watchdog import CallTimeout, Watchdog
from simulator.trace import TraceWriter

__all__ = [
    "OUTCOMES",
    "CallRecord",
    "CallTimeout",
    "Invoker",
    "LatencyModel",
    "Outcome",
    "RunQueueClock",
    "SessionPool",
    "summarize_args",
]
#: What a secret is replaced with in a plugin's messages.
REDACTED = "***"
#: Secrets shorter than this are not redacted: replacing every "ab" would garble text.
MIN_SECRET = 3
#: Property names that hold secrets, by a part of their name (case-insensitive).
SECRET_NAME_PARTS: tuple[str, ...] = ("password", "secret", "token", "key")


def secrets_of(user: str | None, password: str | None, properties: Mapping[str, str]) -> list[str]:
    """What a run's outputs may not show: the user, the password and every property
    whose name contains one of :data:`SECRET_NAME_PARTS`."""
    found = [s for s in (user, password) if s]
    for name, value in properties.items():
        if value and any(part in name.lower() for part in SECRET_NAME_PARTS):
            found.append(value)
    return found


#: The pseudo-operation names of the lifecycle calls (JVM spelling for the constructor).
CONSTRUCTOR = "<init>"
VALIDATE = "validateConfiguration"


def _busy(wall_s: float, waited0: float | None, waited1: float | None) -> float:
    """``wall_s`` less the CPU wait between the two readings (measured mode).

    The readings are taken inside the wall interval (wall clock, wait ... wait, wall
    clock), so every wait counted falls within it and the result is never negative.
    """
    if waited0 is None or waited1 is None:
        return wall_s
    return max(0.0, wall_s - (waited1 - waited0))


#: Consecutive wall-clock deadline misses of one method that stop a scenario.
MAX_CONSECUTIVE_MISSES = 3


@dataclass(slots=True)
class _Raw:
    outcome: Outcome = "ok"
    error_code: str | None = None
    detail: str | None = None
    result: Any = None
    connect: str = "n/a"
    disconnect: str = "n/a"
    #: Wall seconds the harness spent judging the answer, not the plugin's.
    judged_s: float = 0.0
    #: The call ran out of wall time (the watchdog, or an isolated plugin's deadline).
    missed: bool = False


def _text(exc: BaseException) -> str:
    """``str(exc)``, or what stands for it when the exception's own ``__str__`` fails."""
    try:
        text = str(exc)
    except Exception as inner:  # noqa: BLE001 - a plugin's exception is untrusted
        return f"<its __str__ raised {type(inner).__name__}>"
    return text if type(text) is str else f"<its __str__ returned {type(text).__name__}>"


def _classify(exc: BaseException, raw: _Raw, op: str, call_timeout_s: float) -> None:
    if isinstance(exc, HarnessError):
        raise exc  # the harness failed (its fake backend, say), not the plugin
    error = getattr(exc, "error", None) if isinstance(exc, BackupPluginException) else None
    if isinstance(error, BackupPluginError):
        message = exc.message if type(exc.message) is str else _text(exc)  # type: ignore[attr-defined]
        raw.outcome, raw.error_code, raw.detail = "error", error.value, message
    elif isinstance(exc, CallDeadlineExceeded):
        raw.outcome, raw.detail, raw.missed = "indeterminate", _text(exc), True
    elif isinstance(exc, CallTimeout):
        raw.outcome, raw.missed = "indeterminate", True
        raw.detail = f"{op} did not return within {call_timeout_s:g} s of wall time"
    elif isinstance(exc, PluginProcessCrashed):
        raw.outcome, raw.detail = "crash", _text(exc)
    elif isinstance(exc, PluginBadReturn):
        raw.outcome, raw.detail = "bad-return", exc.detail
    elif isinstance(exc, PluginForeignError):
        raw.outcome, raw.detail = "foreign-error", f"{exc.type_name}: {exc.message}"
    else:
        raw.outcome, raw.detail = "foreign-error", f"{type(exc).__name__}: {_text(exc)}"


Observer = Callable[[CallRecord], None]

#: ``op.value`` and ``op.python_name`` of every operation: read for every call, and an
#: enum's properties cost a Python call each.
_OP_NAMES: dict[Operation, str] = {op: op.value for op in Operation}
_PY_NAMES: dict[Operation, str] = {op: op.python_name for op in Operation}


def _drain(owner: Any) -> Sequence[str]:
    """Protocol violations an isolated plugin saw since the last call (else none)."""
    drain = getattr(owner, "drain_protocol_violations", None)
    return list(drain()) if callable(drain) else ()


class Invoker:
    """Calls plugin methods for every component, exactly as the platform does."""

    def __init__(
        self,
        env: simpy.Environment,
        clock: Any,
        trace: TraceWriter,
        latency: LatencyModel,
        connection_data: ConnectionData,
        *,
        deadline_s: float = 300.0,
        call_timeout_s: float = 10.0,
        trace_wall_time: bool = False,
        secrets: Sequence[str] = (),
    ) -> None:
        self.env = env
        self.clock = clock
        self.trace = trace
        self.latency = latency
        self.connection_data = connection_data
        self.deadline_s = deadline_s
        self.call_timeout_s = call_timeout_s
        self.trace_wall_time = trace_wall_time or not latency.deterministic
        #: What a plugin's messages (its exceptions, its stderr) may not show: the
        #: connection's user and password and the secret-like properties (see redact).
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)
        self.observers: list[Observer] = []
        #: Consecutive wall-clock misses per method (none kept for a method that answers).
        #: A run carries a method that stopped answering into its next world at
        #: ``MAX_CONSECUTIVE_MISSES - 1``, so that one more miss stops that world too.
        self.misses: dict[str, int] = {}
        self._run_queue = RunQueueClock() if latency.mode == "measured" else None

    def redact(self, text: str) -> str:
        """``text`` with every secret of the run replaced by ``***``."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def _waited(self) -> float | None:
        return self._run_queue.read() if self._run_queue is not None else None

    # -- lifecycle calls (no connection) --------------------------------------------

    def lifecycle(
        self,
        component: str,
        op: str,
        fn: Callable[[], Any],
        *,
        owner: Any = None,
        probe: bool = False,
    ) -> Generator[simpy.Event, Any, CallRecord]:
        """Run the constructor (``<init>``), ``validateConfiguration`` or a connection probe.

        ``owner`` is the plugin class or instance the call belongs to: an isolated plugin
        (``enforces_deadlines``) keeps its own deadlines, and its protocol violations are
        drained onto this call.
        """
        raw = _Raw()
        start = float(self.env.now)
        now = self.clock.now()
        wall0 = time.perf_counter()
        waited0 = self._waited()
        try:
            with Watchdog(self._watchdog_seconds(owner)):
                raw.result = fn()
        except BaseException as exc:
            if isinstance(exc, HarnessInterrupt):
                raise
            _classify(exc, raw, op, self.call_timeout_s)
            if type(exc).__name__ == "ConfigurationError" and op == VALIDATE:
                raw.outcome, raw.error_code, raw.detail = "error", "CONFIGURATION", str(exc)
        waited1 = self._waited()
        wall_s = time.perf_counter() - wall0
        busy_s = _busy(wall_s, waited0, waited1)
        duration = 0.0 if op == CONSTRUCTOR else self.latency.duration(op, busy_s)
        if duration > 0 and (wait := hold(self.env, duration)) is not None:
            yield wait
        target = raw.result if op == CONSTRUCTOR and raw.outcome == "ok" else owner
        return self._finish(
            component, op, None, start, now, wall_s, raw, (), None, None, _drain(target), probe
        )

    def _watchdog_seconds(self, owner: Any) -> float:
        """The in-process watchdog's limit; 0 (off) for plugins that enforce deadlines."""
        return 0.0 if getattr(owner, "enforces_deadlines", False) else self.call_timeout_s

    # -- operational calls -------------------------------------------------------------

    def call(
        self,
        component: str,
        instance: Any,
        op: Operation,
        vm: str | None,
        args: tuple[Any, ...],
        *,
        pool: SessionPool | simpy.Resource | None = None,
        task: int | None = None,
        check: int | None = None,
        probe: bool = False,
    ) -> Generator[simpy.Event, Any, CallRecord]:
        """Connect, invoke ``op`` with ``args``, disconnect; hold simulated time; record."""
        wait: simpy.Event | None = None
        request = None
        if isinstance(pool, SessionPool):
            wait = pool.acquire()
        elif pool is not None:
            wait = request = pool.request()
        if wait is not None:
            yield wait
        name = _OP_NAMES[op]
        run_queue = self._run_queue
        try:
            start = float(self.env.now)
            now = self.clock.now()
            wall0 = time.perf_counter()
            waited0 = None if run_queue is None else run_queue.read()
            raw = self._invoke(instance, op, args)
            waited1 = None if run_queue is None else run_queue.read()
            wall_s = time.perf_counter() - wall0 - raw.judged_s
            duration = self.latency.duration(name, _busy(wall_s, waited0, waited1))
            if duration > self.deadline_s:
                duration = self.deadline_s
                if raw.outcome in ("ok", "error"):
                    raw.outcome = "indeterminate"
                    raw.detail = (
                        f"{name} took longer than the call deadline of {self.deadline_s:g} s"
                    )
            # Held without an event when nothing else is due meanwhile (clock.hold).
            if duration > 0 and (hold_wait := hold(self.env, duration)) is not None:
                yield hold_wait
        finally:
            if isinstance(pool, SessionPool):
                pool.release()
            elif pool is not None and request is not None:
                pool.release(request)
        violations = _drain(instance)
        record = self._finish(
            component, name, vm, start, now, wall_s, raw, args, task, check, violations, probe
        )
        misses = self.misses
        if raw.missed:
            n = misses[name] = misses.get(name, 0) + 1
            if n >= MAX_CONSECUTIVE_MISSES:
                raise PluginStoppedAnswering(name, n, self.call_timeout_s)
        elif misses:
            misses.pop(name, None)
        return record

    def _invoke(self, instance: Any, op: Operation, args: tuple[Any, ...]) -> _Raw:
        raw = _Raw()
        timeout = self.call_timeout_s
        # An isolated plugin (it keeps its own deadlines) gets the arguments serialised;
        # an in-process one gets copies, see below.
        isolated = getattr(instance, "enforces_deadlines", False)
        if isolated and hasattr(instance, "plan_cycle"):
            # Announced: a transport may send the whole cycle at once (bridge/process.py).
            instance.plan_cycle(op, args)
        try:
            with Watchdog(0.0 if isolated else timeout):
                try:
                    connection = instance.new_connection()
                except BaseException as exc:
                    if isinstance(exc, HarnessInterrupt):
                        raise
                    _classify(exc, raw, "new_connection", timeout)
                    raw.connect = f"failed:{type(exc).__name__}"
                    if raw.outcome == "error":
                        raw.outcome = "foreign-error"
                        raw.detail = f"new_connection raised {type(exc).__name__}: {_text(exc)}"
                    return raw
                try:
                    data = self.connection_data
                    connection.connect(data if isolated else handed_copy(data))
                    raw.connect = "ok"
                except BaseException as exc:
                    if isinstance(exc, HarnessInterrupt):
                        raise
                    raw.connect = f"failed:{type(exc).__name__}"
                    _classify(exc, raw, "connect", timeout)
                    if isinstance(exc, BackupPluginException) and not isinstance(
                        exc, PluginConnectionError
                    ):
                        raw.detail = (
                            f"connect raised BackupPluginException({exc.error.value}) where "
                            f"PluginConnectionError is due: {exc.message}"
                        )
                    return raw
                try:
                    method = getattr(instance, _PY_NAMES[op])
                    # The plugin gets copies: what it does to them (object.__setattr__
                    # past the frozen models) never reaches the platform or a checker.
                    answer = method(connection, *(args if isolated else handed_args(args)))
                    # Judged and copied before disconnect, the plugin's next chance to
                    # change what it returned.
                    judged0 = time.perf_counter()
                    accepted, problem = accept_answer(_OP_NAMES[op], answer)
                    raw.judged_s = time.perf_counter() - judged0
                    if problem is None:
                        raw.result = accepted
                    else:
                        raw.outcome, raw.detail = "bad-return", problem
                except BaseException as exc:
                    if isinstance(exc, HarnessInterrupt):
                        raise
                    _classify(exc, raw, op.value, timeout)
                finally:
                    try:
                        connection.disconnect()
                        raw.disconnect = "ok"
                    except BaseException as exc:
                        if isinstance(exc, HarnessInterrupt):
                            raise
                        raw.disconnect = f"failed:{type(exc).__name__}"
        except CallTimeout:
            # The watchdog fired outside the inner handlers (in connect/disconnect).
            raw.outcome, raw.missed = "indeterminate", True
            raw.detail = f"{op.value} did not return within {timeout:g} s of wall time"
        return raw

    def _finish(
        self,
        component: str,
        op: str,
        vm: str | None,
        start: float,
        now: datetime,
        wall_s: float,
        raw: _Raw,
        args: tuple[Any, ...],
        task: int | None,
        check: int | None,
        violations: Sequence[str],
        probe: bool,
    ) -> CallRecord:
        end = float(self.env.now)
        wall_ms = wall_s * 1000.0
        trace = self.trace
        if self._secrets and (raw.detail or violations):
            raw.detail = self.redact(raw.detail) if raw.detail else raw.detail
            violations = [self.redact(v) for v in violations]
        kept = list(violations)  # the record's own list, also in the line
        if trace.wants("call"):
            # Built whole (see TraceWriter.emit_record): a line for every plugin call.
            end_us = round(end, 6)
            seq = trace.emit_record(
                {
                    "seq": 0,
                    "t": end_us,
                    "kind": "call",
                    "component": component,
                    "op": op,
                    "vm": vm,
                    "start": round(start, 6),
                    "end": end_us,
                    "wall_ms": round(wall_ms, 3) if self.trace_wall_time else None,
                    "outcome": raw.outcome,
                    "error_code": raw.error_code,
                    "detail": raw.detail,
                    "connect": raw.connect,
                    "disconnect": raw.disconnect,
                    "task": task,
                    "check": check,
                    "protocol_violations": kept or None,
                }
            )
        else:
            seq = trace.count("call")
        # Positional, in the field order: keywords cost a third more, for every call.
        record = CallRecord(
            seq,
            component,
            op,
            vm,
            start,
            end,
            wall_ms,
            raw.outcome,
            raw.error_code,
            raw.detail,
            args,
            raw.result,
            raw.connect,
            raw.disconnect,
            now,
            task,
            check,
            kept,
            probe,
        )
        for observer in self.observers:
            observer(record)
        return record
