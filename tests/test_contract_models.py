"""The contract models accept what Abiquo sends and reject the rest with a useful message."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, SecretStr, ValidationError

from simulator.contract import (
    WEEKDAYS,
    BackupConfiguration,
    BackupPluginError,
    BackupPluginException,
    BackupPolicy,
    BackupResult,
    BackupSchedule,
    BackupType,
    ConnectionData,
    ConnectionMetadata,
    Disk,
    FieldConstraint,
    OnDemandBackupOptions,
    Operation,
    Periodicity,
    PluginConnectionError,
    PluginMetadata,
    RestoreResult,
    ResultState,
    VirtualMachineInfo,
)

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

# ------------------------------------------------------------------ strategies

offsets = st.builds(
    lambda sign, h, m: f"{sign}{h:02d}{m:02d}",
    st.sampled_from("+-"),
    st.integers(0, 18),
    st.integers(0, 59),
)
clock_times = st.builds(
    lambda h, m, s, z: f"{h:02d}:{m:02d}:{s:02d} {z}",
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    offsets,
)
defined_times = st.builds(
    lambda d, clock: f"{d:%Y/%m/%d} {clock}",
    st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2099, 12, 31).date()),
    clock_times,
)
hourly_times = st.integers(1, 24).map(str)
weekdays = st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True).map(tuple)
disk_sources = st.lists(st.integers(0, 20).map(str), max_size=4, unique=True).map(tuple)
path_sources = st.lists(
    st.sampled_from(["/", "/var/lib", "/home/user", "C:\\Data", "d:\\logs"]),
    max_size=3,
    unique=True,
).map(tuple)


@st.composite
def configurations(draw: st.DrawFn) -> BackupConfiguration:
    """Any valid configuration: time in its subtype's format (or absent), right days/sources."""
    btype = draw(st.sampled_from(list(BackupType)))
    subtype = draw(st.sampled_from(list(Periodicity)))
    time_strategy = {
        Periodicity.DEFINED_HOUR: defined_times,
        Periodicity.HOURLY: hourly_times,
        Periodicity.DAILY: clock_times,
        Periodicity.WEEKLY_PLANNED: clock_times,
        Periodicity.MONTHLY: clock_times,
    }[subtype]
    time = draw(st.none() | time_strategy)
    days = draw(weekdays) if subtype is Periodicity.WEEKLY_PLANNED else ()
    sources = draw(path_sources if btype is BackupType.FILESYSTEM else disk_sources)
    return BackupConfiguration(type=btype, subtype=subtype, time=time, days=days, sources=sources)


@st.composite
def policies(draw: st.DrawFn, code: str | None = None) -> BackupPolicy:
    """A valid policy: type/subtype pairs unique."""
    configs = draw(st.lists(configurations(), max_size=5, unique_by=lambda c: c.key))
    return BackupPolicy(
        code=code or draw(st.text("abcdefgh-", min_size=1, max_size=8)),
        name=draw(st.text(min_size=1, max_size=10)),
        description=draw(st.text(max_size=10)),
        replication=draw(st.booleans()),
        configurations=tuple(configs),
    )


schedules = (
    st.lists(st.text("abcxyz", min_size=1, max_size=4), max_size=3, unique=True)
    .flatmap(lambda codes: st.tuples(*(policies(code) for code in codes)))
    .map(lambda ps: BackupSchedule(policies=ps))
)
aware = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
)
restores = st.builds(
    RestoreResult,
    provider_id=st.text(max_size=8),
    backup_provider_id=st.text(max_size=8),
    state=st.sampled_from(list(ResultState)),
    creation_date=aware,
    finish_date=st.none() | aware,
    message=st.none() | st.text(max_size=10),
)
results = st.builds(
    BackupResult,
    provider_id=st.text(max_size=8),
    vm_uuid=st.text(max_size=8),
    name=st.text(max_size=8),
    type=st.sampled_from(list(BackupType)),
    state=st.sampled_from(list(ResultState)),
    creation_date=aware,
    finish_date=st.none() | aware,
    expiration_date=st.none() | aware,
    size_bytes=st.integers(0, 2**50),
    replication=st.booleans(),
    on_demand=st.booleans(),
    message=st.none() | st.text(max_size=10),
    restores=st.lists(restores, max_size=2).map(tuple),
)
disks = st.builds(
    Disk,
    sequence=st.integers(0, 10),
    size_bytes=st.integers(0, 2**44),
    path=st.text(min_size=1, max_size=20),
)
vms = st.builds(
    VirtualMachineInfo,
    uuid=st.uuids().map(str),
    name=st.text(min_size=1, max_size=10),
    datacenter=st.text(min_size=1, max_size=10),
    hypervisor_type=st.sampled_from(["VMX_04", "KVM", "HYPERV_301", "XENSERVER"]),
    hypervisor_address=st.ip_addresses().map(str),
    disks=st.lists(disks, max_size=4, unique_by=lambda d: d.sequence).map(tuple),
)


def _round_trip(model: BaseModel) -> None:
    assert type(model).model_validate_json(model.model_dump_json()) == model


# -------------------------------------------------------------- round trips


@settings(max_examples=60, deadline=None)
@given(configurations())
def test_every_valid_configuration_is_accepted_and_round_trips_through_json(
    config: BackupConfiguration,
) -> None:
    _round_trip(config)
    assert config.key == (config.type, config.subtype)


@settings(max_examples=40, deadline=None)
@given(schedules)
def test_schedules_round_trip_through_json(schedule: BackupSchedule) -> None:
    _round_trip(schedule)
    assert schedule.configurations() == [
        (p, c) for p in schedule.policies for c in p.configurations
    ]


@settings(max_examples=40, deadline=None)
@given(results)
def test_results_round_trip_through_json(result: BackupResult) -> None:
    _round_trip(result)


@settings(max_examples=40, deadline=None)
@given(vms)
def test_vm_infos_round_trip_through_json(vm: VirtualMachineInfo) -> None:
    _round_trip(vm)


@pytest.mark.parametrize(
    "model",
    [
        OnDemandBackupOptions(replication=True),
        PluginMetadata(type="t", friendly_name="T", version="1", supported_versions=("4.5",)),
        ConnectionMetadata(endpoint=FieldConstraint.MANDATORY),
        ConnectionData(endpoint="sim://x", user="u", password=SecretStr("p")),
        Disk(sequence=0, size_bytes=1, path="/d"),
    ],
)
def test_small_models_round_trip_through_json(model: BaseModel) -> None:
    if isinstance(model, ConnectionData):
        # A SecretStr dumps masked on purpose: the password must be revealed explicitly.
        dumped = model.model_dump(mode="json")
        assert dumped["password"] == "**********"
        assert "p" not in repr(model.password)
        return
    _round_trip(model)


# ------------------------------------------------------------ time formats


def _error(**fields: Any) -> str:
    with pytest.raises(ValidationError) as info:
        BackupConfiguration(**fields)
    return str(info.value)


@pytest.mark.parametrize(
    ("subtype", "time"),
    [
        (Periodicity.HOURLY, "0"),
        (Periodicity.HOURLY, "25"),
        (Periodicity.HOURLY, "01"),
        (Periodicity.HOURLY, "6h"),
        (Periodicity.DAILY, "24:00:00 +0000"),
        (Periodicity.DAILY, "23:30:00"),
        (Periodicity.DAILY, "23:30 +0000"),
        (Periodicity.DAILY, "23:30:00 +1900"),
        (Periodicity.DAILY, "23:30:00 +0060"),
        (Periodicity.WEEKLY_PLANNED, "2026/01/05 10:00:00 +0000"),
        (Periodicity.MONTHLY, "6"),
        (Periodicity.DEFINED_HOUR, "23:30:00 +0000"),
        (Periodicity.DEFINED_HOUR, "2026/02/30 10:00:00 +0000"),
        (Periodicity.DEFINED_HOUR, "2026-01-05 10:00:00 +0000"),
    ],
)
def test_a_time_in_the_wrong_format_is_rejected_naming_the_expected_format(
    subtype: Periodicity, time: str
) -> None:
    days = ("monday",) if subtype is Periodicity.WEEKLY_PLANNED else ()
    message = _error(type=BackupType.COMPLETE, subtype=subtype, time=time, days=days)
    assert repr(time) in message
    assert f"{subtype.value} format" in message
    assert "expected" in message


@settings(max_examples=40, deadline=None)
@given(clock_times)
def test_an_hourly_configuration_rejects_clock_times(time: str) -> None:
    assert "HOURLY format" in _error(type="COMPLETE", subtype="HOURLY", time=time)


@settings(max_examples=40, deadline=None)
@given(hourly_times)
def test_a_daily_configuration_rejects_an_hour_count(time: str) -> None:
    assert "DAILY format" in _error(type="SNAPSHOT", subtype="DAILY", time=time)


# ------------------------------------------------------------------- days


def test_weekly_planned_needs_at_least_one_day() -> None:
    message = _error(type="COMPLETE", subtype="WEEKLY_PLANNED", time="10:00:00 +0000")
    assert "days" in message and "at least one weekday" in message


@pytest.mark.parametrize("subtype", ["DAILY", "HOURLY", "MONTHLY", "DEFINED_HOUR"])
def test_only_weekly_planned_takes_days(subtype: str) -> None:
    message = _error(type="COMPLETE", subtype=subtype, days=("monday",))
    assert "only WEEKLY_PLANNED takes days" in message


@pytest.mark.parametrize("day", ["Monday", "MONDAY", "mon", "lunes", ""])
def test_days_are_lower_case_weekday_names(day: str) -> None:
    message = _error(type="COMPLETE", subtype="WEEKLY_PLANNED", days=(day,))
    assert repr(day) in message and "lower-case weekday" in message


def test_a_day_may_appear_once() -> None:
    message = _error(type="COMPLETE", subtype="WEEKLY_PLANNED", days=("monday", "monday"))
    assert "each weekday may appear once" in message


# ---------------------------------------------------------------- sources


@pytest.mark.parametrize("btype", ["COMPLETE", "SNAPSHOT"])
@pytest.mark.parametrize("source", ["/var/lib", "disk0", "-1", "C:\\"])
def test_disk_backups_take_disk_sequence_numbers(btype: str, source: str) -> None:
    message = _error(type=btype, subtype="DAILY", sources=(source,))
    assert "sources" in message and "disk sequence number" in message and repr(source) in message


@pytest.mark.parametrize("source", ["0", "var/lib", "relative\\path", "~/x"])
def test_filesystem_backups_take_absolute_paths(source: str) -> None:
    message = _error(type="FILESYSTEM", subtype="DAILY", sources=(source,))
    assert "sources" in message and "absolute path" in message and repr(source) in message


def test_filesystem_backups_accept_posix_and_windows_paths() -> None:
    config = BackupConfiguration(
        type=BackupType.FILESYSTEM, subtype=Periodicity.DAILY, sources=("/etc", "C:\\Data")
    )
    assert config.sources == ("/etc", "C:\\Data")


def test_a_source_may_appear_once() -> None:
    assert "each source may appear once" in _error(
        type="COMPLETE", subtype="DAILY", sources=("0", "0")
    )


# --------------------------------------------------- policies and schedules


@settings(max_examples=30, deadline=None)
@given(configurations())
def test_a_type_subtype_pair_is_unique_within_a_policy(config: BackupConfiguration) -> None:
    with pytest.raises(ValidationError) as info:
        BackupPolicy(code="gold", name="Gold", configurations=(config, config))
    message = str(info.value)
    assert f"{config.type.value}/{config.subtype.value} appears twice" in message


def test_policy_codes_are_unique_within_a_schedule() -> None:
    policy = BackupPolicy(code="gold", name="Gold")
    with pytest.raises(ValidationError) as info:
        BackupSchedule(policies=(policy, policy))
    assert "policy codes must be unique" in str(info.value)


def test_a_policy_needs_a_code_and_a_name() -> None:
    with pytest.raises(ValidationError) as info:
        BackupPolicy(code="", name="")
    message = str(info.value)
    assert "code" in message and "name" in message


# ------------------------------------------------------------------ VMs


def test_disk_sequences_are_unique_on_a_vm() -> None:
    disk = Disk(sequence=0, size_bytes=1, path="/d0")
    with pytest.raises(ValidationError) as info:
        VirtualMachineInfo(
            uuid="u",
            name="n",
            datacenter="dc",
            hypervisor_type="KVM",
            hypervisor_address="10.0.0.1",
            disks=(disk, disk),
        )
    assert "disk sequences must be unique" in str(info.value)


@pytest.mark.parametrize(("field", "value"), [("sequence", -1), ("size_bytes", -1), ("path", "")])
def test_a_disk_rejects_negative_numbers_and_empty_paths(field: str, value: object) -> None:
    fields: dict[str, object] = {"sequence": 0, "size_bytes": 1, "path": "/d"}
    fields[field] = value
    with pytest.raises(ValidationError) as info:
        Disk.model_validate(fields)
    assert field in str(info.value)


# ------------------------------------------------------- strictness of all


def test_a_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        BackupResult(
            provider_id="b",
            vm_uuid="v",
            name="n",
            type=BackupType.COMPLETE,
            state=ResultState.DONE,
            creation_date=datetime(2026, 1, 5),
        )
    assert "creation_date" in str(info.value) and "timezone" in str(info.value)
    with pytest.raises(ValidationError) as info:
        RestoreResult(
            provider_id="r",
            backup_provider_id="b",
            state=ResultState.DONE,
            creation_date=NOW,
            finish_date=datetime(2026, 1, 5),
        )
    assert "finish_date" in str(info.value)


def test_an_aware_datetime_in_any_offset_is_accepted() -> None:
    plus_two = NOW.astimezone(timezone(timedelta(hours=2)))
    result = RestoreResult(
        provider_id="r", backup_provider_id="b", state=ResultState.DONE, creation_date=plus_two
    )
    assert result.creation_date == NOW


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (BackupConfiguration, {"type": "COMPLETE", "subtype": "DAILY", "tyme": "x"}),
        (BackupPolicy, {"code": "c", "name": "n", "retention": 3}),
        (OnDemandBackupOptions, {"replication": True, "async": True}),
        (ConnectionData, {"endpoint": "e", "username": "u"}),
        (Disk, {"sequence": 0, "size_bytes": 1, "path": "/d", "thin": True}),
    ],
)
def test_an_unknown_field_is_rejected_by_name(
    model: type[BaseModel], fields: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as info:
        model.model_validate(fields)
    extra = (set(fields) - set(model.model_fields)).pop()
    assert extra in str(info.value) and "Extra inputs are not permitted" in str(info.value)


def test_models_are_frozen() -> None:
    options = OnDemandBackupOptions()
    with pytest.raises(ValidationError) as info:
        options.replication = True  # type: ignore[misc]
    assert "frozen" in str(info.value)
    config = BackupConfiguration(type=BackupType.COMPLETE, subtype=Periodicity.DAILY)
    assert hash(config) == hash(config.model_copy())


def test_an_unknown_enum_value_is_rejected() -> None:
    message = _error(type="INCREMENTAL", subtype="DAILY")
    assert "type" in message and "INCREMENTAL" in message


# ----------------------------------------------------------- enums and errors


def test_only_in_progress_is_not_final() -> None:
    assert [s for s in ResultState if not s.is_final] == [ResultState.IN_PROGRESS]


def test_operations_carry_wire_and_python_names() -> None:
    assert Operation.APPLY_NEW_SCHEDULE.value == "applyNewSchedule"
    assert {op.python_name for op in Operation} == {
        "apply_schedule",
        "apply_new_schedule",
        "remove_schedule",
        "execute_backup",
        "execute_restore",
        "list_results",
        "get_expired_results",
        "is_backup_expired",
        "get_backup_result",
        "get_restore_result",
        "list_new_backup_results",
        "list_new_restore_results",
        "list_virtual_machines_in_backup_policy",
    }
    assert Operation.LIST_NEW_BACKUP_RESULTS.value == "listNewBackupResults"
    assert (
        Operation.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY.value
        == "listVirtualMachinesInBackupPolicy"
    )


def test_backup_plugin_exception_requires_a_backup_plugin_error() -> None:
    with pytest.raises(TypeError) as info:
        BackupPluginException("BACKEND", "boom")  # type: ignore[arg-type]
    assert "BackupPluginError" in str(info.value)
    error = BackupPluginException(BackupPluginError.BACKEND, "boom")
    assert error.error is BackupPluginError.BACKEND
    assert error.message == "boom"
    assert str(error) == "BACKEND: boom"


def test_plugin_connection_error_is_a_backup_plugin_exception_with_code_connection() -> None:
    error = PluginConnectionError("refused")
    assert isinstance(error, BackupPluginException)
    assert error.error is BackupPluginError.CONNECTION
    assert error.message == "refused"


@pytest.mark.parametrize(
    "error",
    [
        BackupPluginException(BackupPluginError.TIMEOUT, "slow"),
        PluginConnectionError("down"),
    ],
)
def test_plugin_exceptions_survive_pickling(error: BackupPluginException) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (copy.error, copy.message) == (error.error, error.message)
