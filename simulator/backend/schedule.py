"""Pure schedule math: when a backup configuration fires.

Abiquo never published how a backup system must interpret a configuration, so the
rules here are *(modelled)* and documented in ``docs/contract.md``:

- DEFINED_HOUR fires once, at its instant;
- HOURLY "N" fires at 00:00 UTC + k·N hours, restarting at each UTC midnight;
- DAILY fires every day at its local time, in its own offset;
- WEEKLY_PLANNED fires on its days, judged in its own offset, at its local time;
- MONTHLY fires on day 1 of the month, in its own offset, at its local time.

A configuration without ``time`` is placed by the backup system as it likes; only its
count per period (:func:`periods`) can be checked.

Every function is pure: instants in, instants out, all timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone

from simulator.contract import WEEKDAYS, BackupConfiguration, Periodicity

__all__ = [
    "DEFAULT_TOLERANCE",
    "first_occurrence_at_or_after",
    "occurrences",
    "parse_clock_time",
    "parse_defined_instant",
    "parse_offset",
    "periods",
]

#: How late a scheduled backup's ``creation_date`` may be after its occurrence.
DEFAULT_TOLERANCE = timedelta(minutes=15)

_DAY = timedelta(days=1)


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def parse_offset(z: str) -> timezone:
    """Parse an RFC 822 offset such as ``+0130`` or ``-0800``."""
    sign = -1 if z[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(z[1:3]), minutes=int(z[3:5])))


def parse_clock_time(value: str) -> tuple[time, timezone]:
    """Parse ``HH:mm:ss Z`` into a local time and its offset."""
    clock, z = value.split(" ")
    h, m, s = (int(x) for x in clock.split(":"))
    return time(h, m, s), parse_offset(z)


def parse_defined_instant(value: str) -> datetime:
    """Parse ``yyyy/MM/dd HH:mm:ss Z`` into an aware UTC instant."""
    day, clock, z = value.split(" ")
    y, mo, d = (int(x) for x in day.split("/"))
    h, m, s = (int(x) for x in clock.split(":"))
    return datetime(y, mo, d, h, m, s, tzinfo=parse_offset(z)).astimezone(UTC)


def _local_days(start: datetime, end: datetime, tz: timezone) -> Iterator[date]:
    """Every local calendar day in ``tz`` that overlaps [start, end), padded by one."""
    day = start.astimezone(tz).date() - _DAY
    last = end.astimezone(tz).date() + _DAY
    while day <= last:
        yield day
        day += _DAY


def occurrences(
    config: BackupConfiguration,
    start: datetime,
    end: datetime,
    *,
    placement: timedelta = timedelta(0),
) -> list[datetime]:
    """The instants in ``[start, end)`` at which ``config`` fires, ascending, in UTC.

    ``placement`` is only used for a configuration without ``time``: it is where, within
    each of its :func:`periods`, the backup system chose to run it. A timeless
    DEFINED_HOUR has no period and so no occurrence here.
    """
    _require_aware("start", start)
    _require_aware("end", end)
    if end <= start:
        return []
    if config.time is None:
        return [
            p_start + placement
            for p_start, p_end in periods(config, start - _DAY * 31, end)
            if p_start + placement < p_end and start <= p_start + placement < end
        ]
    sub = config.subtype
    out: list[datetime] = []
    if sub is Periodicity.DEFINED_HOUR:
        instant = parse_defined_instant(config.time)
        return [instant] if start <= instant < end else []
    if sub is Periodicity.HOURLY:
        step = timedelta(hours=int(config.time))
        for day in _local_days(start, end, UTC):
            midnight = datetime.combine(day, time(0), tzinfo=UTC)
            t = midnight
            while t < midnight + _DAY:
                if start <= t < end:
                    out.append(t)
                t += step
        return out
    local_time, tz = parse_clock_time(config.time)
    wanted = {WEEKDAYS.index(d) for d in config.days}
    for day in _local_days(start, end, tz):
        if sub is Periodicity.WEEKLY_PLANNED and day.weekday() not in wanted:
            continue
        if sub is Periodicity.MONTHLY and day.day != 1:
            continue
        t = datetime.combine(day, local_time, tzinfo=tz).astimezone(UTC)
        if start <= t < end:
            out.append(t)
    return out


def first_occurrence_at_or_after(
    config: BackupConfiguration, instant: datetime, *, placement: timedelta = timedelta(0)
) -> datetime | None:
    """The first instant at or after ``instant`` at which ``config`` fires, or ``None``.

    Looks ahead at most 62 days, which covers every periodicity (MONTHLY is the longest).
    """
    _require_aware("instant", instant)
    if config.subtype is Periodicity.DEFINED_HOUR and config.time is not None:
        t = parse_defined_instant(config.time)
        return t if t >= instant else None
    found = occurrences(config, instant, instant + timedelta(days=62), placement=placement)
    return found[0] if found else None


def periods(
    config: BackupConfiguration, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The UTC periods overlapping [start, end) in each of which ``config`` fires once.

    Used to place and to check a configuration without ``time``: HOURLY every hour (or
    every N hours when ``time`` is given), DAILY every UTC day, WEEKLY_PLANNED every UTC
    day named in ``days``, MONTHLY every UTC month. DEFINED_HOUR has none.
    """
    _require_aware("start", start)
    _require_aware("end", end)
    sub = config.subtype
    out: list[tuple[datetime, datetime]] = []
    if sub is Periodicity.DEFINED_HOUR or end <= start:
        return out
    if sub is Periodicity.MONTHLY:
        cur = datetime(start.year, start.month, 1, tzinfo=UTC)
        while cur < end:
            nxt = datetime(cur.year + cur.month // 12, cur.month % 12 + 1, 1, tzinfo=UTC)
            if nxt > start:
                out.append((cur, nxt))
            cur = nxt
        return out
    wanted = {WEEKDAYS.index(d) for d in config.days}
    for day in _local_days(start, end, UTC):
        midnight = datetime.combine(day, time(0), tzinfo=UTC)
        if sub is Periodicity.HOURLY:
            step = timedelta(hours=int(config.time)) if config.time else timedelta(hours=1)
            t = midnight
            while t < midnight + _DAY:
                p_end = min(t + step, midnight + _DAY)
                if p_end > start and t < end:
                    out.append((t, p_end))
                t += step
            continue
        if sub is Periodicity.WEEKLY_PLANNED and day.weekday() not in wanted:
            continue
        if midnight + _DAY > start and midnight < end:
            out.append((midnight, midnight + _DAY))
    return out
