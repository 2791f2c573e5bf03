"""Plugins in their own processes: the JSON-RPC protocol, deadlines, crashes, bad answers.

The misbehaving plugins live in ``examples/misbehaving/``; each speaks the protocol
directly and breaks one rule. The reference plugin runs behind ``simulator.bridge.server``
and the Node.js example plugin under ``node``; both must answer exactly what the
in-process reference plugin answers for the same world actions.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import simpy

from simulator.backend import backup_system, session
from simulator.backend.backup_system import BackupSystem, BackupSystemSettings
from simulator.backend.fleet import Fleet
from simulator.bridge.forkserver import ForkedPopen
from simulator.bridge.process import PluginLaunchError, ProcessPlugin, process_plugin_class
from simulator.bridge.protocol import ProtocolViolation, Request, Response, decode_message
from simulator.clock import SimClock
from simulator.contract import (
    BackupConfiguration,
    BackupPluginError,
    BackupPluginException,
    BackupPolicy,
    BackupSchedule,
    BackupType,
    ConfigurationError,
    ConnectionData,
    FieldConstraint,
    OnDemandBackupOptions,
    Operation,
    Periodicity,
    PluginConnectionError,
    PluginContext,
    VirtualMachineInfo,
)
from simulator.faults import (
    CallDeadlineExceeded,
    PluginBadReturn,
    PluginForeignError,
    PluginProcessCrashed,
)
from simulator.reference import REFERENCE_PROPERTIES, ReferencePlugin
from tests.plugins.daemons import DAEMONS_DIR, alive

REPO = Path(__file__).resolve().parents[1]
MISBEHAVING = REPO / "examples" / "misbehaving"
NODE_PLUGIN = REPO / "examples" / "node-plugin" / "plugin.js"
SERVED_REFERENCE = [
    sys.executable,
    "-m",
    "simulator.bridge.server",
    "simulator.reference:ReferencePlugin",
]
USER, PASSWORD = "admin", "s3cret"
DAY = 86400.0


# --------------------------------------------------------------------------- helpers


@dataclass
class SmallWorld:
    """A simulated world reduced to what a plugin touches: clock, fleet, backup system."""

    env: simpy.Environment
    clock: SimClock
    fleet: Fleet
    system: BackupSystem

    @property
    def connection_data(self) -> ConnectionData:
        return ConnectionData.model_validate(
            {"endpoint": self.system.endpoint, "user": USER, "password": PASSWORD}
        )

    def context(self, component: Any, properties: dict[str, str]) -> PluginContext:
        return PluginContext(clock=self.clock, properties=properties, component=component)


#: A non-null last_check_date: the misbehaving plugins hang or crash on full listings.
SINCE = datetime(2026, 1, 5, tzinfo=UTC)


@contextmanager
def small_world(seed: int = 7) -> Iterator[SmallWorld]:
    env = simpy.Environment()
    clock = SimClock(env)
    rng = random.Random(seed)
    fleet = Fleet.generate(rng, vms=4)
    system = BackupSystem(
        env,
        rng,
        clock,
        fleet,
        BackupSystemSettings(failure_probability=0.0),
        user=USER,
        password=PASSWORD,
    )
    with system:
        yield SmallWorld(env, clock, fleet, system)


def call(world: SmallWorld, plugin: Any, method: str, *args: Any) -> Any:
    """Connect, call, disconnect, as the platform does; a contract error becomes data.

    Announced first, as the invoker announces it: bpcert's own server gets the whole
    cycle at once.
    """
    plan = getattr(plugin, "plan_cycle", None)
    if plan is not None:
        plan(next(op for op in Operation if op.python_name == method), args)
    connection = plugin.new_connection()
    connection.connect(world.connection_data)
    try:
        return getattr(plugin, method)(connection, *args)
    except BackupPluginException as exc:
        return ("error", exc.error, exc.message)
    finally:
        connection.disconnect()


def schedule(*configurations: BackupConfiguration) -> BackupSchedule:
    return BackupSchedule(
        policies=(BackupPolicy(code="gold", name="Gold", configurations=configurations),)
    )


HOURLY_6 = BackupConfiguration(type=BackupType.COMPLETE, subtype=Periodicity.HOURLY, time="6")
HOURLY_12 = BackupConfiguration(type=BackupType.COMPLETE, subtype=Periodicity.HOURLY, time="12")
DAILY = BackupConfiguration(
    type=BackupType.SNAPSHOT, subtype=Periodicity.DAILY, time="02:00:00 +0000"
)


def world_actions(plugin_class: type, properties: dict[str, str]) -> list[Any]:
    """One sequence of platform actions; returns everything the plugin answered."""
    out: list[Any] = []
    with small_world() as world:
        vf = plugin_class(world.context("virtualfactory", properties))
        cpp = plugin_class(world.context("cpp", properties))
        try:
            vm0, vm1 = world.fleet.info(0), world.fleet.info(1)
            first = schedule(HOURLY_6, DAILY)
            out.append(call(world, vf, "apply_schedule", vm0, first))
            out.append(call(world, vf, "apply_schedule", vm0, first))  # idempotent
            world.env.run(until=DAY)
            out.append(call(world, cpp, "list_results", None, frozenset()))
            second = schedule(HOURLY_12)
            out.append(call(world, vf, "apply_new_schedule", vm0, first, second))
            backup = call(world, vf, "execute_backup", vm1, OnDemandBackupOptions())
            out.append(backup)
            world.env.run(until=DAY + 7200)
            asked = frozenset({backup.provider_id, "bk-99999999"})
            out.append(call(world, cpp, "list_results", world.clock.at(DAY), asked))
            out.append(call(world, vf, "execute_restore", vm1, backup.provider_id))
            out.append(call(world, vf, "execute_restore", vm0, backup.provider_id))
            out.append(call(world, vf, "remove_schedule", vm0))
            world.env.run(until=9 * DAY)
            listing = call(world, cpp, "list_results", None, frozenset())
            out.append(listing)
            ids = [r.provider_id for r in out[2]] + [backup.provider_id, "nope"]
            out.append(call(world, cpp, "get_expired_results", ids))
            assert world.system.open_sessions() == [], "a session was left open"
        finally:
            for plugin in (vf, cpp):
                close = getattr(plugin, "close", None)
                if close is not None:
                    close()
    return out


@pytest.fixture(scope="module")
def served_reference() -> type[ProcessPlugin]:
    return process_plugin_class(SERVED_REFERENCE, label="reference", cwd=REPO)


def misbehaving(name: str, timeout_s: float = 1.0) -> type[ProcessPlugin]:
    return process_plugin_class(
        [sys.executable, str(MISBEHAVING / f"{name}.py")],
        label=name,
        call_timeout_s=timeout_s,
    )


VM = VirtualMachineInfo(
    uuid="vm-1", name="web-1", datacenter="dc", hypervisor_type="KVM", hypervisor_address="h"
)


@contextmanager
def instance(cls: type[ProcessPlugin], component: Any = "cpp") -> Iterator[Any]:
    env = simpy.Environment()
    plugin = cls(PluginContext(clock=SimClock(env), properties={}, component=component))
    try:
        yield plugin
    finally:
        plugin.close()


def connected(plugin: Any) -> Any:
    connection = plugin.new_connection()
    connection.connect(ConnectionData(endpoint="anywhere"))
    return connection


# ---------------------------------------------------------------- same answers


@pytest.fixture(scope="module")
def forked_reference() -> type[ProcessPlugin]:
    """The reference forked from a fork server, each call cycle sent at once."""
    cls = process_plugin_class(
        SERVED_REFERENCE,
        label="reference",
        cwd=REPO,
        fork_target="simulator.reference:ReferencePlugin",
    )
    assert cls.pipelines
    return cls


@pytest.mark.parametrize("served", ["spawned", "forked, cycles sent at once"])
def test_isolated_reference_answers_what_the_in_process_one_answers(
    served_reference: type[ProcessPlugin], forked_reference: type[ProcessPlugin], served: str
) -> None:
    in_process = world_actions(ReferencePlugin, REFERENCE_PROPERTIES)
    cls = served_reference if served == "spawned" else forked_reference
    isolated = world_actions(cls, REFERENCE_PROPERTIES)
    assert isolated == in_process
    # The scenario really exercised something: backups, a restore, an error, expiries.
    assert len(in_process[2]) >= 4
    assert in_process[7][0] == "error" and in_process[7][1] is BackupPluginError.BACKUP_NOT_FOUND
    assert in_process[6].backup_provider_id == in_process[4].provider_id
    assert "nope" not in in_process[-1] and in_process[-1]


def test_the_class_carries_the_plugin_metadata(served_reference: type[ProcessPlugin]) -> None:
    assert served_reference.metadata == ReferencePlugin.metadata
    assert served_reference.connection_metadata.endpoint is FieldConstraint.MANDATORY
    assert served_reference.unsupported_operations == frozenset()
    assert served_reference.supported_periodicities == frozenset(Periodicity)


def test_contract_exceptions_cross_the_wire(served_reference: type[ProcessPlugin]) -> None:
    with small_world() as world:
        plugin = served_reference(world.context("api", {}))
        try:
            with pytest.raises(ConfigurationError, match=r"reference\.timeout\.seconds is missing"):
                plugin.validate_configuration()
            connection = plugin.new_connection()
            wrong = ConnectionData.model_validate(
                {"endpoint": world.system.endpoint, "user": USER, "password": "wrong"}
            )
            with pytest.raises(PluginConnectionError, match="refused the credentials"):
                connection.connect(wrong)
            connection.disconnect()  # after a failed connect: nothing to close
            assert plugin.drain_protocol_violations() == []
        finally:
            plugin.close()
    # The server patched backup_system.connect in its own process only.
    assert backup_system.connect is session.connect


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_node_plugin_answers_what_the_reference_answers() -> None:
    node = process_plugin_class(["node", str(NODE_PLUGIN)], label="node", call_timeout_s=5.0)
    assert node.metadata.type == "node-example"
    properties = dict(getattr(node, "example_properties", {}))
    assert properties, "the Node plugin declares example properties in initialize"
    assert world_actions(node, properties) == world_actions(ReferencePlugin, REFERENCE_PROPERTIES)


# -------------------------------------------------------------------- isolation


def test_a_hung_call_misses_its_deadline_and_the_next_call_works() -> None:
    with instance(misbehaving("hang", timeout_s=1.0)) as plugin:
        connection = connected(plugin)
        first_pid = plugin.pid
        started = time.monotonic()
        with pytest.raises(CallDeadlineExceeded) as caught:
            plugin.list_results(connection, None, frozenset({"hang"}))
        assert time.monotonic() - started < 3.0
        assert caught.value.op == "listResults" and caught.value.deadline_s == 1.0
        connection.disconnect()  # the connection died with its process: a no-op
        assert plugin.pid is not None and plugin.pid != first_pid
        connection = connected(plugin)
        assert plugin.list_results(connection, SINCE, frozenset({"x"})) == []
        connection.disconnect()


def test_a_plugin_that_stops_reading_cannot_block_the_harness(tmp_path: Path) -> None:
    script = tmp_path / "deaf.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, sys, time
            line = sys.stdin.readline()
            request = json.loads(line)
            result = {"metadata": {"type": "deaf", "friendly_name": "Deaf", "version": "1",
                                   "supported_versions": ["4.0.4"]}}
            print(json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}),
                  flush=True)
            time.sleep(3600)  # never reads stdin again
            """
        )
    )
    cls = process_plugin_class([sys.executable, str(script)], label="deaf", call_timeout_s=1.0)
    with instance(cls) as plugin:
        started = time.monotonic()
        with pytest.raises(CallDeadlineExceeded):
            plugin.validate_configuration()
        assert time.monotonic() - started < 3.0


def test_a_crash_is_reported_with_exit_status_and_stderr_then_the_plugin_restarts() -> None:
    with instance(misbehaving("crash")) as plugin:
        connection = connected(plugin)
        with pytest.raises(PluginProcessCrashed) as caught:
            plugin.list_results(connection, None, frozenset({"crash"}))
        assert caught.value.op == "listResults"
        assert "exited with code 3" in caught.value.detail
        assert "NullPointerException in listResults" in caught.value.detail
        connection = connected(plugin)
        with pytest.raises(PluginProcessCrashed, match="SIGABRT"):
            plugin.list_results(connection, SINCE, frozenset({"abort"}))
        connection = connected(plugin)
        assert plugin.list_results(connection, SINCE, frozenset()) == []
        connection.disconnect()


def test_garbage_on_stdout_is_recorded_and_the_call_still_answered() -> None:
    with instance(misbehaving("garbage")) as plugin:
        plugin.drain_protocol_violations()  # those of initialize
        connection = connected(plugin)
        plugin.drain_protocol_violations()
        assert plugin.list_results(connection, None, frozenset()) == []
        violations = plugin.drain_protocol_violations()
        assert len(violations) == 3, violations
        assert all(v.startswith("during listResults:") for v in violations)
        assert "not JSON" in violations[0] and "DEBUG handling listResults" in violations[0]
        assert '"jsonrpc" must be "2.0"' in violations[1]
        assert "id 999999" in violations[2]
        assert plugin.drain_protocol_violations() == []
        connection.disconnect()


def test_wrong_types_are_bad_returns_and_foreign_exceptions_are_foreign() -> None:
    with instance(misbehaving("wrong_types"), component="virtualfactory") as plugin:
        connection = connected(plugin)
        with pytest.raises(PluginBadReturn) as caught:
            plugin.execute_backup(connection, VM, OnDemandBackupOptions())
        assert "result.size_bytes: Input should be a valid integer" in caught.value.detail
        assert "result.creation_date: Input should have timezone info" in caught.value.detail
        with pytest.raises(PluginBadReturn, match="valid array"):
            plugin.list_results(connection, None, frozenset())
        with pytest.raises(PluginBadReturn, match=r"result\[0\]: Input should be a valid string"):
            plugin.get_expired_results(connection, ["a"])
        with pytest.raises(PluginBadReturn, match="expected null"):
            plugin.apply_schedule(connection, VM, BackupSchedule())
        with pytest.raises(PluginBadReturn, match="'OOPS'"):
            plugin.execute_restore(connection, VM, "b-1")
        with pytest.raises(PluginForeignError) as foreign:
            plugin.remove_schedule(connection, VM)
        assert foreign.value.type_name == "java.lang.NullPointerException"
        # Bad answers do not cost the process: the same one keeps serving.
        connection.disconnect()


def test_close_reaps_the_process() -> None:
    cls = misbehaving("garbage")
    plugin = cls(PluginContext(clock=SimClock(simpy.Environment()), component="api"))
    child = plugin._child
    assert child is not None
    plugin.close()
    assert child.popen.returncode is not None  # exited and reaped: no zombie
    plugin.close()  # idempotent
    with pytest.raises(PluginProcessCrashed, match="closed"):
        plugin.validate_configuration()


def test_a_command_that_cannot_start_is_a_launch_error(tmp_path: Path) -> None:
    with pytest.raises(PluginLaunchError, match="could not start"):
        process_plugin_class([str(tmp_path / "missing")], label="missing")
    script = tmp_path / "dies.py"
    script.write_text("import sys\nsys.stderr.write('no licence found\\n')\nsys.exit(4)\n")
    with pytest.raises(PluginLaunchError, match="no licence found"):
        process_plugin_class([sys.executable, str(script)], label="dies")


# --------------------------------------------------------------------- framing


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"hello\n", "not JSON"),
        (b"[1, 2]\n", "batches"),
        (b"42\n", "JSON object"),
        (b'{"id": 1, "result": null}\n', '"jsonrpc" must be "2.0"'),
        (b'{"jsonrpc": "2.0", "id": 1}\n', "exactly one of"),
        (b'{"jsonrpc": "2.0", "id": 1, "result": 1, "error": {}}\n', "exactly one of"),
        (b'{"jsonrpc": "2.0", "id": 1, "error": {"code": "x", "message": ""}}\n', "error.code"),
        (b'{"jsonrpc": "2.0", "id": true, "method": "m"}\n', '"id" must be'),
        (b'{"jsonrpc": "2.0", "id": 1, "result": NaN}\n', "not JSON"),
        (b"\xff\n", "UTF-8"),
        (b"\n", "empty line"),
    ],
)
def test_lines_that_are_not_messages_are_violations(line: bytes, problem: str) -> None:
    with pytest.raises(ProtocolViolation, match=problem):
        decode_message(line)


def test_messages_decode() -> None:
    request = decode_message(b'{"jsonrpc":"2.0","id":"b1","method":"backend/get","params":{}}\n')
    assert request == Request("b1", "backend/get", {})
    response = decode_message(b'{"jsonrpc":"2.0","id":3,"result":null}\r\n')
    assert response == Response(3, None, None)
    broken = b'{"jsonrpc":"2.0","id":3,"result":1,"error":{}}'
    with pytest.raises(ProtocolViolation) as caught:
        decode_message(broken)
    assert caught.value.response_id == 3


def test_the_wire_names_every_backend_error_kind() -> None:
    from typing import get_args

    from simulator.backend.backup_system import ErrorKind
    from simulator.bridge.protocol import BACKEND_ERROR_KINDS

    assert get_args(ErrorKind) == BACKEND_ERROR_KINDS


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no interval timers here")
def test_the_in_process_watchdog_interrupts_a_hang_and_passes_other_alarms_on() -> None:
    # Its SIGALRM handler stays installed between calls: an alarm that is not a call's
    # reaches the handler it replaced, as before the watchdog first ran.
    from simulator.platform.watchdog import CallTimeout, Watchdog

    got: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: got.append(signum))
    try:
        for _ in range(2):
            with pytest.raises(CallTimeout), Watchdog(0.05):
                time.sleep(5)
            with Watchdog(5.0):
                pass  # a call that returns in time disarms its alarm
            signal.setitimer(signal.ITIMER_REAL, 0.01)
            time.sleep(0.5)
        assert got == [signal.SIGALRM, signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------- process trees


def _gone_soon(pids: list[int], within_s: float = 5.0) -> list[int]:
    """The pids still alive after ``within_s`` (the fork server kills asynchronously)."""
    deadline = time.monotonic() + within_s
    while [p for p in pids if alive(p)] and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


@pytest.fixture
def daemons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The folder the daemon plugins write their sleepers' pids to; none outlives the test."""
    monkeypatch.setenv(DAEMONS_DIR, str(tmp_path))
    yield tmp_path
    for pid in (int(p.name) for p in tmp_path.iterdir()):
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def _served(name: str, *, forked: bool, timeout_s: float = 10.0) -> type[ProcessPlugin]:
    """A class of ``tests.plugins.daemons``, served, forked from a fork server or not."""
    target = f"tests.plugins.daemons:{name}"
    return process_plugin_class(
        [sys.executable, "-m", "simulator.bridge.server", target],
        label=name,
        cwd=REPO,
        call_timeout_s=timeout_s,
        fork_target=target if forked else None,
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("forked", [True, False], ids=["fork-server", "spawned"])
def test_closing_an_instance_kills_processes_that_left_its_session(
    daemons: Path, forked: bool
) -> None:
    cls = _served("LeavesDaemons", forked=forked)
    before = {p.name for p in daemons.iterdir()}  # the probe process's, already gone
    assert not _gone_soon([int(p) for p in before])
    with instance(cls) as plugin:
        pids = [int(p.name) for p in daemons.iterdir() if p.name not in before]
        assert len(pids) == 2 and all(alive(p) for p in pids)
        assert plugin.pid is not None
    assert not _gone_soon(pids), "a setsid or double-forked child outlived its plugin"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("forked", [True, False], ids=["fork-server", "spawned"])
def test_a_missed_deadline_kills_the_plugins_whole_process_tree(
    daemons: Path, forked: bool
) -> None:
    cls = _served("HangsWithDaemons", forked=forked, timeout_s=3.0)
    with instance(cls) as plugin:
        with pytest.raises(CallDeadlineExceeded):
            plugin.validate_configuration()
        pids = [int(p.name) for p in daemons.iterdir()]
        assert len(pids) == 2
        # The harness still runs, and so does the plugin's replacement process.
        assert not _gone_soon(pids), "the plugin's daemons outlived its missed deadline"
        assert plugin.pid is not None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_forked_instances_are_fresh_processes_in_sessions_of_their_own() -> None:
    target = "simulator.reference:ReferencePlugin"
    cls = process_plugin_class(
        [sys.executable, "-m", "simulator.bridge.server", target],
        label="reference",
        cwd=REPO,
        fork_target=target,
    )
    with instance(cls, "api") as api, instance(cls, "cpp") as cpp:
        assert api.pid != cpp.pid
        for pid in (api.pid, cpp.pid):
            assert os.getsid(pid) == pid  # its own session, killed as a tree
        assert isinstance(api._child.popen, ForkedPopen)  # type: ignore[union-attr]
        with pytest.raises(ConfigurationError):
            api.validate_configuration()
    with instance(cls) as crashed:
        pid = crashed.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(PluginProcessCrashed, match="killed by SIGKILL"):
            crashed.validate_configuration()
        assert crashed.pid not in (None, pid)  # replaced by a fresh fork


# ------------------------------------------------------------ same verdicts

#: Rules that only an out-of-process plugin can be judged by (skipped in process).
_OUT_OF_PROCESS_ONLY = frozenset({"errors.no-crash", "protocol.stdout-clean"})


@pytest.mark.parametrize(
    ("spec", "failing"),
    [
        ("reference", None),
        ("conformance.selftest.mutants:SessionLeakPlugin", "connections.closed-after-use"),
        ("conformance.selftest.mutants:CachedFirstListingPlugin", "startup.instances-isolated"),
        ("conformance.selftest.mutants:CounterJobKeyPlugin", "schedules.idempotent"),
    ],
)
def test_isolation_changes_no_verdict(spec: str, failing: str | None) -> None:
    from conformance.runner import run

    def statuses(isolation: Any) -> dict[str, str]:
        report = run(spec, scenarios=["smoke"], isolation=isolation, seed=3)
        return {r.id: r.status for r in report.rules if r.id not in _OUT_OF_PROCESS_ONLY}

    in_process, isolated = statuses("in-process"), statuses("process")
    assert isolated == in_process
    failed = sorted(rule for rule, status in in_process.items() if status == "fail")
    assert (failing in failed) if failing else failed == []


def test_a_cycle_sent_at_once_whose_connect_fails_leaves_nothing_behind(
    forked_reference: type[ProcessPlugin],
) -> None:
    with small_world() as world:
        plugin = forked_reference(world.context("cpp", REFERENCE_PROPERTIES))
        try:
            plugin.drain_protocol_violations()
            wrong = ConnectionData.model_validate(
                {"endpoint": world.system.endpoint, "user": USER, "password": "wrong"}
            )
            plugin.plan_cycle(Operation.GET_EXPIRED_RESULTS, (["a"],))
            connection = plugin.new_connection()
            with pytest.raises(PluginConnectionError, match="refused the credentials"):
                connection.connect(wrong)
            # The operation and disconnect sent ahead were refused and dropped unread.
            assert call(world, plugin, "get_expired_results", ["b"]) == []
            assert plugin.drain_protocol_violations() == []
            assert world.system.open_sessions() == []
        finally:
            plugin.close()
