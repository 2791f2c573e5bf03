"""The unvalidated fast paths build exactly the models validation would.

``ContractModel._trusted`` skips pydantic's validation on the harness's hot paths (the
reference plugin's results, the fleet's VM infos). These tests hold each fast path to
the validated model: equal, equally hashed, dumped and copied the same.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from simulator.backend.backup_system import BackupRecord, RestoreRecord
from simulator.backend.fleet import Fleet
from simulator.contract import BackupResult, BackupType, ResultState, VirtualMachineInfo
from simulator.reference import _result

_START = datetime(2026, 1, 1, tzinfo=UTC)
_instants = st.integers(0, 400 * 86400 * 10**6).map(lambda us: _START + timedelta(microseconds=us))
_text = st.text(min_size=1, max_size=20)


@st.composite
def _restore_records(draw: st.DrawFn) -> RestoreRecord:
    return RestoreRecord(
        draw(_text),
        draw(_text),
        draw(st.sampled_from(list(ResultState))),
        draw(_instants),
        draw(st.none() | _instants),
        draw(st.none() | _text),
    )


@st.composite
def _backup_records(draw: st.DrawFn) -> BackupRecord:
    return BackupRecord(
        draw(_text),
        draw(_text),
        draw(_text),
        draw(st.sampled_from(list(BackupType))),
        draw(st.sampled_from(list(ResultState))),
        draw(_instants),
        draw(st.none() | _instants),
        draw(st.none() | _instants),
        draw(st.integers(0, 2**50)),
        draw(st.booleans()),
        draw(st.booleans()),
        draw(st.none() | _text),
        tuple(draw(st.lists(_restore_records(), max_size=3))),
    )


def _validated(record: BackupRecord) -> BackupResult:
    fields = record._asdict()
    fields["restores"] = tuple(r._asdict() for r in record.restores)
    return BackupResult.model_validate(fields)


@settings(max_examples=200, deadline=None)
@given(_backup_records())
def test_the_reference_result_equals_the_validated_one(record: BackupRecord) -> None:
    fast, slow = _result(record), _validated(record)
    assert type(fast) is BackupResult
    assert fast == slow and slow == fast
    assert hash(fast) == hash(slow)
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.model_copy(update={"name": "x"}) == slow.model_copy(update={"name": "x"})
    assert repr(fast) == repr(slow)


def test_a_trusted_model_is_frozen_like_a_validated_one() -> None:
    record = BackupRecord(
        "bk-1", "vm", "n", BackupType.COMPLETE, ResultState.DONE, _START, _START, _START,
        1, False, False, None, (),
    )  # fmt: skip
    result = _result(record)
    with pytest.raises(ValidationError, match="frozen"):
        result.name = "changed"  # type: ignore[misc]


def test_fleet_vm_infos_equal_the_validated_models() -> None:
    fleet = Fleet.generate(random.Random(5), vms=300, datacenters=3, hypervisors_per_datacenter=4)
    for i in range(fleet.size):
        vm = fleet.info(i)
        validated = VirtualMachineInfo.model_validate(vm.model_dump())
        assert vm == validated and hash(vm) == hash(validated)
        assert vm.model_dump_json() == validated.model_dump_json()
