"""The fake backup system's out-of-band changes: an administrator's policy edits, lost backups,
as methods and as scenario timeline events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.backend.out_of_band import OutOfBand
from simulator.reference import ReferencePlugin
from simulator.scenario import load_scenario
from simulator.trace import TraceWriter
from simulator.world import World as SimWorld
from tests.test_backup_system import DAILY_2AM, HOUR, World, make_world, policy


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world()
    with w.system:
        yield w


def test_a_policy_protects_the_vms_with_a_job_of_it(world: World) -> None:
    session = world.session()
    gold = policy("gold", DAILY_2AM)
    for i in (2, 0):
        session.put_job(world.fleet.info(i), gold, DAILY_2AM)
    assert session.policy_vms("gold") == sorted([world.fleet.uuid(0), world.fleet.uuid(2)])
    assert session.policy_vms("silver") == []
    session.delete_jobs(world.fleet.uuid(0))
    assert session.policy_vms("gold") == [world.fleet.uuid(2)]


def test_an_administrators_changes_are_what_the_backup_system_protects(world: World) -> None:
    gold = policy("gold", DAILY_2AM)
    session = world.session()
    session.put_job(world.fleet.info(1), gold, DAILY_2AM)
    world.run(HOUR)
    assert world.system.admin_add_to_policy(world.fleet.uuid(3), gold) == 1
    assert world.system.admin_remove_from_policy(world.fleet.uuid(1), "gold") == 1
    assert session.policy_vms("gold") == [world.fleet.uuid(3)]
    assert world.system.policy_members("gold") == [world.fleet.uuid(3)]
    assert [(c[1], c[2], c[3]) for c in world.system.admin_changes] == [
        (world.fleet.uuid(3), "gold", "added"),
        (world.fleet.uuid(1), "gold", "removed"),
    ]
    # The backup system now backs the added VM up on the policy's schedule.
    world.run(30 * HOUR)
    taken = {b.vm_uuid for b in world.system.truth_backups()}
    assert world.fleet.uuid(3) in taken


def test_a_lost_backup_is_unknown_to_every_call_and_counts_as_removed(world: World) -> None:
    session = world.session()
    record = session.start_backup(world.fleet.info(0), replication=False)
    pid = record.provider_id
    assert world.system.latest_backup_of(world.fleet.uuid(0), in_progress=True) == pid
    assert world.system.lose_backup(pid)
    assert not world.system.lose_backup(pid)
    assert world.system.is_lost(pid)
    assert session.get([pid]) == {}
    assert pid not in {r.provider_id for r in session.changed_since(None)}
    assert session.expired([pid]) == [pid]
    world.run(HOUR)
    with pytest.raises(Exception, match="lost"):
        session.start_restore(world.fleet.uuid(0), pid)


# ------------------------------------------------- as scenario timeline events


def _trace(tmp: Path, name: str, scenario: str, profile: str) -> list[dict[str, Any]]:
    trace = tmp / f"{name}.jsonl"
    SimWorld(load_scenario(scenario), ReferencePlugin, trace_path=trace, profile=profile).run()
    return [json.loads(line) for line in trace.read_text().splitlines()]


def test_the_administrators_changes_run_at_their_offsets_and_are_traced(tmp_path: Path) -> None:
    lines = _trace(tmp_path, "a", "policy-sync", "abiquo-6.0")
    changes = [
        (x["t"], x["action"], x["policy"], x["jobs"]) for x in lines if x["kind"] == "backend"
    ]
    assert changes == [
        (5 * HOUR, "admin_add", "SILVER", 1),
        (5 * HOUR, "admin_add", "GOLD", 1),
        (6 * HOUR, "admin_remove", "GOLD", 1),
        (13 * HOUR, "admin_add", "SILVER", 1),
    ]
    # No task and no plugin call is made for them; the next sync follows them.
    added, _, removed, _ = (x for x in lines if x["kind"] == "backend")
    at = {(x["vm"], x["policy"], x["action"]) for x in lines if x["kind"] == "assignment"}
    assert (added["vm"], "SILVER", "gained") in at and (removed["vm"], "GOLD", "lost") in at
    assert not [x for x in lines if x["kind"] == "call" and x["t"] == 5 * HOUR]


def test_a_lost_backup_is_the_vms_newest_and_unknown_from_then_on(tmp_path: Path) -> None:
    lines = _trace(tmp_path, "b", "lost-backups", "abiquo-6.0")
    lost = [x for x in lines if x["kind"] == "backend"]
    assert [x["action"] for x in lost] == ["lose_backup"] * 4
    assert all(x["provider_id"] for x in lost)
    first = lost[0]["provider_id"]
    asked = [
        x
        for x in lines
        if x["kind"] == "call" and x["op"] == "getBackupResult" and x["t"] > lost[0]["t"]
    ]
    assert asked  # still held UNKNOWN, so asked again
    polls = [x for x in lines if x["kind"] == "poll" and x["t"] > lost[0]["t"]]
    assert polls and all(x["unknown"] >= 1 for x in polls)
    assert first == "bk-00000001"


def test_the_same_changes_give_the_same_trace_byte_for_byte(tmp_path: Path) -> None:
    for scenario in ("policy-sync", "lost-backups"):
        runs = []
        for name in ("x", "y"):
            trace = tmp_path / f"{scenario}-{name}.jsonl"
            SimWorld(load_scenario(scenario), ReferencePlugin, trace_path=trace).run()
            runs.append(trace.read_bytes())
        assert runs[0] == runs[1], scenario


def test_an_out_of_band_action_that_finds_nothing_is_traced_and_no_error() -> None:
    world = make_world()
    with world.system:
        trace = TraceWriter(None)
        seen: list[dict[str, Any]] = []
        trace.subscribe(seen.append)
        oob = OutOfBand(
            world.env, world.system, world.fleet, {"gold": policy("gold", DAILY_2AM)}, trace
        )
        oob.apply("lose_backup", 0, policy=None, in_progress=False)
        oob.apply("admin_remove", 1, policy="gold", in_progress=False)
        assert [(r["action"], r.get("provider_id"), r.get("jobs")) for r in seen] == [
            ("lose_backup", None, None),
            ("admin_remove", None, 0),
        ]
        with pytest.raises(ValueError, match="known policy"):
            oob.apply("admin_add", 0, policy="nope", in_progress=False)
