"""The fake backup system: reached by endpoint, runs jobs on time, restores faithfully."""

from __future__ import annotations

import pickle
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from simulator.backend.backup_system import (
    BackupSession,
    BackupSystem,
    BackupSystemError,
    BackupSystemFault,
    BackupSystemSettings,
    connect,
)
from simulator.backend.fleet import Fleet
from simulator.backend.schedule import occurrences
from simulator.clock import SimClock
from simulator.contract import (
    BackupConfiguration,
    BackupPolicy,
    BackupType,
    Periodicity,
    ResultState,
)
from simulator.faults import HarnessError

HOUR = 3600.0
DAY = 86400.0
US = timedelta(microseconds=1)
DELAY = timedelta(seconds=300)


@dataclass
class World:
    env: simpy.Environment
    clock: SimClock
    fleet: Fleet
    system: BackupSystem

    def session(self) -> BackupSession:
        return connect(self.system.endpoint, "admin", "secret")

    def run(self, seconds: float) -> None:
        if seconds > self.env.now:
            self.env.run(until=seconds)


def make_world(seed: int = 1, vms: int = 10, **settings: object) -> World:
    env = simpy.Environment()
    clock = SimClock(env)
    rng = random.Random(seed)
    fleet = Fleet.generate(rng, vms=vms)
    options: dict[str, object] = {"failure_probability": 0.0}
    options.update(settings)
    system = BackupSystem(env, rng, clock, fleet, BackupSystemSettings.model_validate(options))
    return World(env, clock, fleet, system)


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world()
    with w.system:
        yield w


def policy(code: str, *configs: BackupConfiguration, replication: bool = False) -> BackupPolicy:
    return BackupPolicy(
        code=code, name=code.title(), replication=replication, configurations=configs
    )


def cfg(
    subtype: str,
    time: str | None = None,
    days: tuple[str, ...] = (),
    btype: BackupType = BackupType.COMPLETE,
    sources: tuple[str, ...] = (),
) -> BackupConfiguration:
    return BackupConfiguration(
        type=btype, subtype=Periodicity(subtype), time=time, days=days, sources=sources
    )


DAILY_2AM = cfg("DAILY", "02:00:00 +0000")


# ------------------------------------------------------------ reaching it


def test_connect_reaches_only_a_registered_system() -> None:
    w = make_world()
    with pytest.raises(BackupSystemError) as info:
        w.session()
    assert info.value.kind == "unreachable"
    # The endpoint differs between runs of one seed, and messages reach traces.
    assert w.system.endpoint not in str(info.value)
    with w.system:
        assert not w.session().closed
    with pytest.raises(BackupSystemError) as info:
        w.session()
    assert info.value.kind == "unreachable"


def test_wrong_credentials_are_refused(world: World) -> None:
    for user, password in [("admin", "wrong"), ("root", "secret"), (None, None)]:
        with pytest.raises(BackupSystemError) as info:
            connect(world.system.endpoint, user, password)
        assert info.value.kind == "auth"
    with pytest.raises(BackupSystemError) as info:
        connect(None, "admin", "secret")
    assert info.value.kind == "unreachable"


def test_every_system_gets_its_own_endpoint() -> None:
    a, b = make_world(), make_world()
    assert a.system.endpoint != b.system.endpoint
    assert a.system.endpoint.startswith("sim://backup-")
    c = make_world()
    clash = BackupSystem(c.env, random.Random(1), c.clock, c.fleet, endpoint=a.system.endpoint)
    with a.system, pytest.raises(ValueError, match="already belongs"):
        clash.register()


def test_the_clock_must_run_on_the_same_environment() -> None:
    w = make_world()
    with pytest.raises(ValueError, match=r"same simpy\.Environment"):
        BackupSystem(simpy.Environment(), random.Random(1), w.clock, w.fleet)


def test_sessions_are_ledgered_and_close_is_idempotent(world: World) -> None:
    world.run(10)
    s1 = world.session()
    world.run(20)
    s2 = world.session()
    assert world.system.open_sessions() == [(s1.session_id, 10.0), (s2.session_id, 20.0)]
    s1.close()
    s1.close()
    assert world.system.open_sessions() == [(s2.session_id, 20.0)]
    assert world.system.sessions_opened_total == 2
    with pytest.raises(BackupSystemError) as info:
        s1.jobs(world.fleet.uuid(0))
    assert info.value.kind == "invalid" and "closed" in info.value.message


def test_a_shut_down_system_answers_unavailable_to_open_sessions(world: World) -> None:
    session = world.session()
    world.system.unregister()
    with pytest.raises(BackupSystemError) as info:
        session.jobs(world.fleet.uuid(0))
    assert info.value.kind == "unavailable"
    session.close()


def test_the_system_schedules_no_simpy_event(world: World) -> None:
    session = world.session()
    for i in range(world.fleet.size):
        session.put_job(world.fleet.info(i), policy("p", DAILY_2AM), DAILY_2AM)
    world.run(3 * DAY)
    assert world.system.backups_taken == 3 * world.fleet.size
    # Nothing is queued past now (run(until=...) may leave its own stop event at now).
    assert world.env.peek() in (world.env.now, float("inf"))


# ---------------------------------------------------------------- schedules


def _occurrence_window(w: World, config: BackupConfiguration, end_s: float) -> list[datetime]:
    """Occurrences whose backup must exist by end_s (creation can lag by the start delay)."""
    return occurrences(config, w.clock.at(0), w.clock.at(end_s) - DELAY)


@pytest.mark.parametrize(
    "config",
    [
        cfg("DAILY", "02:00:00 +0000"),
        cfg("DAILY", "01:00:00 +0200"),
        cfg("HOURLY", "5"),
        cfg("WEEKLY_PLANNED", "00:30:00 +0200", ("monday", "thursday")),
        cfg("DEFINED_HOUR", "2026/01/06 13:15:00 +0100"),
        cfg("MONTHLY", "06:00:00 +0000"),
    ],
)
def test_jobs_run_at_the_schedule_times_within_the_start_delay(
    world: World, config: BackupConfiguration
) -> None:
    session = world.session()
    for i in range(3):
        session.put_job(world.fleet.info(i), policy("gold", config), config)
    end = 40 * DAY
    world.run(end)
    expected = _occurrence_window(world, config, end)
    assert expected, "the window must hold at least one occurrence"
    for i in range(3):
        uuid = world.fleet.uuid(i)
        taken = [t for t in world.system.truth_backups() if t.vm_uuid == uuid]
        assert [t.occurrence_date for t in taken][: len(expected)] == expected
        for t in taken:
            assert t.occurrence_date is not None
            assert t.occurrence_date <= t.creation_date <= t.occurrence_date + DELAY
            assert (t.policy_code, t.type, t.subtype) == ("gold", config.type, config.subtype)
            assert not t.on_demand
            assert t.creation_date < t.planned_finish_date < t.expiration_date
    assert not world.system.missed_occurrences


def test_a_timeless_configuration_runs_once_per_period_at_a_stable_placement(
    world: World,
) -> None:
    config = cfg("DAILY")
    session = world.session()
    for i in range(4):
        session.put_job(world.fleet.info(i), policy("p", config), config)
    world.run(5 * DAY + HOUR)
    placements: dict[str, set[timedelta]] = {}
    for t in world.system.truth_backups():
        assert t.occurrence_date is not None
        day_start = t.occurrence_date.replace(hour=0, minute=0, second=0, microsecond=0)
        placements.setdefault(t.vm_uuid, set()).add(t.occurrence_date - day_start)
    counts = {
        uuid: sum(1 for t in world.system.truth_backups() if t.vm_uuid == uuid)
        for uuid in placements
    }
    assert len(placements) == 4
    assert all(len(p) == 1 for p in placements.values())
    assert all(4 <= n <= 6 for n in counts.values())
    assert len({next(iter(p)) for p in placements.values()}) > 1


def test_a_timeless_defined_hour_never_runs(world: World) -> None:
    config = cfg("DEFINED_HOUR")
    world.session().put_job(world.fleet.info(0), policy("p", config), config)
    world.run(10 * DAY)
    assert world.system.backups_taken == 0


def test_putting_the_same_job_again_changes_nothing(world: World) -> None:
    session = world.session()
    vm, gold = world.fleet.info(0), policy("gold", DAILY_2AM)
    first = session.put_job(vm, gold, DAILY_2AM)
    for k in range(1, 8):
        world.run(k * 7 * HOUR)
        assert session.put_job(vm, gold, DAILY_2AM) == first
    world.run(3 * DAY)
    taken = list(world.system.truth_backups())
    assert [t.occurrence_date for t in taken] == _occurrence_window(world, DAILY_2AM, 3 * DAY)
    assert len(session.jobs(vm.uuid)) == 1


def test_a_changed_job_moves_to_its_new_time_from_now_on(world: World) -> None:
    session = world.session()
    vm = world.fleet.info(0)
    session.put_job(vm, policy("gold", DAILY_2AM), DAILY_2AM)
    world.run(DAY + 12 * HOUR)
    afternoon = cfg("DAILY", "14:00:00 +0000")
    session.put_job(vm, policy("gold", afternoon), afternoon)
    world.run(3 * DAY)
    hours = [t.occurrence_date.hour for t in world.system.truth_backups() if t.occurrence_date]
    assert hours == [2, 2, 14, 14]
    assert [j.configuration for j in session.jobs(vm.uuid)] == [afternoon]


def test_deleting_jobs_stops_their_backups_and_keeps_earlier_ones(world: World) -> None:
    session = world.session()
    vm = world.fleet.info(0)
    hourly = cfg("HOURLY", "6", btype=BackupType.SNAPSHOT)
    session.put_job(vm, policy("gold", DAILY_2AM, hourly), DAILY_2AM)
    session.put_job(vm, policy("gold", DAILY_2AM, hourly), hourly)
    session.put_job(vm, policy("silver", DAILY_2AM), DAILY_2AM)
    assert [(j.policy_code, j.configuration.subtype) for j in session.jobs(vm.uuid)] == [
        ("gold", Periodicity.DAILY),
        ("gold", Periodicity.HOURLY),
        ("silver", Periodicity.DAILY),
    ]
    world.run(DAY - HOUR)
    assert session.delete_job(vm.uuid, "gold", BackupType.SNAPSHOT, Periodicity.HOURLY)
    assert not session.delete_job(vm.uuid, "gold", BackupType.SNAPSHOT, Periodicity.HOURLY)
    world.run(2 * DAY - HOUR)
    assert session.delete_jobs(vm.uuid) == 2
    assert session.delete_jobs(vm.uuid) == 0
    before = world.system.backups_taken
    world.run(5 * DAY)
    assert world.system.backups_taken == before == 4 + 2 + 2
    assert len(session.changed_since(None)) == before


def test_a_run_due_when_its_job_is_deleted_is_cancelled_and_recorded(world: World) -> None:
    session = world.session()
    vm = world.fleet.info(0)
    session.put_job(vm, policy("gold", DAILY_2AM), DAILY_2AM)
    world.run(2 * HOUR + 0.001)  # due, but its start delay has not passed yet
    assert world.system.backups_taken == 0
    session.delete_jobs(vm.uuid)
    world.run(DAY)
    [missed] = world.system.missed_occurrences
    assert (missed.vm_uuid, missed.reason) == (vm.uuid, "cancelled")
    assert missed.occurrence_date == world.clock.at(2 * HOUR)
    assert world.system.backups_taken == 0


def test_a_job_for_an_unknown_vm_or_a_missing_disk_is_refused(world: World) -> None:
    session = world.session()
    stranger = world.fleet.info(0).model_copy(update={"uuid": "not-in-the-fleet"})
    with pytest.raises(BackupSystemError) as info:
        session.put_job(stranger, policy("p", DAILY_2AM), DAILY_2AM)
    assert info.value.kind == "not_found" and "not-in-the-fleet" in info.value.message
    vm = world.fleet.info(0)
    too_far = cfg("DAILY", "02:00:00 +0000", sources=(str(len(vm.disks)),))
    with pytest.raises(BackupSystemError) as info:
        session.put_job(vm, policy("p", too_far), too_far)
    assert info.value.kind == "invalid" and "disks" in info.value.message


def test_a_backup_of_some_disks_holds_only_those(world: World) -> None:
    vm = next(
        world.fleet.info(i) for i in range(world.fleet.size) if len(world.fleet.info(i).disks) > 1
    )
    only_boot = cfg("DAILY", "02:00:00 +0000", sources=("0",))
    world.session().put_job(vm, policy("p", only_boot), only_boot)
    world.run(DAY)
    [taken] = world.system.truth_backups()
    assert taken.disk_sequences == (0,)
    assert set(world.system.backup_disk_tokens(taken.provider_id)) == {0}


# ----------------------------------------------------------- results and expiry


def test_results_move_from_in_progress_to_done_and_expire_after_retention() -> None:
    w = make_world(retention_by_policy={"gold": 6 * HOUR})
    with w.system:
        session = w.session()
        vm = w.fleet.info(0)
        session.put_job(vm, policy("gold", DAILY_2AM), DAILY_2AM)
        w.run(2 * HOUR + DELAY.total_seconds())
        [record] = session.changed_since(None)
        truth = w.system.truth_backup(record.provider_id)
        assert truth is not None
        if record.state is ResultState.IN_PROGRESS:
            assert record.finish_date is None and record.expiration_date is None
            assert w.system.vm_backup_in_progress(vm.uuid)
        w.run(w.clock.seconds(truth.planned_finish_date))
        [record] = session.get([record.provider_id]).values()
        assert record.state is ResultState.DONE and record.size_bytes > 0
        assert record.finish_date == truth.planned_finish_date
        assert record.expiration_date == record.finish_date + timedelta(hours=6)
        assert not w.system.vm_backup_in_progress(vm.uuid)
        w.run(w.clock.seconds(record.expiration_date) - 1)
        assert session.expired([record.provider_id]) == []
        w.run(w.clock.seconds(record.expiration_date))
        assert session.expired([record.provider_id]) == [record.provider_id]
        # Purged from listings, still answered by id.
        assert record.provider_id not in {r.provider_id for r in session.changed_since(None)}
        assert session.get([record.provider_id])[record.provider_id].state is ResultState.DONE


def test_on_demand_backups_use_the_default_retention(world: World) -> None:
    session = world.session()
    record = session.start_backup(world.fleet.info(1), replication=True)
    assert record.on_demand and record.replication and record.provider_id
    assert record.state is ResultState.IN_PROGRESS
    world.run(DAY)
    [done] = session.get([record.provider_id]).values()
    assert done.expiration_date is not None and done.finish_date is not None
    assert done.expiration_date - done.finish_date == timedelta(days=7)


def test_failed_backups_report_failed_and_cannot_be_restored() -> None:
    w = make_world(failure_probability=1.0)
    with w.system:
        session = w.session()
        vm = w.fleet.info(0)
        record = session.start_backup(vm, replication=False)
        w.run(DAY)
        [failed] = session.get([record.provider_id]).values()
        assert failed.state is ResultState.FAILED and failed.message
        assert failed.size_bytes == 0
        with pytest.raises(BackupSystemError) as info:
            session.start_restore(vm.uuid, record.provider_id)
        assert info.value.kind == "not_restorable" and "FAILED" in info.value.message


def test_expired_answers_a_subset_in_order_without_duplicates() -> None:
    w = make_world(default_retention_s=HOUR)
    with w.system:
        session = w.session()
        a = session.start_backup(w.fleet.info(0), replication=False).provider_id
        w.run(3 * HOUR)
        b = session.start_backup(w.fleet.info(1), replication=False).provider_id
        w.run(3 * HOUR + 60)
        assert session.expired([b, "bk-99999999", a, "junk", a, "rs-00000001"]) == [a]


def test_get_maps_restore_ids_to_their_backup_and_skips_unknown_ids(world: World) -> None:
    session = world.session()
    vm = world.fleet.info(2)
    backup = session.start_backup(vm, replication=False)
    world.run(DAY)
    restore = session.start_restore(vm.uuid, backup.provider_id)
    got = session.get([restore.provider_id, "bk-00000099", backup.provider_id, "x"])
    assert list(got) == [restore.provider_id, backup.provider_id]
    assert got[restore.provider_id] == got[backup.provider_id]
    assert got[restore.provider_id].restores[0].provider_id == restore.provider_id


# ------------------------------------------------------------------ restores


def test_a_restore_puts_the_disks_back_to_the_backup_content(world: World) -> None:
    session = world.session()
    vm = world.fleet.info(3)
    backup = session.start_backup(vm, replication=False)
    world.run(2 * DAY)  # guest writes move the disks on
    captured = world.system.backup_disk_tokens(backup.provider_id)
    now_s = world.env.now
    assert all(world.fleet.disk_content(3, seq, now_s) != t for seq, t in captured.items())
    restore = session.start_restore(vm.uuid, backup.provider_id)
    assert restore.state is ResultState.IN_PROGRESS
    assert restore.backup_provider_id == backup.provider_id
    assert restore.provider_id.startswith("rs-") and backup.provider_id.startswith("bk-")
    assert world.system.vm_restore_in_progress(vm.uuid)
    [truth] = world.system.truth_restores()
    assert truth.verified is None
    finish_s = world.clock.seconds(truth.planned_finish_date)
    world.run(finish_s)
    [truth] = world.system.truth_restores()
    assert truth.state is ResultState.DONE and truth.verified is True
    assert {seq: world.fleet.disk_content(3, seq, finish_s) for seq in captured} == captured
    [record] = session.get([backup.provider_id]).values()
    assert record.restores[0].state is ResultState.DONE
    assert record.restores[0].finish_date == truth.planned_finish_date


def test_restore_refuses_unknown_foreign_unfinished_and_expired_backups() -> None:
    w = make_world(default_retention_s=DAY)
    with w.system:
        session = w.session()
        mine, other = w.fleet.info(0), w.fleet.info(1)
        backup = session.start_backup(mine, replication=False)

        def refused(vm_uuid: str, backup_id: str) -> str:
            with pytest.raises(BackupSystemError) as info:
                session.start_restore(vm_uuid, backup_id)
            return info.value.kind

        assert refused(mine.uuid, backup.provider_id) == "not_restorable"  # in progress
        w.run(HOUR)
        assert refused(mine.uuid, "bk-00000042") == "not_found"
        assert refused(mine.uuid, "junk") == "not_found"
        assert refused(other.uuid, backup.provider_id) == "not_found"
        restore = session.start_restore(mine.uuid, backup.provider_id)
        assert refused(mine.uuid, restore.provider_id) == "not_found"
        w.run(3 * DAY)
        assert refused(mine.uuid, backup.provider_id) == "not_restorable"  # expired
        assert w.system.restores_started == 1


# ------------------------------------------------------------------- outages


def test_an_outage_fails_every_call_but_close_and_skips_its_occurrences(world: World) -> None:
    session = world.session()
    vm = world.fleet.info(0)
    hourly = cfg("HOURLY", "1")
    session.put_job(vm, policy("p", hourly), hourly)
    world.system.add_outage(3 * HOUR + 1, 5 * HOUR + 1)
    world.run(4 * HOUR)
    assert world.system.in_outage()
    for call in (
        lambda: session.jobs(vm.uuid),
        lambda: session.changed_since(None),
        lambda: session.get(["bk-00000001"]),
        lambda: session.expired(["bk-00000001"]),
        lambda: session.start_backup(vm, replication=False),
    ):
        with pytest.raises(BackupSystemError) as info:
            call()
        assert info.value.kind == "unavailable"
    with pytest.raises(BackupSystemError) as info:
        world.session()
    assert info.value.kind == "unavailable"
    assert world.system.endpoint not in str(info.value)
    session.close()
    assert world.system.open_sessions() == []
    world.run(8 * HOUR)
    assert not world.system.in_outage()
    missed = world.system.missed_occurrences
    assert [(m.occurrence_date.hour, m.reason) for m in missed] == [(4, "outage"), (5, "outage")]
    hours = sorted(
        t.occurrence_date.hour for t in world.system.truth_backups() if t.occurrence_date
    )
    assert hours == [0, 1, 2, 3, 6, 7]
    assert len(world.session().changed_since(None)) == 6


def test_an_outage_must_end_after_it_starts(world: World) -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        world.system.add_outage(10, 10)


# ------------------------------------------------------------------ windows


def test_changed_since_is_inclusive_at_creation_and_at_finish(world: World) -> None:
    session = world.session()
    world.run(100)
    backup = session.start_backup(world.fleet.info(0), replication=False)
    created = backup.creation_date

    def ids(since: datetime | None) -> list[str]:
        return [r.provider_id for r in session.changed_since(since)]

    assert ids(created) == [backup.provider_id]
    assert ids(created + US) == []
    [truth] = world.system.truth_backups()
    finish = truth.planned_finish_date
    world.run(world.clock.seconds(finish))
    assert ids(finish) == [backup.provider_id]
    assert ids(finish + US) == []
    world.run(DAY)
    restore = session.start_restore(world.fleet.uuid(0), backup.provider_id)
    assert ids(restore.creation_date) == [backup.provider_id]
    assert ids(restore.creation_date + US) == []
    [truth_restore] = world.system.truth_restores()
    world.run(world.clock.seconds(truth_restore.planned_finish_date))
    assert ids(truth_restore.planned_finish_date) == [backup.provider_id]
    assert ids(None) == [backup.provider_id]


def test_a_window_query_examines_only_records_near_the_window() -> None:
    w = make_world(vms=20)
    with w.system:
        session = w.session()
        hourly = cfg("HOURLY", "1")
        for i in range(20):
            session.put_job(w.fleet.info(i), policy("p", hourly), hourly)
        w.run(10 * DAY + 30 * 60)
        total = w.system.backups_taken
        assert total > 4000
        since = w.clock.now() - timedelta(minutes=30)
        before = w.system.records_examined
        recent = session.changed_since(since)
        examined = w.system.records_examined - before
        assert recent
        assert examined < 5 * 20, f"examined {examined} of {total} records for 30 minutes"
        listed = session.changed_since(None)
        assert [r.creation_date for r in listed] == sorted(r.creation_date for r in listed)


def test_purging_expired_backups_bounds_memory_and_forgets_only_expired_ids() -> None:
    hourly = cfg("HOURLY", "1")
    w = make_world(vms=5, retention_by_policy={"p": 6 * HOUR}, forget_expired_after_s=2 * HOUR)
    with w.system:
        session = w.session()
        for i in range(5):
            session.put_job(w.fleet.info(i), policy("p", hourly), hourly)
        w.run(1 * DAY)
        first = session.changed_since(None)[0]
        sizes = []
        for day in range(2, 12):
            w.run(day * DAY)
            session.changed_since(w.clock.now())  # any call advances the system
            sizes.append(w.system.backups_taken - w.system.backups_purged)
        # Kept: a retention (6 h), the grace (2 h) and up to a day between purges.
        assert w.system.backups_purged > 0
        assert max(sizes) <= 5 * (6 + 2 + 24 + 2), sizes
        assert max(sizes[3:]) - min(sizes[3:]) <= 10, sizes
        old = first.provider_id
        assert w.system.truth_backup(old) is None
        assert session.get([old]) == {}
        assert session.expired([old]) == [old]
        with pytest.raises(BackupSystemError, match="purged"):
            session.start_restore(first.vm_uuid, old)
        # What is kept answers as before: every live backup is listed, in order.
        live = session.changed_since(None)
        assert live and all(
            r.expiration_date is None or r.expiration_date > w.clock.now() for r in live
        )
        truths = list(w.system.truth_backups())
        assert {t.provider_id for t in truths} >= {r.provider_id for r in live}
        assert session.changed_since(w.clock.now() - timedelta(hours=2))


def test_a_backup_being_restored_is_not_purged() -> None:
    w = make_world(
        vms=2,
        retention_by_policy={"p": 1 * HOUR},
        forget_expired_after_s=1.0,
        restore_throughput_bytes_per_s=1e6,  # days: the restore outlives some purges
    )
    with w.system:
        session = w.session()
        hourly = cfg("HOURLY", "1")
        session.put_job(w.fleet.info(0), policy("p", hourly), hourly)
        w.run(DAY + 3 * HOUR)
        done = [r for r in session.changed_since(None) if r.state is ResultState.DONE]
        record = done[-1]
        restore = session.start_restore(record.vm_uuid, record.provider_id)
        w.run(3 * DAY)
        session.changed_since(w.clock.now())
        assert w.system.backups_purged > 0
        assert w.system.truth_backup(record.provider_id) is not None  # held by the restore
        w.run(30 * DAY)
        session.changed_since(w.clock.now())
        assert w.system.truth_backup(record.provider_id) is None  # purged once restored
        [truth] = [t for t in w.system.truth_restores() if t.provider_id == restore.provider_id]
        assert truth.state is ResultState.DONE and truth.verified is True
        assert truth.vm_uuid == record.vm_uuid


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=8),
    st.integers(min_value=0, max_value=6),
    st.lists(st.integers(min_value=-3 * 24, max_value=2), max_size=6),
)
def test_restores_since_are_the_restores_inside_the_backups_window(
    picks: list[int], lose: int, window_hours: list[int]
) -> None:
    # The reference plugin's listNewRestoreResults reads restores_since; it must answer
    # what the backups' window holds, filtered by creation, through purges and losses.
    w = make_world(vms=4, retention_by_policy={"p": 12 * HOUR}, forget_expired_after_s=2 * HOUR)
    with w.system:
        session = w.session()
        hourly = cfg("HOURLY", "2")
        for i in range(4):
            session.put_job(w.fleet.info(i), policy("p", hourly), hourly)
        for day in range(1, 4):
            w.run(day * DAY)
            done = [r for r in session.changed_since(None) if r.state is ResultState.DONE]
            for pick in [0, *picks]:  # the newest, still held at the end, and others
                record = done[-1 - pick % len(done)]
                session.start_restore(record.vm_uuid, record.provider_id)
            w.run(day * DAY + 600)
        held = session.changed_since(None)
        w.system.lose_backup(held[lose % len(held)].provider_id)
        w.run(3 * DAY + 2 * HOUR)
        seen = 0
        for since in [None, *(w.clock.now() + timedelta(hours=h) for h in window_hours)]:
            inside = [
                restore
                for record in session.changed_since(since)
                for restore in record.restores
                if since is None or restore.creation_date >= since
            ]
            inside.sort(key=lambda r: (r.creation_date, r.provider_id))
            assert session.restores_since(since) == inside
            seen += len(inside)
        assert seen  # the restores of the last day at least


# ------------------------------------------------------------ determinism


def _scripted_run(seed: int) -> tuple[list[object], list[object], list[object]]:
    w = make_world(seed=seed, vms=15, failure_probability=0.3)
    with w.system:
        session = w.session()
        gold = policy(
            "gold",
            DAILY_2AM,
            cfg("HOURLY", "6", btype=BackupType.SNAPSHOT),
            cfg("WEEKLY_PLANNED", None, ("friday",), btype=BackupType.FILESYSTEM),
        )
        for i in range(15):
            for c in gold.configurations:
                session.put_job(w.fleet.info(i), gold, c)
        w.run(2 * DAY)
        session.start_backup(w.fleet.info(4), replication=True)
        w.run(3 * DAY)
        for record in session.changed_since(None)[:5]:
            if record.state is ResultState.DONE:
                session.start_restore(record.vm_uuid, record.provider_id)
        w.run(6 * DAY)
        return (
            list(session.changed_since(None)),
            list(w.system.truth_backups()),
            list(w.system.truth_restores()),
        )


def test_the_same_seed_gives_the_same_records() -> None:
    first, second = _scripted_run(5), _scripted_run(5)
    assert first == second
    assert first[0] and first[2]
    assert _scripted_run(6)[1] != first[1]


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    "bad",
    [
        {"start_delay_max_s": 900},
        {"failure_probability": 1.5},
        {"throughput_bytes_per_s": 0},
        {"retention_by_policy": {"gold": 0}},
        {"retention": 3},
    ],
)
def test_settings_are_validated(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as info:
        BackupSystemSettings.model_validate(bad)
    assert next(iter(bad)) in str(info.value)


def test_backup_system_errors_have_a_known_kind() -> None:
    with pytest.raises(ValueError, match="unknown BackupSystemError kind"):
        BackupSystemError("oops", "x")  # type: ignore[arg-type]


def test_a_failed_restore_touches_no_disk_and_is_not_judged(world: World) -> None:
    session = world.session()
    vm = world.fleet.info(3)
    backup = session.start_backup(vm, replication=False)
    world.run(DAY)
    world.system.settings = world.system.settings.model_copy(update={"failure_probability": 1.0})
    before = {seq: world.fleet.disk_content(3, seq, 2 * DAY) for seq in range(len(vm.disks))}
    session.start_restore(vm.uuid, backup.provider_id)
    world.run(2 * DAY)
    [truth] = world.system.truth_restores()
    assert truth.state is ResultState.FAILED and truth.verified is None
    assert {seq: world.fleet.disk_content(3, seq, 2 * DAY) for seq in before} == before
    [record] = session.get([backup.provider_id]).values()
    assert record.restores[0].state is ResultState.FAILED and record.restores[0].message


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**10), st.integers(0, 12), st.integers(1, 10**10))
def test_an_id_parses_only_in_the_form_the_system_writes(
    number: int, width: int, count: int
) -> None:
    from simulator.backend.records import format_id, parse_id

    text = f"bk-{str(number).zfill(width)}"
    canonical = number >= 1 and format_id("bk-", number - 1) == text
    expected = number - 1 if canonical and number - 1 < count else None
    assert parse_id("bk-", text, count) == expected
    assert parse_id("rs-", text, count) is None


# ------------------------------------------------------------ its own faults


@pytest.mark.parametrize(
    ("settings", "call"),
    [
        ({"default_retention_s": 1e15}, "start_backup"),  # an expiry past year 9999
        ({"throughput_bytes_per_s": 1e-300}, "start_backup"),  # an infinite duration
    ],
)
def test_the_systems_own_overflow_is_a_harness_fault_never_a_plugins_error(
    settings: dict[str, object], call: str
) -> None:
    w = make_world(**settings)
    with w.system:
        session = w.session()
        with pytest.raises(BackupSystemFault, match=f"during {call}: OverflowError") as info:
            session.start_backup(w.fleet.info(0), replication=False)
    assert isinstance(info.value, HarnessError)
    assert not isinstance(info.value, BackupSystemError)  # no answer a plugin could pass on
    assert pickle.loads(pickle.dumps(info.value)).args == info.value.args
