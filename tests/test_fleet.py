"""The fake hypervisor fleet: lean, deterministic VMs whose disks change over time."""

from __future__ import annotations

import itertools
import random
import re
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.backend.fleet import HYPERVISOR_TYPES, Fleet

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
GiB = 2**30


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return Fleet.generate(random.Random(11), vms=500, datacenters=2, hypervisors_per_datacenter=3)


def test_the_same_seed_gives_the_same_fleet() -> None:
    a = Fleet.generate(random.Random(3), vms=50)
    b = Fleet.generate(random.Random(3), vms=50)
    assert [a.info(i) for i in range(50)] == [b.info(i) for i in range(50)]
    c = Fleet.generate(random.Random(4), vms=50)
    assert {a.uuid(i) for i in range(50)}.isdisjoint({c.uuid(i) for i in range(50)})


def test_uuids_are_unique_uuid4_strings_and_index_of_inverts_them(fleet: Fleet) -> None:
    uuids = [fleet.uuid(i) for i in range(fleet.size)]
    assert len(set(uuids)) == fleet.size
    assert all(UUID4.match(u) for u in uuids)
    assert [fleet.index_of(u) for u in uuids] == list(range(fleet.size))


def test_uuids_stay_the_same_and_invertible_past_the_bounded_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("simulator.backend.fleet._UUID_CACHE_SIZE", 8)
    small = Fleet.generate(random.Random(5), vms=100)
    fresh = Fleet.generate(random.Random(5), vms=100)
    order = list(range(100)) * 2
    random.Random(1).shuffle(order)
    for i in order:
        u = small.uuid(i)
        assert small.index_of(u) == i
        assert len(small._uuids) <= 8 and len(small._indexes) <= 8
    assert [small.uuid(i) for i in range(100)] == [fresh.uuid(i) for i in range(100)]
    assert [fresh.index_of(small.uuid(i)) for i in range(100)] == list(range(100))


@pytest.mark.parametrize("bad", ["", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "{x}"])
def test_index_of_an_unknown_uuid_is_a_key_error_naming_it(fleet: Fleet, bad: str) -> None:
    with pytest.raises(KeyError) as info:
        fleet.index_of(bad)
    assert repr(bad) in str(info.value)


def test_index_of_rejects_a_uuid_of_another_fleet(fleet: Fleet) -> None:
    other = Fleet.generate(random.Random(99), vms=500)
    foreign = [other.uuid(i) for i in range(20)]
    rejected = 0
    for u in foreign:
        try:
            fleet.index_of(u)
        except KeyError:
            rejected += 1
    assert rejected == 20


def test_index_of_rejects_the_upper_case_form(fleet: Fleet) -> None:
    with pytest.raises(KeyError):
        fleet.index_of(fleet.uuid(0).upper())


def test_out_of_range_indexes_are_errors_naming_the_range(fleet: Fleet) -> None:
    with pytest.raises(IndexError, match=r"500 is outside the fleet \(0 \.\. 499\)"):
        fleet.info(500)
    with pytest.raises(IndexError):
        fleet.uuid(-1)


def test_vm_info_is_well_formed(fleet: Fleet) -> None:
    names = set()
    for i in range(0, fleet.size, 7):
        vm = fleet.info(i)
        names.add(vm.name)
        assert vm.uuid == fleet.uuid(i)
        assert vm.datacenter in fleet.datacenters
        assert vm.hypervisor_type in HYPERVISOR_TYPES
        host = fleet.hypervisors[fleet.hypervisor_index(i)]
        assert (vm.hypervisor_address, vm.hypervisor_type) == (host.address, host.type)
        assert fleet.datacenters[host.datacenter] == vm.datacenter
        assert 1 <= len(vm.disks) <= 3
        assert [d.sequence for d in vm.disks] == list(range(len(vm.disks)))
        assert all(10 * GiB <= d.size_bytes <= 200 * GiB for d in vm.disks)
        assert all(vm.name in d.path for d in vm.disks)
        assert fleet.info_by_uuid(vm.uuid) == vm
    assert len(names) == len(range(0, fleet.size, 7))


def test_vms_spread_over_every_datacenter_and_hypervisor(fleet: Fleet) -> None:
    assert len(fleet.datacenters) == 2 and len(fleet.hypervisors) == 6
    used = {fleet.hypervisor_index(i) for i in range(fleet.size)}
    assert used == set(range(6))
    assert {h.datacenter for h in fleet.hypervisors} == {0, 1}
    assert len({h.address for h in fleet.hypervisors}) == 6


def test_generate_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="disks_per_vm"):
        Fleet.generate(random.Random(1), vms=1, disks_per_vm=(0, 2))
    with pytest.raises(ValueError, match="datacenters"):
        Fleet.generate(random.Random(1), vms=1, datacenters=0)
    with pytest.raises(ValueError, match="guest_write_interval_s"):
        Fleet.generate(random.Random(1), vms=1, guest_write_interval_s=0)


def test_a_million_vms_cost_about_a_byte_each() -> None:
    Fleet.generate(random.Random(0), vms=1)  # warm faker's caches outside the measurement
    tracemalloc.start()
    try:
        big = Fleet.generate(random.Random(1), vms=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert big.size == 1_000_000
    assert peak < 4_000_000, f"generating 1M VMs allocated {peak} bytes at peak"
    assert big.index_of(big.uuid(999_999)) == 999_999


# ----------------------------------------------------------------- state


def test_deploy_powers_on_and_undeploy_powers_off() -> None:
    f = Fleet.generate(random.Random(5), vms=10)
    assert f.deployed_count() == 0 and not f.is_deployed(3) and not f.is_powered_on(3)
    f.set_deployed(3, True)
    assert f.is_deployed(3) and f.is_powered_on(3) and f.deployed_count() == 1
    f.set_deployed(3, True)
    assert f.deployed_count() == 1
    f.set_powered_on(3, False)
    assert f.is_deployed(3) and not f.is_powered_on(3)
    f.set_powered_on(3, True)
    f.set_deployed(3, False)
    assert not f.is_deployed(3) and not f.is_powered_on(3) and f.deployed_count() == 0
    f.set_deployed(3, False)
    assert f.deployed_count() == 0


def test_an_undeployed_vm_cannot_power_on() -> None:
    f = Fleet.generate(random.Random(5), vms=10)
    with pytest.raises(ValueError, match="not deployed"):
        f.set_powered_on(2, True)


# ----------------------------------------------------------- disk content


def test_disk_content_changes_once_per_write_interval() -> None:
    f = Fleet.generate(random.Random(6), vms=5, guest_write_interval_s=100.0)
    tokens = [f.disk_content(0, 0, t) for t in range(0, 1000, 10)]
    changes = sum(1 for a, b in itertools.pairwise(tokens) if a != b)
    assert changes in (9, 10)
    assert len(set(tokens)) == changes + 1


def test_a_restore_sets_the_content_and_later_writes_start_a_new_generation() -> None:
    f = Fleet.generate(random.Random(6), vms=5, guest_write_interval_s=100.0)
    old = f.disk_content(1, 0, 150.0)
    before = f.disk_content(1, 0, 1000.0)
    f.restore_disk(1, 0, old, 1000.0)
    assert f.disk_content(1, 0, 1000.0) == old
    assert f.disk_content(1, 0, 999.0) == f.disk_content(1, 0, 999.0) != old
    later = [f.disk_content(1, 0, t) for t in (1100.0, 1200.0, 1300.0)]
    seen_before = {f.disk_content(1, 0, float(t)) for t in range(0, 1001, 10)}
    assert old != before
    assert not set(later) & seen_before
    assert len(set(later)) == 3


def test_restores_of_one_disk_do_not_touch_the_others() -> None:
    f = Fleet.generate(random.Random(6), vms=5, disks_per_vm=(2, 2))
    other = f.disk_content(1, 1, 5000.0)
    f.restore_disk(1, 0, "0:0", 5000.0)
    assert f.disk_content(1, 1, 5000.0) == other


def test_restores_must_be_applied_in_time_order() -> None:
    f = Fleet.generate(random.Random(6), vms=5)
    f.restore_disk(0, 0, "0:0", 500.0)
    with pytest.raises(ValueError, match="time order"):
        f.restore_disk(0, 0, "0:0", 400.0)


def test_unknown_disks_are_rejected() -> None:
    f = Fleet.generate(random.Random(6), vms=5, disks_per_vm=(1, 1))
    with pytest.raises(ValueError, match=r"has disks 0 \.\. 0, not sequence 1"):
        f.disk_content(0, 1, 0.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 50_000), min_size=1, max_size=6).map(sorted))
def test_tokens_never_repeat_an_earlier_state(restore_times: list[float]) -> None:
    f = Fleet.generate(random.Random(8), vms=3, guest_write_interval_s=500.0)
    for at in restore_times:
        f.restore_disk(2, 0, f.disk_content(2, 0, at / 2), at)
    # Walk the disk's history: a token, once replaced, never comes back, except by a
    # restore that copies it on purpose.
    restored = {f.disk_content(2, 0, at) for at in restore_times}
    history = [f.disk_content(2, 0, float(t)) for t in range(0, 60_000, 50)]
    retired: set[str] = set()
    for a, b in itertools.pairwise(history):
        if a != b:
            assert b not in retired or b in restored
            retired.add(a)
