"""The fake backup system's out-of-band changes: an administrator's policy edits, lost backups."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
