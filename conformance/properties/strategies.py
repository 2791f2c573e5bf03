"""Hypothesis strategies for every model of the plugin contract, valid and invalid.

Valid strategies build models that follow Abiquo's rules (``simulator.contract``):
a configuration's ``time`` in its periodicity's format, lower-case distinct weekdays
only on WEEKLY_PLANNED, disk sequence numbers as sources of COMPLETE and SNAPSHOT and
absolute paths as sources of FILESYSTEM, type/subtype pairs unique within a policy,
policy codes unique within a schedule, timezone-aware datetimes. Results are also
*well formed* in the sense the conformance checks judge (creation <= finish, a finish
date on every final result, expiration after creation, sizes >= 0), so that a plugin
author can use them as honest fixtures::

    from hypothesis import given
    from conformance.properties.strategies import backup_schedules, vm_infos

    @given(vm_infos(), backup_schedules())
    def test_my_plugin_accepts_any_schedule(vm, schedule): ...

Invalid strategies (``invalid_*_data``) build JSON-like ``dict`` inputs that the model
MUST refuse with a :class:`pydantic.ValidationError`: a bad time for the periodicity,
upper-case, unknown or repeated days, WEEKLY_PLANNED without days, days on another
periodicity, paths as sources of COMPLETE or SNAPSHOT, disk numbers as sources of
FILESYSTEM, a repeated type/subtype in a policy, naive datetimes, unknown fields, ...

:data:`MODEL_STRATEGIES` and :data:`INVALID_DATA_STRATEGIES` map each contract model
class to its strategies.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st
from pydantic import SecretStr

from simulator.contract import (
    ALL_BACKUP_TYPES,
    ALL_PERIODICITIES,
    DISK_SOURCE_TYPES,
    WEEKDAYS,
    BackupConfiguration,
    BackupPolicy,
    BackupResult,
    BackupSchedule,
    BackupType,
    ConnectionData,
    ConnectionMetadata,
    ContractModel,
    Disk,
    FieldConstraint,
    OnDemandBackupOptions,
    Periodicity,
    PluginMetadata,
    RestoreResult,
    ResultState,
    VirtualMachineInfo,
)

__all__ = [
    "INVALID_DATA_STRATEGIES",
    "MODEL_STRATEGIES",
    "aware_datetimes",
    "backup_configurations",
    "backup_policies",
    "backup_results",
    "backup_schedules",
    "clock_times",
    "connection_data",
    "connection_metadata",
    "defined_times",
    "disks",
    "hourly_times",
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
    "offsets",
    "on_demand_options",
    "plugin_metadata",
    "policy_codes",
    "restore_results",
    "vm_infos",
]

Data = dict[str, Any]

_EARLIEST = datetime(2000, 1, 1)
_LATEST = datetime(2099, 12, 31)
_PATHS = ("/", "/var/lib", "/etc", "/home", "/srv/data", "/opt/app", "C:\\Data", "d:\\logs")
_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=16)
_NAME = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Z")),
    min_size=1,
    max_size=16,
)
_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"


def _token(first: str, rest: str, max_size: int) -> st.SearchStrategy[str]:
    """A token: one character of ``first``, then up to ``max_size - 1`` of ``rest``."""
    return st.builds(
        lambda a, b: a + b, st.sampled_from(first), st.text(rest, max_size=max_size - 1)
    )


_IDS = _token(_LOWER, _LOWER + "-", 16)


# ------------------------------------------------------------------ time formats


def offsets() -> st.SearchStrategy[str]:
    """UTC offsets as Abiquo writes them: ``+0100``, ``-0530``, ``+1800`` at most."""

    def render(minutes: int) -> str:
        h, m = divmod(abs(minutes), 60)
        return f"{'-' if minutes < 0 else '+'}{h:02d}{m:02d}"

    return st.integers(-18 * 60, 18 * 60).map(render)


def clock_times() -> st.SearchStrategy[str]:
    """``HH:mm:ss Z`` (DAILY, WEEKLY_PLANNED, MONTHLY), e.g. ``23:30:00 +0000``."""
    return st.builds(
        lambda h, m, s, z: f"{h:02d}:{m:02d}:{s:02d} {z}",
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
        offsets(),
    )


def defined_times(*, between: tuple[datetime, datetime] | None = None) -> st.SearchStrategy[str]:
    """``yyyy/MM/dd HH:mm:ss Z`` (DEFINED_HOUR), a one-off instant.

    With ``between`` (two aware datetimes), the instant lies in that range, so that a
    simulated world of that span sees it fire.
    """
    if between is None:
        return st.builds(
            lambda d, clock: f"{d:%Y/%m/%d} {clock}",
            st.dates(min_value=_EARLIEST.date(), max_value=_LATEST.date()),
            clock_times(),
        )
    lo, hi = between
    if lo.tzinfo is None or hi.tzinfo is None or not lo < hi:
        raise ValueError(f"between must be two aware datetimes with lo < hi, got {lo!r} .. {hi!r}")
    span = int((hi - lo).total_seconds())

    def render(seconds: int, offset_minutes: int) -> str:
        zone = timezone(timedelta(minutes=offset_minutes))
        local = (lo + timedelta(seconds=seconds)).astimezone(zone)
        sign = "+" if offset_minutes >= 0 else "-"
        h, m = divmod(abs(offset_minutes), 60)
        return f"{local:%Y/%m/%d %H:%M:%S} {sign}{h:02d}{m:02d}"

    return st.builds(
        render,
        st.integers(0, max(0, span - 1)),
        st.sampled_from((0, 60, -300, 330, 120, -180, 540)),
    )


def hourly_times(min_hours: int = 1, max_hours: int = 24) -> st.SearchStrategy[str]:
    """HOURLY's ``time``: a whole number of hours, 1 to 24, as a string (``"6"``)."""
    if not 1 <= min_hours <= max_hours <= 24:
        raise ValueError(
            f"hourly_times needs 1 <= min_hours <= max_hours <= 24, got {min_hours}, {max_hours}"
        )
    return st.integers(min_hours, max_hours).map(str)


def aware_datetimes() -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes between 2000 and 2099, in UTC or a fixed offset."""
    zones = st.sampled_from(
        (
            UTC,
            timezone(timedelta(hours=1)),
            timezone(timedelta(hours=-5)),
            timezone(timedelta(hours=5, minutes=30)),
        )
    )
    return st.datetimes(min_value=_EARLIEST, max_value=_LATEST, timezones=zones)


def policy_codes() -> st.SearchStrategy[str]:
    """Policy codes such as vendors use for their jobs: ``GOLD``, ``SLA_1``, ``nightly-2``."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return _token(letters, letters + "0123456789_-", 12)


# --------------------------------------------------------------- configurations


def _time_for(
    subtype: Periodicity,
    defined_between: tuple[datetime, datetime] | None,
    min_hourly: int,
) -> st.SearchStrategy[str]:
    if subtype is Periodicity.DEFINED_HOUR:
        return defined_times(between=defined_between)
    if subtype is Periodicity.HOURLY:
        return hourly_times(min_hourly)
    return clock_times()


def _weekday_sets() -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True).map(tuple)


def _sources(btype: BackupType, max_disk: int) -> st.SearchStrategy[tuple[str, ...]]:
    if btype in DISK_SOURCE_TYPES:
        return st.lists(st.integers(0, max_disk).map(str), max_size=3, unique=True).map(tuple)
    return st.lists(st.sampled_from(_PATHS), max_size=3, unique=True).map(tuple)


def _ordered(values: Collection[Any], every: Collection[Any]) -> list[Any]:
    """``values`` in the declaration order of ``every`` (sets have no stable order)."""
    chosen = list(every) if not values else [v for v in every if v in values]
    if not chosen:
        raise ValueError(f"nothing to draw from: {sorted(str(v) for v in values)}")
    return chosen


@st.composite
def backup_configurations(
    draw: st.DrawFn,
    *,
    types: Collection[BackupType] = ALL_BACKUP_TYPES,
    periodicities: Collection[Periodicity] = ALL_PERIODICITIES,
    timed: bool | None = None,
    defined_between: tuple[datetime, datetime] | None = None,
    min_hourly: int = 1,
    max_disk_source: int = 7,
) -> BackupConfiguration:
    """A valid :class:`BackupConfiguration`.

    ``types`` and ``periodicities`` restrict what is drawn (empty means all, as the
    platform reads a plugin's ``supported_*`` attributes). ``timed=True`` always gives a
    ``time``, ``False`` never, ``None`` either. ``defined_between`` places DEFINED_HOUR
    instants in a range; ``min_hourly`` is the smallest HOURLY step; disk sources are
    drawn from ``0 .. max_disk_source``.
    """
    btype = draw(st.sampled_from(_ordered(types, list(BackupType))))
    subtype = draw(st.sampled_from(_ordered(periodicities, list(Periodicity))))
    with_time = draw(st.booleans()) if timed is None else timed
    time = draw(_time_for(subtype, defined_between, min_hourly)) if with_time else None
    days = draw(_weekday_sets()) if subtype is Periodicity.WEEKLY_PLANNED else ()
    sources = draw(_sources(btype, max_disk_source))
    return BackupConfiguration(type=btype, subtype=subtype, time=time, days=days, sources=sources)


@st.composite
def backup_policies(
    draw: st.DrawFn,
    *,
    codes: st.SearchStrategy[str] | None = None,
    min_configurations: int = 0,
    max_configurations: int = 4,
    types: Collection[BackupType] = ALL_BACKUP_TYPES,
    periodicities: Collection[Periodicity] = ALL_PERIODICITIES,
    timed: bool | None = None,
    defined_between: tuple[datetime, datetime] | None = None,
    min_hourly: int = 1,
    max_disk_source: int = 7,
) -> BackupPolicy:
    """A valid :class:`BackupPolicy` whose type/subtype pairs are unique.

    The configuration arguments are those of :func:`backup_configurations`. Fewer than
    ``min_configurations`` may come out when the allowed types and periodicities have
    fewer distinct pairs.
    """
    pairs = len(_ordered(types, list(BackupType))) * len(_ordered(periodicities, list(Periodicity)))
    configs = draw(
        st.lists(
            backup_configurations(
                types=types,
                periodicities=periodicities,
                timed=timed,
                defined_between=defined_between,
                min_hourly=min_hourly,
                max_disk_source=max_disk_source,
            ),
            min_size=min(min_configurations, pairs),
            max_size=min(max_configurations, pairs),
            unique_by=lambda c: c.key,
        )
    )
    return BackupPolicy(
        code=draw(codes if codes is not None else policy_codes()),
        name=draw(_NAME),
        description=draw(_TEXT),
        replication=draw(st.booleans()),
        configurations=tuple(configs),
    )


@st.composite
def backup_schedules(
    draw: st.DrawFn, *, min_policies: int = 0, max_policies: int = 3
) -> BackupSchedule:
    """A valid :class:`BackupSchedule`: policies with distinct codes."""
    codes = draw(
        st.lists(policy_codes(), min_size=min_policies, max_size=max_policies, unique=True)
    )
    policies = tuple(draw(backup_policies(codes=st.just(code))) for code in codes)
    return BackupSchedule(policies=policies)


# -------------------------------------------------------------------- VMs, disks


def disks(*, max_sequence: int = 15) -> st.SearchStrategy[Disk]:
    """A valid :class:`Disk`."""
    return st.builds(
        Disk,
        sequence=st.integers(0, max_sequence),
        size_bytes=st.integers(0, 2**44),
        path=st.builds(lambda ds, name: f"[{ds}] {name}.vmdk", _IDS, _IDS),
    )


def vm_infos(*, max_disks: int = 4) -> st.SearchStrategy[VirtualMachineInfo]:
    """A valid :class:`VirtualMachineInfo` with distinct disk sequences."""
    return st.builds(
        VirtualMachineInfo,
        uuid=st.uuids().map(str),
        name=_NAME,
        datacenter=_IDS,
        hypervisor_type=st.sampled_from(("VMX_04", "KVM", "HYPERV_301", "XENSERVER")),
        hypervisor_address=st.ip_addresses().map(str),
        disks=st.lists(disks(), max_size=max_disks, unique_by=lambda d: d.sequence).map(
            lambda ds: tuple(sorted(ds, key=lambda d: d.sequence))
        ),
    )


def on_demand_options() -> st.SearchStrategy[OnDemandBackupOptions]:
    """A valid :class:`OnDemandBackupOptions`."""
    return st.builds(OnDemandBackupOptions, replication=st.booleans())


# ------------------------------------------------------------------------ results


def _after(start: datetime, max_seconds: int) -> st.SearchStrategy[datetime]:
    return st.integers(0, max_seconds).map(lambda s: start + timedelta(seconds=s))


@st.composite
def restore_results(draw: st.DrawFn, *, backup_provider_id: str | None = None) -> RestoreResult:
    """A well-formed :class:`RestoreResult`: a final one has a finish date after its creation."""
    state = draw(st.sampled_from(list(ResultState)))
    creation = draw(aware_datetimes())
    finish = draw(_after(creation, 86400)) if state.is_final else None
    return RestoreResult(
        provider_id=draw(_IDS.map(lambda s: f"restore-{s}")),
        backup_provider_id=backup_provider_id
        if backup_provider_id is not None
        else draw(_IDS.map(lambda s: f"backup-{s}")),
        state=state,
        creation_date=creation,
        finish_date=finish,
        message=draw(st.none() | _TEXT),
    )


@st.composite
def backup_results(draw: st.DrawFn, *, max_restores: int = 2) -> BackupResult:
    """A well-formed :class:`BackupResult` as a plugin should report it.

    Non-empty provider id; creation <= finish; a finish date exactly when the state is
    final; expiration after creation; size >= 0; restores (only of a DONE backup) that
    point at it.
    """
    state = draw(st.sampled_from(list(ResultState)))
    provider_id = draw(_IDS.map(lambda s: f"backup-{s}"))
    creation = draw(aware_datetimes())
    finish = draw(_after(creation, 86400)) if state.is_final else None
    expiration = draw(
        st.none() | st.integers(1, 90 * 86400).map(lambda s: creation + timedelta(seconds=s))
    )
    restores: tuple[RestoreResult, ...] = ()
    if state is ResultState.DONE and max_restores:
        restores = tuple(
            draw(
                st.lists(
                    restore_results(backup_provider_id=provider_id),
                    max_size=max_restores,
                    unique_by=lambda r: r.provider_id,
                )
            )
        )
    return BackupResult(
        provider_id=provider_id,
        vm_uuid=draw(st.uuids().map(str)),
        name=draw(_NAME),
        type=draw(st.sampled_from(list(BackupType))),
        state=state,
        creation_date=creation,
        finish_date=finish,
        expiration_date=expiration,
        size_bytes=draw(st.integers(0, 2**44)),
        replication=draw(st.booleans()),
        on_demand=draw(st.booleans()),
        message=draw(st.none() | _TEXT),
        restores=restores,
    )


# ------------------------------------------------------------ connection, metadata


def connection_data() -> st.SearchStrategy[ConnectionData]:
    """A valid :class:`ConnectionData`; each field may be absent."""
    return st.builds(
        ConnectionData,
        endpoint=st.none() | _IDS.map(lambda s: f"https://{s}.example.com/api"),
        user=st.none() | _IDS,
        password=st.none() | _NAME.map(SecretStr),
    )


def plugin_metadata() -> st.SearchStrategy[PluginMetadata]:
    """Well-formed :class:`PluginMetadata`: a lower-case type token, a version, and at
    least one supported Abiquo version."""
    return st.builds(
        PluginMetadata,
        type=_token(_LOWER, _LOWER + "._-", 16),
        friendly_name=_NAME,
        version=st.builds(
            lambda a, b, c: f"{a}.{b}.{c}",
            st.integers(0, 20),
            st.integers(0, 20),
            st.integers(0, 99),
        ),
        supported_versions=st.lists(
            st.sampled_from(("4.0.4", "4.2", "4.2.5", "4.5", "4.6", "4.7")),
            min_size=1,
            max_size=4,
            unique=True,
        ).map(tuple),
    )


def connection_metadata() -> st.SearchStrategy[ConnectionMetadata]:
    """A valid :class:`ConnectionMetadata`."""
    constraints = st.sampled_from(list(FieldConstraint))
    return st.builds(ConnectionMetadata, endpoint=constraints, credentials=constraints)


# ====================================================================== invalid


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


#: Each contract model's strategy of valid instances.
MODEL_STRATEGIES: dict[type[ContractModel], Callable[[], st.SearchStrategy[Any]]] = {
    BackupConfiguration: backup_configurations,
    BackupPolicy: backup_policies,
    BackupSchedule: backup_schedules,
    Disk: disks,
    VirtualMachineInfo: vm_infos,
    OnDemandBackupOptions: on_demand_options,
    BackupResult: backup_results,
    RestoreResult: restore_results,
    ConnectionData: connection_data,
    PluginMetadata: plugin_metadata,
    ConnectionMetadata: connection_metadata,
}

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
