"""When each periodicity fires (the modelled firing rules of simulator.backend.schedule)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.backend.schedule import (
    first_occurrence_at_or_after,
    occurrences,
    parse_clock_time,
    parse_defined_instant,
    parse_offset,
    periods,
)
from simulator.contract import WEEKDAYS, BackupConfiguration, BackupType, Periodicity

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)


def cfg(subtype: str, time: str | None = None, days: tuple[str, ...] = ()) -> BackupConfiguration:
    return BackupConfiguration(
        type=BackupType.COMPLETE, subtype=Periodicity(subtype), time=time, days=days
    )


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# ------------------------------------------------------------------ parsing


def test_offsets_parse_with_sign_hours_and_minutes() -> None:
    assert parse_offset("+0130").utcoffset(None) == timedelta(hours=1, minutes=30)
    assert parse_offset("-0800").utcoffset(None) == timedelta(hours=-8)


def test_clock_times_and_defined_instants_parse() -> None:
    local, tz = parse_clock_time("23:30:05 +0200")
    assert (local.hour, local.minute, local.second) == (23, 30, 5)
    assert tz.utcoffset(None) == timedelta(hours=2)
    assert parse_defined_instant("2026/11/26 22:00:00 +0100") == utc(2026, 11, 26, 21)


# -------------------------------------------------------------- periodicities


def test_defined_hour_fires_once_at_its_instant() -> None:
    config = cfg("DEFINED_HOUR", "2026/01/06 01:30:00 +0200")
    assert occurrences(config, MONDAY, MONDAY + timedelta(days=30)) == [utc(2026, 1, 5, 23, 30)]
    assert occurrences(config, utc(2026, 1, 5, 23, 31), MONDAY + timedelta(days=30)) == []
    assert first_occurrence_at_or_after(config, utc(2026, 1, 5, 23, 30)) == utc(2026, 1, 5, 23, 30)
    assert first_occurrence_at_or_after(config, utc(2026, 1, 5, 23, 31)) is None


def test_hourly_divisor_of_24_fires_every_n_hours() -> None:
    got = occurrences(cfg("HOURLY", "6"), MONDAY, MONDAY + timedelta(days=1))
    assert got == [MONDAY + timedelta(hours=h) for h in (0, 6, 12, 18)]


def test_hourly_restarts_at_each_utc_midnight_when_n_does_not_divide_24() -> None:
    got = occurrences(cfg("HOURLY", "5"), MONDAY, MONDAY + timedelta(days=2))
    day = [0, 5, 10, 15, 20]
    assert got == [MONDAY + timedelta(days=d, hours=h) for d in (0, 1) for h in day]


def test_hourly_24_fires_at_midnight() -> None:
    got = occurrences(cfg("HOURLY", "24"), MONDAY, MONDAY + timedelta(days=3))
    assert got == [MONDAY + timedelta(days=d) for d in range(3)]


def test_daily_fires_at_its_local_time_in_its_own_offset() -> None:
    got = occurrences(cfg("DAILY", "01:00:00 +0200"), MONDAY, MONDAY + timedelta(days=3))
    # 01:00 at +02:00 is 23:00 UTC the day before.
    assert got == [utc(2026, 1, 5, 23), utc(2026, 1, 6, 23), utc(2026, 1, 7, 23)]


def test_weekly_planned_judges_the_weekday_in_its_own_offset() -> None:
    config = cfg("WEEKLY_PLANNED", "00:30:00 +0200", ("monday",))
    got = occurrences(config, utc(2026, 1, 1), utc(2026, 1, 15))
    # Monday 00:30 at +02:00 is Sunday 22:30 UTC.
    assert got == [utc(2026, 1, 4, 22, 30), utc(2026, 1, 11, 22, 30)]
    assert all(t.strftime("%A") == "Sunday" for t in got)


def test_weekly_planned_fires_on_each_named_day() -> None:
    config = cfg("WEEKLY_PLANNED", "12:00:00 +0000", ("monday", "wednesday", "sunday"))
    got = occurrences(config, MONDAY, MONDAY + timedelta(days=7))
    assert [t.strftime("%A") for t in got] == ["Monday", "Wednesday", "Sunday"]


def test_monthly_fires_on_day_one_at_its_local_time() -> None:
    got = occurrences(cfg("MONTHLY", "12:00:00 +0000"), utc(2026, 1, 1), utc(2026, 5, 1))
    assert got == [utc(2026, m, 1, 12) for m in (1, 2, 3, 4)]


def test_monthly_day_one_is_judged_in_its_own_offset() -> None:
    got = occurrences(cfg("MONTHLY", "22:00:00 -0500"), utc(2026, 1, 1), utc(2026, 3, 1))
    # Day 1, 22:00 at -05:00 is day 2, 03:00 UTC.
    assert got == [utc(2026, 1, 2, 3), utc(2026, 2, 2, 3)]


def test_first_occurrence_at_or_after_is_inclusive() -> None:
    config = cfg("DAILY", "10:00:00 +0000")
    assert first_occurrence_at_or_after(config, utc(2026, 1, 5, 10)) == utc(2026, 1, 5, 10)
    assert first_occurrence_at_or_after(config, utc(2026, 1, 5, 10, 0, 1)) == utc(2026, 1, 6, 10)


def test_naive_instants_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrences(cfg("DAILY", "10:00:00 +0000"), datetime(2026, 1, 5), MONDAY)


# ------------------------------------------------------------ without time


@pytest.mark.parametrize(
    ("config", "count"),
    [
        (cfg("HOURLY"), 48),
        (cfg("HOURLY", "5"), 10),
        (cfg("DAILY"), 2),
        (cfg("WEEKLY_PLANNED", None, ("monday",)), 1),
        (cfg("DEFINED_HOUR"), 0),
    ],
)
def test_periods_count_the_runs_a_timeless_configuration_owes(
    config: BackupConfiguration, count: int
) -> None:
    assert len(periods(config, MONDAY, MONDAY + timedelta(days=2))) == count


def test_monthly_periods_are_calendar_months() -> None:
    got = periods(cfg("MONTHLY"), utc(2026, 1, 15), utc(2026, 3, 2))
    assert got == [
        (utc(2026, 1, 1), utc(2026, 2, 1)),
        (utc(2026, 2, 1), utc(2026, 3, 1)),
        (utc(2026, 3, 1), utc(2026, 4, 1)),
    ]


def test_a_timeless_configuration_fires_at_its_placement_in_each_period() -> None:
    got = occurrences(
        cfg("DAILY"), MONDAY, MONDAY + timedelta(days=3), placement=timedelta(hours=7)
    )
    assert got == [MONDAY + timedelta(days=d, hours=7) for d in range(3)]


# ------------------------------------------------------------------ properties

offsets = st.builds(
    lambda sign, h, m: f"{sign}{h:02d}{m:02d}",
    st.sampled_from("+-"),
    st.integers(0, 14),
    st.sampled_from([0, 15, 30, 45]),
)
clock_times = st.builds(
    lambda h, m, z: f"{h:02d}:{m:02d}:00 {z}", st.integers(0, 23), st.integers(0, 59), offsets
)


@st.composite
def timed_configurations(draw: st.DrawFn) -> BackupConfiguration:
    subtype = draw(st.sampled_from(list(Periodicity)))
    if subtype is Periodicity.HOURLY:
        return cfg("HOURLY", str(draw(st.integers(1, 24))))
    if subtype is Periodicity.DEFINED_HOUR:
        day = draw(st.integers(0, 40))
        instant = MONDAY + timedelta(days=day, minutes=draw(st.integers(0, 1439)))
        return cfg("DEFINED_HOUR", f"{instant:%Y/%m/%d %H:%M:%S} +0000")
    days: tuple[str, ...] = ()
    if subtype is Periodicity.WEEKLY_PLANNED:
        days = tuple(draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True)))
    return cfg(subtype.value, draw(clock_times), days)


windows = st.tuples(
    st.integers(0, 40 * 24 * 60), st.integers(0, 20 * 24 * 60), st.integers(0, 100)
).map(
    lambda t: (
        MONDAY + timedelta(minutes=t[0]),
        MONDAY + timedelta(minutes=t[0] + t[1]),
        t[2] / 100,
    )
)


@settings(max_examples=80, deadline=None)
@given(timed_configurations(), windows)
def test_occurrences_are_sorted_unique_and_within_the_window(
    config: BackupConfiguration, window: tuple[datetime, datetime, float]
) -> None:
    start, end, _ = window
    got = occurrences(config, start, end)
    assert got == sorted(set(got))
    assert all(start <= t < end and t.utcoffset() == timedelta(0) for t in got)


@settings(max_examples=80, deadline=None)
@given(timed_configurations(), windows)
def test_splitting_the_window_gives_the_same_occurrences(
    config: BackupConfiguration, window: tuple[datetime, datetime, float]
) -> None:
    start, end, fraction = window
    middle = start + (end - start) * fraction
    whole = occurrences(config, start, end)
    assert occurrences(config, start, middle) + occurrences(config, middle, end) == whole


@settings(max_examples=60, deadline=None)
@given(timed_configurations(), windows)
def test_first_occurrence_agrees_with_occurrences(
    config: BackupConfiguration, window: tuple[datetime, datetime, float]
) -> None:
    start, _, _ = window
    upcoming = occurrences(config, start, start + timedelta(days=62))
    assert first_occurrence_at_or_after(config, start) == (upcoming[0] if upcoming else None)
