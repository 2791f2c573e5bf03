"""Hypothesis strategies of valid contract models (the public face is
:mod:`conformance.properties.strategies`, which re-exports these).

Each builds models that follow Abiquo's rules and are well formed in the sense the
conformance checks judge; see :mod:`conformance.properties.strategies` for the details.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta, timezone
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
    least one supported backup-technology version."""
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
