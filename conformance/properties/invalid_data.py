"""Hypothesis strategies of JSON-like dicts each contract model MUST refuse (re-exported by
:mod:`conformance.properties.strategies`).

They start from the valid strategies of :mod:`conformance.properties.valid_models` and break
one rule at a time, so a refusal names one cause.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from hypothesis import strategies as st

from conformance.properties.valid_models import (
    _TEXT,
    Data,
    _sources,
    _time_for,
    _weekday_sets,
    aware_datetimes,
    backup_configurations,
    backup_policies,
    backup_results,
    backup_schedules,
    clock_times,
    connection_data,
    connection_metadata,
    disks,
    hourly_times,
    on_demand_options,
    plugin_metadata,
    policy_codes,
    restore_results,
    vm_infos,
)
from simulator.contract import (
    DISK_SOURCE_TYPES,
    BackupConfiguration,
    BackupPolicy,
    BackupResult,
    BackupSchedule,
    BackupType,
    ConnectionData,
    ConnectionMetadata,
    ContractModel,
    Disk,
    OnDemandBackupOptions,
    Periodicity,
    PluginMetadata,
    RestoreResult,
    VirtualMachineInfo,
)

__all__ = [
    "INVALID_DATA_STRATEGIES",
    "invalid_backup_configuration_data",
    "invalid_backup_policy_data",
    "invalid_backup_result_data",
    "invalid_backup_schedule_data",
    "invalid_connection_data",
    "invalid_connection_metadata_data",
    "invalid_disk_data",
    "invalid_on_demand_options_data",
    "invalid_plugin_metadata_data",
    "invalid_restore_result_data",
    "invalid_vm_info_data",
]


def _json(model: ContractModel) -> Data:
    return model.model_dump(mode="json")


def _extra_field(valid: st.SearchStrategy[Data]) -> st.SearchStrategy[Data]:
    """A valid dict plus one key the model does not have (a typo must be an error)."""
    keys = st.sampled_from(("extra", "retention", "Type", "when", "policy", "comment"))
    return st.builds(lambda d, k, v: {**d, k: v}, valid, keys, st.integers() | _TEXT)


_BAD_HOURLY = (
    "0", "25", "-1", "06", "1.5", "", " 6", "6h", "six", "12:00:00 +0000", "100",
)  # fmt: skip
_BAD_CLOCK = (
    "24:00:00 +0000", "23:60:00 +0000", "23:59:60 +0000", "7:00:00 +0000",
    "07:00 +0000", "07:00:00", "07:00:00 +1900", "07:00:00 +0060", "07:00:00 UTC",
    "07:00:00 0000", "07:00:00Z", "6", "", "2026/01/05 07:00:00 +0000",
)  # fmt: skip
_BAD_DEFINED = (
    "2026/02/30 10:00:00 +0000", "2026-01-05 10:00:00 +0000", "10:00:00 +0000",
    "2026/1/5 10:00:00 +0000", "2026/01/05 24:00:00 +0000", "2026/13/01 10:00:00 +0000",
    "2026/01/05 10:00:00", "2026/01/05 10:00:00 +2000", "2026/01/05T10:00:00 +0000", "6", "",
)  # fmt: skip


def _bad_time(subtype: Periodicity) -> st.SearchStrategy[str]:
    if subtype is Periodicity.HOURLY:
        generated = st.integers(-48, 200).filter(lambda n: not 1 <= n <= 24).map(str)
        return st.sampled_from(_BAD_HOURLY) | generated
    if subtype is Periodicity.DEFINED_HOUR:
        bad_offset = st.builds(
            lambda d, h: f"{d:%Y/%m/%d} 10:00:00 +{h:02d}00",
            st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
            st.integers(19, 99),
        )
        return st.sampled_from(_BAD_DEFINED) | bad_offset | clock_times()
    bad_hour = st.builds(lambda h: f"{h:02d}:00:00 +0000", st.integers(24, 99))
    return st.sampled_from(_BAD_CLOCK) | bad_hour | hourly_times()


def _config_dict(
    btype: BackupType, subtype: Periodicity, time: str | None, days: Any, sources: Any
) -> Data:
    data: Data = {"type": btype.value, "subtype": subtype.value, "days": days, "sources": sources}
    if time is not None:
        data["time"] = time
    return data


@st.composite
def _bad_time_config(draw: st.DrawFn) -> Data:
    subtype = draw(st.sampled_from(list(Periodicity)))
    btype = draw(st.sampled_from(list(BackupType)))
    days = list(draw(_weekday_sets())) if subtype is Periodicity.WEEKLY_PLANNED else []
    return _config_dict(btype, subtype, draw(_bad_time(subtype)), days, [])


@st.composite
def _bad_days_config(draw: st.DrawFn) -> Data:
    btype = draw(st.sampled_from(list(BackupType)))
    kind = draw(st.sampled_from(("upper-case", "unknown", "duplicate", "missing", "elsewhere")))
    subtype = Periodicity.WEEKLY_PLANNED
    good = list(draw(_weekday_sets()))
    if kind == "upper-case":
        i = draw(st.integers(0, len(good) - 1))
        good[i] = draw(st.sampled_from((good[i].capitalize(), good[i].upper())))
        days: list[str] = good
    elif kind == "unknown":
        days = [*good, draw(st.sampled_from(("mon", "funday", "lunes", "weekend", "", "7")))]
    elif kind == "duplicate":
        days = [*good, draw(st.sampled_from(good))]
    elif kind == "missing":
        days = []
    else:
        subtype = draw(st.sampled_from([p for p in Periodicity if p is not subtype]))
        days = good
    time = draw(st.none() | _time_for(subtype, None, 1))
    return _config_dict(btype, subtype, time, days, [])


@st.composite
def _bad_sources_config(draw: st.DrawFn) -> Data:
    subtype = draw(st.sampled_from([p for p in Periodicity if p is not Periodicity.WEEKLY_PLANNED]))
    kind = draw(st.sampled_from(("path-on-disks", "disk-on-filesystem", "duplicate")))
    if kind == "path-on-disks":
        btype = draw(st.sampled_from(sorted(DISK_SOURCE_TYPES, key=lambda t: t.value)))
        bad = draw(st.sampled_from(("/var/lib", "C:\\Data", "disk0", "-1", "1.5", "")))
        sources = [*draw(_sources(btype, 7)), bad]
    elif kind == "disk-on-filesystem":
        btype = BackupType.FILESYSTEM
        bad = draw(st.sampled_from(("0", "1", "var/lib", "data", "", "~/home")))
        sources = [*draw(_sources(btype, 7)), bad]
    else:
        btype = draw(st.sampled_from(list(BackupType)))
        one = draw(_sources(btype, 7).filter(bool))
        sources = [*one, one[0]]
    return _config_dict(btype, subtype, None, [], sources)


def _unknown_enum_config() -> st.SearchStrategy[Data]:
    return st.one_of(
        st.builds(
            lambda t: {"type": t, "subtype": "DAILY"},
            st.sampled_from(("FULL", "complete", "INCREMENTAL", "", "SNAP")),
        ),
        st.builds(
            lambda s: {"type": "COMPLETE", "subtype": s},
            st.sampled_from(("WEEKLY", "daily", "YEARLY", "HOURS", "")),
        ),
    )


def invalid_backup_configuration_data() -> st.SearchStrategy[Data]:
    """Dicts :class:`BackupConfiguration` MUST refuse.

    A time that does not fit its periodicity; upper-case, unknown or repeated days;
    WEEKLY_PLANNED without days; days on another periodicity; paths as sources of
    COMPLETE or SNAPSHOT; disk numbers (or relative paths) as sources of FILESYSTEM;
    a repeated source; an unknown type or subtype; an unknown field.
    """
    return st.one_of(
        _bad_time_config(),
        _bad_days_config(),
        _bad_sources_config(),
        _unknown_enum_config(),
        _extra_field(backup_configurations().map(_json)),
    )


@st.composite
def _duplicate_pair_policy(draw: st.DrawFn) -> Data:
    policy = draw(backup_policies(min_configurations=1))
    data = _json(policy)
    first = data["configurations"][0]
    twin = dict(first)
    # Same type/subtype, otherwise a different configuration: still refused.
    twin["time"] = (
        None
        if first.get("time") is not None
        else draw(_time_for(Periodicity(first["subtype"]), None, 1))
    )
    at = draw(st.integers(0, len(data["configurations"])))
    data["configurations"] = [*data["configurations"][:at], twin, *data["configurations"][at:]]
    return data


@st.composite
def _policy_with_bad_field(draw: st.DrawFn) -> Data:
    data = _json(draw(backup_policies()))
    kind = draw(st.sampled_from(("code", "name", "configuration", "replication")))
    if kind == "code":
        data["code"] = draw(st.sampled_from(("", None, 7)))
    elif kind == "name":
        data["name"] = draw(st.sampled_from(("", None)))
    elif kind == "replication":
        data["replication"] = draw(st.sampled_from(("maybe", 2, None, [])))
    else:
        bad = draw(invalid_backup_configuration_data())
        data["configurations"] = [*data["configurations"], bad]
    return data


def invalid_backup_policy_data() -> st.SearchStrategy[Data]:
    """Dicts :class:`BackupPolicy` MUST refuse: a repeated type/subtype pair, an empty
    code or name, a non-boolean replication, an invalid configuration, an unknown field."""
    return st.one_of(
        _duplicate_pair_policy(),
        _policy_with_bad_field(),
        _extra_field(backup_policies().map(_json)),
    )


@st.composite
def _duplicate_code_schedule(draw: st.DrawFn) -> Data:
    code = draw(policy_codes())
    first = draw(backup_policies(codes=st.just(code)))
    second = draw(backup_policies(codes=st.just(code)))
    return {"policies": [_json(first), _json(second)]}


def invalid_backup_schedule_data() -> st.SearchStrategy[Data]:
    """Dicts :class:`BackupSchedule` MUST refuse: two policies with one code, an invalid
    policy, an unknown field."""
    return st.one_of(
        _duplicate_code_schedule(),
        st.builds(
            lambda ok, bad: {"policies": [*ok["policies"], bad]},
            backup_schedules(max_policies=2).map(_json),
            invalid_backup_policy_data(),
        ),
        _extra_field(backup_schedules(max_policies=2).map(_json)),
    )


def _replace(
    valid: st.SearchStrategy[Data], field: str, bad: st.SearchStrategy[Any]
) -> st.SearchStrategy[Data]:
    return st.builds(lambda d, v: {**d, field: v}, valid, bad)


def _without(valid: st.SearchStrategy[Data], fields: tuple[str, ...]) -> st.SearchStrategy[Data]:
    return st.builds(
        lambda d, f: {k: v for k, v in d.items() if k != f}, valid, st.sampled_from(fields)
    )


def invalid_disk_data() -> st.SearchStrategy[Data]:
    """Dicts :class:`Disk` MUST refuse: a negative sequence or size, an empty path, a
    missing field, an unknown field."""
    valid = disks().map(_json)
    return st.one_of(
        _replace(valid, "sequence", st.integers(max_value=-1) | st.sampled_from(("a", None))),
        _replace(valid, "size_bytes", st.integers(max_value=-1) | st.just("big")),
        _replace(valid, "path", st.sampled_from(("", None))),
        _without(valid, ("sequence", "size_bytes", "path")),
        _extra_field(valid),
    )


@st.composite
def _duplicate_disks_vm(draw: st.DrawFn) -> Data:
    data = _json(draw(vm_infos()))
    disk = _json(draw(disks()))
    twin = {**disk, "path": disk["path"] + ".copy"}
    data["disks"] = [disk, twin]
    return data


def invalid_vm_info_data() -> st.SearchStrategy[Data]:
    """Dicts :class:`VirtualMachineInfo` MUST refuse: two disks with one sequence, an
    empty uuid, name or datacenter, an invalid disk, an unknown field."""
    valid = vm_infos().map(_json)
    return st.one_of(
        _duplicate_disks_vm(),
        st.builds(
            lambda d, f: {**d, f: ""},
            valid,
            st.sampled_from(
                ("uuid", "name", "datacenter", "hypervisor_type", "hypervisor_address")
            ),
        ),
        st.builds(lambda d, bad: {**d, "disks": [*d["disks"], bad]}, valid, invalid_disk_data()),
        _without(valid, ("uuid", "name", "datacenter")),
        _extra_field(valid),
    )


def invalid_on_demand_options_data() -> st.SearchStrategy[Data]:
    """Dicts :class:`OnDemandBackupOptions` MUST refuse: a replication that is not a
    boolean, an unknown field."""
    return st.one_of(
        st.builds(
            lambda v: {"replication": v}, st.sampled_from(("maybe", 2, -1, None, [], "", 0.5))
        ),
        _extra_field(on_demand_options().map(_json)),
    )


def _naive(value: Any) -> Any:
    """An ISO datetime string without its offset, or a naive datetime."""
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).replace(tzinfo=None)


@st.composite
def _naive_dates(draw: st.DrawFn, valid: st.SearchStrategy[Data], fields: tuple[str, ...]) -> Data:
    data = dict(draw(valid))
    field = draw(st.sampled_from(fields))
    if data.get(field) is None:
        data[field] = draw(aware_datetimes()).isoformat()
    naive = _naive(data[field])
    data[field] = draw(st.sampled_from((naive, naive.isoformat())))
    return data


_RESULT_DATES = ("creation_date", "finish_date", "expiration_date")
_RESTORE_DATES = ("creation_date", "finish_date")


def invalid_restore_result_data() -> st.SearchStrategy[Data]:
    """Dicts :class:`RestoreResult` MUST refuse: a naive date, an unknown state, a
    missing id, an unknown field."""
    valid = restore_results().map(_json)
    return st.one_of(
        _naive_dates(valid, _RESTORE_DATES),
        _replace(valid, "state", st.sampled_from(("done", "FINISHED", "RUNNING", "", None))),
        _without(valid, ("provider_id", "backup_provider_id", "state", "creation_date")),
        _extra_field(valid),
    )


def invalid_backup_result_data() -> st.SearchStrategy[Data]:
    """Dicts :class:`BackupResult` MUST refuse: a naive date, an unknown state or type,
    a size that is not a whole number, an invalid restore, a missing field, an unknown
    field."""
    valid = backup_results().map(_json)
    return st.one_of(
        _naive_dates(valid, _RESULT_DATES),
        _replace(valid, "state", st.sampled_from(("done", "FINISHED", "RUNNING", "", None))),
        _replace(valid, "type", st.sampled_from(("FULL", "complete", "", None))),
        _replace(valid, "size_bytes", st.sampled_from(("big", 1.5, None, []))),
        st.builds(
            lambda d, bad: {**d, "restores": [*d["restores"], bad]},
            valid,
            invalid_restore_result_data(),
        ),
        _without(valid, ("provider_id", "vm_uuid", "name", "type", "state", "creation_date")),
        _extra_field(valid),
    )


def invalid_connection_data() -> st.SearchStrategy[Data]:
    """Dicts :class:`ConnectionData` MUST refuse: a field that is not text, an unknown
    field (``endpint``, ``username``, ...)."""
    valid = connection_data().map(_json)
    return st.one_of(
        st.builds(
            lambda d, f, v: {**d, f: v},
            valid,
            st.sampled_from(("endpoint", "user", "password")),
            st.sampled_from(([], {}, ["sim://x"], {"url": "sim://x"})),
        ),
        st.builds(
            lambda d, k: {**d, k: "x"},
            valid,
            st.sampled_from(("endpint", "username", "pass", "url", "host")),
        ),
    )


def invalid_plugin_metadata_data() -> st.SearchStrategy[Data]:
    """Dicts :class:`PluginMetadata` MUST refuse: a missing or non-text field,
    supported versions that are not a list of text, an unknown field."""
    valid = plugin_metadata().map(_json)
    return st.one_of(
        _without(valid, ("type", "friendly_name", "version")),
        _replace(valid, "supported_versions", st.sampled_from(([["4.5"]], [None], {"v": "4.5"}))),
        st.builds(
            lambda d, f: {**d, f: None},
            valid,
            st.sampled_from(("type", "friendly_name", "version")),
        ),
        _extra_field(valid),
    )


def invalid_connection_metadata_data() -> st.SearchStrategy[Data]:
    """Dicts :class:`ConnectionMetadata` MUST refuse: an unknown constraint, an unknown
    field."""
    bad = st.sampled_from(("REQUIRED", "mandatory", "Optional", "", "NONE", None, 1))
    return st.one_of(
        st.builds(lambda v: {"endpoint": v}, bad),
        st.builds(lambda v: {"credentials": v}, bad),
        _extra_field(connection_metadata().map(_json)),
    )


#: Each contract model's strategy of dicts it MUST refuse.
INVALID_DATA_STRATEGIES: dict[type[ContractModel], Callable[[], st.SearchStrategy[Data]]] = {
    BackupConfiguration: invalid_backup_configuration_data,
    BackupPolicy: invalid_backup_policy_data,
    BackupSchedule: invalid_backup_schedule_data,
    Disk: invalid_disk_data,
    VirtualMachineInfo: invalid_vm_info_data,
    OnDemandBackupOptions: invalid_on_demand_options_data,
    BackupResult: invalid_backup_result_data,
    RestoreResult: invalid_restore_result_data,
    ConnectionData: invalid_connection_data,
    PluginMetadata: invalid_plugin_metadata_data,
    ConnectionMetadata: invalid_connection_metadata_data,
}
