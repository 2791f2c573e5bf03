"""The fake backup system's job calendar: jobs, the kinds of backup they take, and series.

A job is one (VM, policy code, type, subtype) of the schedule. A :class:`Series` computes
the occurrences of one configuration a chunk at a time and is shared by every job with
that configuration. Instants are integer microseconds since the clock's start (``US``).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta

from simulator.backend.schedule import occurrences, periods
from simulator.contract import BackupConfiguration, BackupType, Periodicity

__all__ = [
    "DAY_US",
    "HOUR_US",
    "MIN_PERIOD_US",
    "US",
    "BackupKind",
    "Due",
    "Job",
    "JobKey",
    "Series",
]

US = timedelta(microseconds=1)
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
#: How far ahead a job's next occurrence is looked for before the job counts as finished.
_HORIZON_US = 64 * DAY_US
#: How much of a schedule is computed at a time (and shared by jobs of one configuration).
_CHUNK_US = 8 * DAY_US
#: The shortest period of a configuration without time, by periodicity (see schedule.periods).
MIN_PERIOD_US: dict[Periodicity, int] = {
    Periodicity.HOURLY: HOUR_US,
    Periodicity.DAILY: DAY_US,
    Periodicity.WEEKLY_PLANNED: DAY_US,
    Periodicity.MONTHLY: 28 * DAY_US,
}


JobKey = tuple[str, str, BackupType, Periodicity]


@dataclass(frozen=True, slots=True)
class BackupKind:
    """What kind of backup: shared by every backup of one job shape (interned)."""

    policy_code: str | None
    type: BackupType
    subtype: Periodicity | None
    replication: bool
    sources: tuple[int, ...] | None  # disk sequences; None = every disk
    retention_us: int


class Job:
    """One job of the schedule. ``version`` invalidates heap entries when it changes."""

    __slots__ = (
        "configuration",
        "job_id",
        "key",
        "kind",
        "pending_occurrence",
        "placement_us",
        "replication",
        "series",
        "version",
        "vm_index",
    )

    def __init__(self, key: JobKey, job_id: str, vm_index: int) -> None:
        self.key = key
        self.job_id = job_id
        self.vm_index = vm_index
        self.version = 0
        self.configuration: BackupConfiguration
        self.replication = False
        self.kind = 0
        self.placement_us = 0
        self.series: Series
        self.pending_occurrence: int | None = None


#: A queued run of a job (instant, seq, job, job version, occurrence), or the end of a
#: restore (instant, seq, None, restore index, 0).
Due = tuple[int, int, "Job | None", int, int]


class Series:
    """The occurrences of one configuration, computed a chunk at a time.

    Shared by every job with that configuration, so 100,000 VMs on one DAILY policy cost
    one schedule computation per chunk, not one per backup. For a configuration without
    time the anchors are period starts (each job adds its own placement) and ``ends`` the
    period ends.
    """

    __slots__ = (
        "anchors",
        "config",
        "ends",
        "last_answer",
        "last_query",
        "origin",
        "start_us",
        "timeless",
        "until_us",
    )

    def __init__(self, config: BackupConfiguration, origin: datetime, first_query_us: int) -> None:
        self.config = config
        self.origin = origin
        self.timeless = config.time is None
        # A timeless period may have begun before the first query (MONTHLY: up to 31 days).
        self.start_us = first_query_us - (32 * DAY_US if self.timeless else 0)
        self.until_us = self.start_us
        self.anchors: list[int] = []
        self.ends: list[int] = []
        # The last query and its answer: the jobs of one configuration ask the same
        # question in a row, one after each backup of a shared occurrence.
        self.last_query: tuple[int, int] = (-1, -1)
        self.last_answer: int | None = None

    def _extend(self) -> None:
        a, b = self.until_us, self.until_us + _CHUNK_US
        start, end = self.origin + a * US, self.origin + b * US
        if self.timeless:
            for p_start, p_end in periods(self.config, start, end):
                s = (p_start - self.origin) // US
                if a <= s < b:
                    self.anchors.append(s)
                    self.ends.append((p_end - self.origin) // US)
        else:
            self.anchors.extend(
                (t - self.origin) // US for t in occurrences(self.config, start, end)
            )
        self.until_us = b

    def next_at_or_after(self, t_us: int, placement_us: int) -> int | None:
        """The first occurrence at or after ``t_us``, or ``None`` if none within the horizon."""
        if t_us < self.start_us:
            raise ValueError(f"query at {t_us} precedes the series start {self.start_us}")
        if not self.timeless:
            placement_us = 0
        query = (t_us, placement_us)
        if query == self.last_query:
            return self.last_answer
        answer = self._next(t_us, placement_us)
        self.last_query, self.last_answer = query, answer
        return answer

    def _next(self, t_us: int, placement_us: int) -> int | None:
        # Cover the query first: anchors older than t_us may start a period still open.
        while self.until_us <= t_us:
            self._extend()
        i = bisect_left(self.anchors, t_us - placement_us)
        while True:
            while i >= len(self.anchors):
                if self.until_us - t_us > _HORIZON_US:
                    return None
                self._extend()
            if not self.timeless:
                return self.anchors[i]
            occurrence = self.anchors[i] + placement_us
            if occurrence < self.ends[i]:
                return occurrence
            i += 1
