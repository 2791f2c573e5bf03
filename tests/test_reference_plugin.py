"""The reference plugin, driven through the contract as the platform drives it."""

from __future__ import annotations

import random
import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import simpy
from pydantic import SecretStr

from simulator.backend.backup_system import BackupSystem, BackupSystemSettings
from simulator.backend.fleet import Fleet
from simulator.backend.schedule import occurrences
from simulator.clock import SimClock
from simulator.contract import (
    COMPONENTS,
    BackupConfiguration,
    BackupPlugin,
    BackupPluginBase,
    BackupPluginError,
    BackupPluginException,
    BackupPolicy,
    BackupResult,
    BackupSchedule,
    BackupType,
    Component,
    ConfigurationError,
    ConnectionData,
    FieldConstraint,
    OnDemandBackupOptions,
    Periodicity,
    PluginConnectionError,
    PluginContext,
    ResultState,
    VirtualMachineInfo,
)
from simulator.reference import (
    REFERENCE_PROPERTIES,
    REPLICATION_PROPERTY,
    TIMEOUT_PROPERTY,
    ReferenceConnection,
    ReferencePlugin,
    parse_properties,
)

HOUR = 3600.0
DAY = 86400.0
TOLERANCE = timedelta(minutes=15)
US = timedelta(microseconds=1)


def cfg(
    subtype: str, time: str | None, btype: BackupType = BackupType.COMPLETE
) -> BackupConfiguration:
    return BackupConfiguration(type=btype, subtype=Periodicity(subtype), time=time)


DAILY_2AM = cfg("DAILY", "02:00:00 +0000")
SIX_HOURLY = cfg("HOURLY", "6", BackupType.SNAPSHOT)
DAILY_2PM = cfg("DAILY", "14:00:00 +0000")


def schedule(*policies: tuple[str, tuple[BackupConfiguration, ...]]) -> BackupSchedule:
    return BackupSchedule(
        policies=tuple(
            BackupPolicy(code=code, name=code.title(), configurations=configs)
            for code, configs in policies
        )
    )


@dataclass
class World:
    """One simulated world with the platform's three plugin instances."""

    env: simpy.Environment
    clock: SimClock
    fleet: Fleet
    system: BackupSystem
    properties: dict[str, str] = field(default_factory=lambda: dict(REFERENCE_PROPERTIES))
    plugins: dict[Component, ReferencePlugin] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for component in COMPONENTS:
            context = PluginContext(self.clock, self.properties, component)
            self.plugins[component] = ReferencePlugin(context)

    @property
    def data(self) -> ConnectionData:
        return ConnectionData(
            endpoint=self.system.endpoint, user="admin", password=SecretStr("secret")
        )

    def call(self, component: Component, method: str, *args: Any) -> Any:
        """connect / invoke / disconnect, as the platform's invoker does."""
        plugin = self.plugins[component]
        connection = plugin.new_connection()
        connection.connect(self.data)
        try:
            return getattr(plugin, method)(connection, *args)
        finally:
            connection.disconnect()

    def vf(self, method: str, *args: Any) -> Any:
        return self.call("virtualfactory", method, *args)

    def poll(
        self, last_check_date: datetime | None, ids: frozenset[str] = frozenset()
    ) -> list[BackupResult]:
        results: list[BackupResult] = self.call("cpp", "list_results", last_check_date, ids)
        return results

    def vm(self, i: int) -> VirtualMachineInfo:
        return self.fleet.info(i)

    def run(self, seconds: float) -> None:
        if seconds > self.env.now:
            self.env.run(until=seconds)


def make_world(seed: int = 3, **settings: Any) -> World:
    env = simpy.Environment()
    clock = SimClock(env)
    rng = random.Random(seed)
    fleet = Fleet.generate(rng, vms=8)
    options: dict[str, Any] = {"failure_probability": 0.0}
    options.update(settings)
    system = BackupSystem(env, rng, clock, fleet, BackupSystemSettings.model_validate(options))
    return World(env, clock, fleet, system)


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world()
    with w.system:
        yield w
        assert w.system.open_sessions() == [], "a connection was left open"


def scheduled_of(results: list[BackupResult], vm_uuid: str) -> list[BackupResult]:
    return [r for r in results if r.vm_uuid == vm_uuid and not r.on_demand]


# ------------------------------------------------------------------- startup


def test_the_plugin_implements_the_contract() -> None:
    assert issubclass(ReferencePlugin, BackupPluginBase)
    plugin = ReferencePlugin(PluginContext(SimClock(simpy.Environment()), REFERENCE_PROPERTIES))
    assert isinstance(plugin, BackupPlugin)
    assert ReferencePlugin.metadata.type == "reference"
    assert ReferencePlugin.metadata.supported_versions == ("1.0", "1.5")
    assert ReferencePlugin.connection_metadata.endpoint is FieldConstraint.MANDATORY
    assert ReferencePlugin.connection_metadata.credentials is FieldConstraint.MANDATORY
    assert ReferencePlugin.unsupported_operations == frozenset()


def test_validate_configuration_passes_with_the_reference_properties(world: World) -> None:
    for plugin in world.plugins.values():
        plugin.validate_configuration()
    assert parse_properties(REFERENCE_PROPERTIES).timeout_s == 30


@pytest.mark.parametrize("missing", sorted(REFERENCE_PROPERTIES))
def test_validate_configuration_names_a_missing_property(missing: str) -> None:
    properties = {k: v for k, v in REFERENCE_PROPERTIES.items() if k != missing}
    plugin = ReferencePlugin(PluginContext(SimClock(simpy.Environment()), properties))
    with pytest.raises(ConfigurationError, match=missing):
        plugin.validate_configuration()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (TIMEOUT_PROPERTY, "0"),
        (TIMEOUT_PROPERTY, "-5"),
        (TIMEOUT_PROPERTY, "thirty"),
        (TIMEOUT_PROPERTY, " "),
        (REPLICATION_PROPERTY, "yes"),
    ],
)
def test_validate_configuration_rejects_an_invalid_property(name: str, value: str) -> None:
    properties = {**REFERENCE_PROPERTIES, name: value}
    plugin = ReferencePlugin(PluginContext(SimClock(simpy.Environment()), properties))
    with pytest.raises(ConfigurationError, match=name):
        plugin.validate_configuration()


# --------------------------------------------------------------- connections


def test_connect_failures_are_plugin_connection_errors(world: World) -> None:
    connection = ReferenceConnection()
    bad = [
        world.data.model_copy(update={"password": SecretStr("wrong")}),
        world.data.model_copy(update={"endpoint": "sim://nowhere"}),
        world.data.model_copy(update={"endpoint": None}),
        world.data.model_copy(update={"user": None, "password": None}),
    ]
    for data in bad:
        with pytest.raises(PluginConnectionError) as info:
            connection.connect(data)
        assert info.value.error is BackupPluginError.CONNECTION
    assert world.system.open_sessions() == []


def test_disconnect_is_idempotent_and_reconnecting_does_not_leak(world: World) -> None:
    connection = ReferenceConnection()
    connection.connect(world.data)
    connection.connect(world.data)
    assert len(world.system.open_sessions()) == 1
    connection.disconnect()
    connection.disconnect()
    assert world.system.open_sessions() == []


def test_an_operation_on_an_unconnected_connection_raises_connection(world: World) -> None:
    plugin = world.plugins["virtualfactory"]
    with pytest.raises(BackupPluginException) as info:
        plugin.remove_schedule(ReferenceConnection(), world.vm(0))
    assert info.value.error is BackupPluginError.CONNECTION


# ------------------------------------------------------------------ schedules


def test_after_apply_schedule_results_appear_at_the_schedule_times(world: World) -> None:
    vm = world.vm(0)
    world.vf("apply_schedule", vm, schedule(("gold", (DAILY_2AM, SIX_HOURLY))))
    end = 3 * DAY
    world.run(end)
    results = scheduled_of(world.poll(None), vm.uuid)
    for config in (DAILY_2AM, SIX_HOURLY):
        due = occurrences(config, world.clock.at(0), world.clock.at(end) - TOLERANCE)
        mine = sorted((r.creation_date for r in results if r.type is config.type), key=lambda d: d)
        assert len(mine) >= len(due)
        for occurrence, created in zip(due, mine, strict=False):
            assert occurrence <= created <= occurrence + TOLERANCE


def test_repeating_apply_schedule_changes_nothing(world: World) -> None:
    vm, s = world.vm(1), schedule(("gold", (DAILY_2AM,)))
    for k in range(4):
        world.run(k * 10 * HOUR)
        world.vf("apply_schedule", vm, s)
    world.run(3 * DAY)
    assert len(scheduled_of(world.poll(None), vm.uuid)) == 3


def test_apply_schedule_converges_when_the_backend_has_stray_jobs(world: World) -> None:
    vm = world.vm(1)
    world.vf("apply_schedule", vm, schedule(("gold", (DAILY_2AM, SIX_HOURLY))))
    world.vf("apply_schedule", vm, schedule(("gold", (DAILY_2AM,))))
    world.run(2 * DAY)
    assert {r.type for r in scheduled_of(world.poll(None), vm.uuid)} == {BackupType.COMPLETE}


def test_apply_new_schedule_stops_removed_starts_added_and_moves_changed(world: World) -> None:
    vm = world.vm(2)
    old = schedule(("gold", (DAILY_2AM, SIX_HOURLY)))
    new = schedule(("gold", (DAILY_2PM,)), ("silver", (cfg("DAILY", "08:00:00 +0000"),)))
    world.vf("apply_schedule", vm, old)
    world.run(DAY)
    world.vf("apply_new_schedule", vm, old, new)
    world.run(3 * DAY)
    after = [
        r for r in scheduled_of(world.poll(None), vm.uuid) if r.creation_date >= world.clock.at(DAY)
    ]
    assert {r.type for r in after} == {BackupType.COMPLETE}
    assert sorted({r.creation_date.hour for r in after}) == [8, 14]
    assert sorted(r.name.split("-")[-3] for r in after) == ["gold"] * 2 + ["silver"] * 2


def test_after_remove_schedule_no_new_backups_appear_and_old_ones_stay(world: World) -> None:
    vm = world.vm(3)
    world.vf("apply_schedule", vm, schedule(("gold", (SIX_HOURLY,))))
    world.run(DAY)
    world.vf("remove_schedule", vm)
    before = {r.provider_id for r in scheduled_of(world.poll(None), vm.uuid)}
    world.run(3 * DAY)
    after = {r.provider_id for r in scheduled_of(world.poll(None), vm.uuid)}
    assert len(before) == 4 and after == before


def test_schedule_errors_carry_fitting_codes(world: World) -> None:
    stranger = world.vm(0).model_copy(update={"uuid": "no-such-vm"})
    with pytest.raises(BackupPluginException) as info:
        world.vf("apply_schedule", stranger, schedule(("gold", (DAILY_2AM,))))
    assert info.value.error is BackupPluginError.VM_NOT_FOUND
    vm = world.vm(0)
    missing_disk = BackupConfiguration(
        type=BackupType.COMPLETE, subtype=Periodicity.DAILY, sources=(str(len(vm.disks)),)
    )
    with pytest.raises(BackupPluginException) as info:
        world.vf("apply_schedule", vm, schedule(("gold", (missing_disk,))))
    assert info.value.error is BackupPluginError.INVALID_SCHEDULE


# ------------------------------------------------------------------ on demand


def test_execute_backup_returns_an_on_demand_result_that_reaches_done(world: World) -> None:
    vm = world.vm(4)
    world.run(HOUR)
    result: BackupResult = world.vf("execute_backup", vm, OnDemandBackupOptions(replication=True))
    assert result.provider_id and result.vm_uuid == vm.uuid
    assert result.on_demand and result.replication
    assert result.state in (ResultState.IN_PROGRESS, ResultState.DONE)
    check = world.clock.now()
    world.run(DAY)
    [polled] = world.poll(check, frozenset({result.provider_id}))
    assert polled.provider_id == result.provider_id and polled.state is ResultState.DONE
    assert polled.finish_date is not None and polled.creation_date <= polled.finish_date


def test_replication_is_refused_as_unsupported_when_disabled() -> None:
    w = make_world()
    w.properties[REPLICATION_PROPERTY] = "false"
    with w.system:
        with pytest.raises(BackupPluginException) as info:
            w.vf("execute_backup", w.vm(0), OnDemandBackupOptions(replication=True))
        assert info.value.error is BackupPluginError.UNSUPPORTED
        result = w.vf("execute_backup", w.vm(0), OnDemandBackupOptions(replication=False))
        assert not result.replication


def test_execute_restore_of_a_done_backup_points_at_it(world: World) -> None:
    vm = world.vm(5)
    backup = world.vf("execute_backup", vm, OnDemandBackupOptions())
    world.run(DAY)
    restore = world.vf("execute_restore", vm, backup.provider_id)
    assert restore.backup_provider_id == backup.provider_id
    assert restore.provider_id != backup.provider_id
    # The platform polls the restore id; the answer is the parent backup carrying it.
    [parent] = world.poll(world.clock.now() + US, frozenset({restore.provider_id}))
    assert parent.provider_id == backup.provider_id
    assert [r.provider_id for r in parent.restores] == [restore.provider_id]
    world.run(2 * DAY)
    [truth] = world.system.truth_restores()
    assert truth.verified is True


def test_execute_restore_refuses_unknown_foreign_and_unfinished_backups(world: World) -> None:
    mine, other = world.vm(6), world.vm(7)
    backup = world.vf("execute_backup", mine, OnDemandBackupOptions())

    def code(vm: VirtualMachineInfo, backup_id: str) -> BackupPluginError:
        with pytest.raises(BackupPluginException) as info:
            world.vf("execute_restore", vm, backup_id)
        return info.value.error

    assert code(mine, backup.provider_id) is BackupPluginError.BACKUP_NOT_RESTORABLE
    world.run(DAY)
    assert code(mine, "no-such-backup") is BackupPluginError.BACKUP_NOT_FOUND
    assert code(other, backup.provider_id) is BackupPluginError.BACKUP_NOT_FOUND
    assert world.system.restores_started == 0


# -------------------------------------------------------------------- polling


def test_list_results_window_is_inclusive(world: World) -> None:
    world.run(HOUR)
    backup = world.vf("execute_backup", world.vm(0), OnDemandBackupOptions())
    created = backup.creation_date
    assert [r.provider_id for r in world.poll(created)] == [backup.provider_id]
    assert world.poll(created + US) == []
    world.run(DAY)
    [truth] = world.system.truth_backups()
    assert [r.provider_id for r in world.poll(truth.planned_finish_date)] == [backup.provider_id]
    assert world.poll(truth.planned_finish_date + US) == []


def test_list_results_answers_every_asked_id_and_unknown_for_lost_ones(world: World) -> None:
    world.vf("apply_schedule", world.vm(0), schedule(("gold", (SIX_HOURLY,))))
    world.run(DAY)
    known = world.poll(None)
    asked = frozenset({known[0].provider_id, "bk-77777777", "lost-id"})
    later = world.clock.now() + timedelta(days=1)
    answer = world.poll(later, asked)
    by_id = {r.provider_id: r for r in answer}
    assert set(by_id) == asked and len(answer) == len(asked)
    assert by_id[known[0].provider_id].state is ResultState.DONE
    for lost in ("bk-77777777", "lost-id"):
        assert by_id[lost].state is ResultState.UNKNOWN
        assert by_id[lost].message and by_id[lost].creation_date == world.clock.now()


def test_list_results_has_no_duplicates_and_a_stable_order(world: World) -> None:
    for i in range(4):
        world.vf("apply_schedule", world.vm(i), schedule(("gold", (SIX_HOURLY, DAILY_2AM))))
    world.run(2 * DAY)
    everything = world.poll(None)
    ids = [r.provider_id for r in everything]
    answer = world.poll(world.clock.at(0), frozenset(ids[:10]))
    assert [r.provider_id for r in answer] == ids
    assert len(set(ids)) == len(ids)
    assert [(r.creation_date, r.provider_id) for r in answer] == sorted(
        (r.creation_date, r.provider_id) for r in answer
    )


def test_an_outage_raises_backend_rather_than_an_empty_answer(world: World) -> None:
    world.vf("apply_schedule", world.vm(0), schedule(("gold", (SIX_HOURLY,))))
    world.run(DAY)
    plugin = world.plugins["cpp"]
    connection = plugin.new_connection()
    connection.connect(world.data)
    world.system.add_outage(DAY, DAY + HOUR)
    try:
        with pytest.raises(BackupPluginException) as info:
            plugin.list_results(connection, None, frozenset())
        assert info.value.error is BackupPluginError.BACKEND
        with pytest.raises(BackupPluginException) as info:
            plugin.get_expired_results(connection, ["bk-00000001"])
        assert info.value.error is BackupPluginError.BACKEND
    finally:
        connection.disconnect()
    with pytest.raises(PluginConnectionError):
        world.call("cpp", "list_results", None, frozenset())
    world.run(DAY + HOUR)
    assert len(world.poll(None)) == 4


def test_get_expired_results_reports_expired_backups_only() -> None:
    w = make_world(default_retention_s=2 * HOUR)
    with w.system:
        first = w.vf("execute_backup", w.vm(0), OnDemandBackupOptions())
        w.run(5 * HOUR)
        second = w.vf("execute_backup", w.vm(1), OnDemandBackupOptions())
        w.run(6 * HOUR)
        ids = [second.provider_id, first.provider_id, first.provider_id, "unknown"]
        assert w.call("cpp", "get_expired_results", ids) == [first.provider_id]
        w.run(DAY)
        assert w.call("cpp", "get_expired_results", ids) == [
            second.provider_id,
            first.provider_id,
        ]


# ----------------------------------------------------------------- instances


def test_the_three_instances_share_state_only_through_the_backend(world: World) -> None:
    vm = world.vm(0)
    world.plugins["api"].validate_configuration()
    world.vf("apply_schedule", vm, schedule(("gold", (SIX_HOURLY,))))
    world.run(DAY)
    # The CPP instance never saw the schedule, yet lists what the backend took.
    assert len(world.poll(None)) == 4
    for plugin in world.plugins.values():
        assert vars(plugin) == {"context": plugin.context}
    # A brand-new instance, as after a restart, sees the same.
    fresh = ReferencePlugin(PluginContext(world.clock, REFERENCE_PROPERTIES, "cpp"))
    connection = fresh.new_connection()
    connection.connect(world.data)
    try:
        assert len(fresh.list_results(connection, None, frozenset())) == 4
    finally:
        connection.disconnect()


def test_worlds_are_isolated_by_endpoint() -> None:
    a, b = make_world(seed=1), make_world(seed=1)
    with a.system, b.system:
        a.vf("apply_schedule", a.vm(0), schedule(("gold", (SIX_HOURLY,))))
        a.run(DAY)
        b.run(DAY)
        assert len(a.poll(None)) == 4
        assert b.poll(None) == []


# ---------------------------------------------------------------- the docs


def test_the_skeleton_in_docs_contract_md_is_a_working_plugin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "contract.md").read_text()
    [code] = re.findall(r"```python\n(.*?)```", text, re.S)

    class AcmeError(Exception):
        pass

    class AcmeClient:
        def __init__(self, endpoint: str, user: str, password: str) -> None:
            if password != "secret":
                raise AcmeError("refused")
            self.jobs: dict[str, object] = {}

        def set_jobs(self, vm_uuid: str, jobs: object) -> None:
            self.jobs[vm_uuid] = jobs

        def close(self) -> None:
            pass

    fake = types.ModuleType("acme_backup")
    fake.AcmeClient = AcmeClient  # type: ignore[attr-defined]
    fake.AcmeError = AcmeError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "acme_backup", fake)
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/contract.md", "exec"), namespace)
    plugin_class = namespace["AcmePlugin"]
    clock = SimClock(simpy.Environment())

    plugin = plugin_class(PluginContext(clock, plugin_class.example_properties))
    assert isinstance(plugin, BackupPlugin)
    plugin.validate_configuration()
    with pytest.raises(ConfigurationError, match=r"acme\.region"):
        plugin_class(PluginContext(clock, {})).validate_configuration()

    connection = plugin.new_connection()
    with pytest.raises(PluginConnectionError):
        connection.connect(ConnectionData(endpoint="acme://x", user="u", password=SecretStr("no")))
    connection.connect(ConnectionData(endpoint="acme://x", user="u", password=SecretStr("secret")))
    vm = Fleet.generate(random.Random(1), vms=1).info(0)
    plugin.apply_schedule(connection, vm, schedule(("gold", (DAILY_2AM,))))
    with pytest.raises(BackupPluginException) as info:
        plugin.execute_restore(connection, vm, "bk-1")
    assert info.value.error is BackupPluginError.UNSUPPORTED
    connection.disconnect()
    with pytest.raises(BackupPluginException) as info:
        plugin.remove_schedule(connection, vm)
    assert info.value.error is BackupPluginError.UNSUPPORTED
