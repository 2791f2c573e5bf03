"""The fake backup system: the "vendor backend" a plugin talks to in a simulated world.

Two sides:

- :class:`BackupSystem` is the server. A simulated world owns one; it keeps the jobs,
  takes the backups, runs the restores and knows the ground truth the checkers judge
  plugins against.
- :class:`BackupSession` is the client side, what a plugin's connection holds. It is
  obtained with :func:`connect`, by endpoint and credentials, exactly as a real plugin
  reaches a real backend.

**Why a process-wide registry.** A real plugin finds its backend through the network,
from the endpoint in its ``ConnectionData``; it never gets a Python reference to it. The
module-level registry plays that network: :meth:`BackupSystem.register` makes a system
reachable at its endpoint and :func:`connect` looks it up. Every system gets an endpoint
unique within the process (``sim://backup-<n>``), so worlds that run side by side, or one
after another, never see each other's jobs even though their simulated clocks start at the
same instant. The endpoint is an address, not data: it depends on what else ran in the
process, so it must never reach a trace, which stays byte-identical between runs of the
same seed. That is why no error message of this module names it.

**Why no SimPy process.** A world may hold 100,000 VMs for 30 days. Jobs sit in one heap
keyed by the instant their next backup is created; every session call and every truth
query first *advances* the system to the current simulated instant, popping what became
due. A backup's state at any instant is derived from its creation and finish instants, so
it needs no event at all. Internally every instant is an integer number of microseconds
since the clock's start, which is exactly the resolution of the datetimes plugins see, so
inclusive windows compare exactly.

**Outages** (:meth:`BackupSystem.add_outage`): every session call raises
``BackupSystemError(kind="unavailable")``, except :meth:`BackupSession.close`, which always
succeeds so that an outage never leaks sessions. A scheduled occurrence that falls inside
an outage does not run: it is skipped and recorded in :attr:`BackupSystem.missed_occurrences`
with reason ``"outage"``.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Literal, NamedTuple, get_args

import simpy
from pydantic import BaseModel, ConfigDict, Field, field_validator

from simulator.backend.fleet import Fleet
from simulator.backend.schedule import (
    DEFAULT_TOLERANCE,
    occurrences,
    parse_defined_instant,
    periods,
)
from simulator.calendar_queue import CalendarQueue
from simulator.clock import SimClock
from simulator.contract import (
    DISK_SOURCE_TYPES,
    BackupConfiguration,
    BackupPolicy,
    BackupResult,
    BackupType,
    Periodicity,
    RestoreResult,
    ResultState,
    VirtualMachineInfo,
)

__all__ = [
    "BackupRecord",
    "BackupSession",
    "BackupSystem",
    "BackupSystemError",
    "BackupSystemSettings",
    "ErrorKind",
    "JobView",
    "MissedOccurrence",
    "RestoreRecord",
    "TruthBackup",
    "TruthRestore",
    "connect",
]

ErrorKind = Literal["unreachable", "auth", "unavailable", "not_found", "not_restorable", "invalid"]
_KINDS: frozenset[str] = frozenset(get_args(ErrorKind))

_US = timedelta(microseconds=1)
_IN_PROGRESS = ResultState.IN_PROGRESS
_DONE = ResultState.DONE
_FAILED = ResultState.FAILED
_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US
#: Width of the time buckets that index finish instants: near a check's window, so that
#: a check examines few finishes outside it.
_BUCKET_US = 60_000_000
#: How far ahead a job's next occurrence is looked for before the job counts as finished.
_HORIZON_US = 64 * _DAY_US
#: How much of a schedule is computed at a time (and shared by jobs of one configuration).
_CHUNK_US = 8 * _DAY_US
#: Fraction of the disks' capacity a backup of each type copies: (low, high).
_SIZE_FACTOR: dict[BackupType, tuple[float, float]] = {
    BackupType.COMPLETE: (0.3, 0.9),
    BackupType.SNAPSHOT: (0.02, 0.2),
    BackupType.FILESYSTEM: (0.1, 0.5),
}
#: The shortest period of a configuration without time, by periodicity (see schedule.periods).
_MIN_PERIOD_US: dict[Periodicity, int] = {
    Periodicity.HOURLY: _HOUR_US,
    Periodicity.DAILY: _DAY_US,
    Periodicity.WEEKLY_PLANNED: _DAY_US,
    Periodicity.MONTHLY: 28 * _DAY_US,
}
_BACKUP_PREFIX = "bk-"
_RESTORE_PREFIX = "rs-"
_ID_DIGITS = 8
_BACKUP_ID = f"{_BACKUP_PREFIX}%0{_ID_DIGITS}d"  # the same as _format_id(_BACKUP_PREFIX, b)
_new_tuple = tuple.__new__


_DEFINED_HOUR = Periodicity.DEFINED_HOUR


def _minute_of(instant_us: int) -> int:
    return instant_us // _BUCKET_US


_REGISTRY: dict[str, BackupSystem] = {}
_REGISTRY_LOCK = threading.Lock()
_ENDPOINT_NUMBERS = itertools.count(1)


# ------------------------------------------------------------------------ errors


class BackupSystemError(Exception):
    """An error the fake backup system answers with.

    ``kind`` is one of ``unreachable`` (no system at that endpoint), ``auth`` (wrong
    credentials), ``unavailable`` (an outage, or the system was shut down), ``not_found``
    (unknown VM or backup id), ``not_restorable`` (backup not done, or expired) and
    ``invalid`` (a malformed request, or a call on a closed session).
    """

    def __init__(self, kind: ErrorKind, message: str) -> None:
        if kind not in _KINDS:
            raise ValueError(
                f"unknown BackupSystemError kind {kind!r}; use one of {sorted(_KINDS)}"
            )
        super().__init__(f"{kind}: {message}")
        self.kind: ErrorKind = kind
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.kind, self.message))


# ---------------------------------------------------------------------- settings


class BackupSystemSettings(BaseModel):
    """How the fake backup system behaves. Every field has a realistic default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    throughput_bytes_per_s: float = Field(200e6, gt=0, description="Backup speed.")
    restore_throughput_bytes_per_s: float = Field(300e6, gt=0, description="Restore speed.")
    failure_probability: float = Field(
        0.02, ge=0, le=1, description="Chance that a backup, or a restore, ends FAILED."
    )
    default_retention_s: float = Field(
        7 * 86400, gt=0, description="Retention of on-demand backups and of unlisted policies."
    )
    retention_by_policy: Mapping[str, float] = Field(
        default_factory=dict, description="Retention in seconds by policy code."
    )
    start_delay_max_s: float = Field(
        300.0,
        ge=0,
        lt=DEFAULT_TOLERANCE.total_seconds(),
        description="A scheduled backup is created within [occurrence, occurrence + this].",
    )
    min_duration_s: float = Field(30.0, ge=0, description="Shortest backup or restore.")
    forget_expired_after_s: float | None = Field(
        None,
        gt=0,
        description=(
            "Purge a backup from memory this long after it expired, so that a long run's "
            "memory stays bounded. None keeps every backup, so that any id can be judged."
        ),
    )

    @field_validator("retention_by_policy")
    @classmethod
    def _positive_retention(cls, value: Mapping[str, float]) -> Mapping[str, float]:
        bad = {code: s for code, s in value.items() if not s > 0}
        if bad:
            raise ValueError(f"retention must be positive seconds, got {bad}")
        return dict(value)

    def retention_s(self, policy_code: str | None) -> float:
        """The retention of a policy's backups (on-demand ones: ``policy_code=None``)."""
        if policy_code is None:
            return self.default_retention_s
        return self.retention_by_policy.get(policy_code, self.default_retention_s)


# ----------------------------------------------------------------------- records


class RestoreRecord(NamedTuple):
    """A restore as a session reports it, a snapshot at the instant of the call.

    Records are named tuples: a check builds one per result in its window, and a tuple
    costs a third of a frozen dataclass.
    """

    provider_id: str
    backup_provider_id: str
    state: ResultState
    creation_date: datetime
    finish_date: datetime | None
    message: str | None


class BackupRecord(NamedTuple):
    """A backup as a session reports it, a snapshot at the instant of the call.

    ``finish_date`` and ``expiration_date`` are ``None`` while it is in progress.
    """

    provider_id: str
    vm_uuid: str
    name: str
    type: BackupType
    state: ResultState
    creation_date: datetime
    finish_date: datetime | None
    expiration_date: datetime | None
    size_bytes: int
    replication: bool
    on_demand: bool
    message: str | None
    restores: tuple[RestoreRecord, ...]


# A record carries its contract model's fields, in the same order: the reference plugin
# and the process-isolation server convert one into the other field by field.
if BackupRecord._fields != tuple(BackupResult.model_fields) or RestoreRecord._fields != tuple(
    RestoreResult.model_fields
):  # pragma: no cover - a broken edit of either side
    raise ImportError("the backend's records must have their contract models' fields, in order")


@dataclass(frozen=True, slots=True)
class JobView:
    """A job of the schedule, as :meth:`BackupSession.jobs` lists it."""

    vm_uuid: str
    policy_code: str
    configuration: BackupConfiguration
    replication: bool


@dataclass(frozen=True, slots=True)
class TruthBackup:
    """A backup the system really took, with what only the truth knows.

    ``planned_finish_date`` is known from creation on; ``state`` is as of the query.
    ``policy_code``, ``subtype`` and ``occurrence_date`` are ``None`` for on-demand backups.
    """

    provider_id: str
    vm_uuid: str
    policy_code: str | None
    type: BackupType
    subtype: Periodicity | None
    occurrence_date: datetime | None
    creation_date: datetime
    planned_finish_date: datetime
    expiration_date: datetime
    state: ResultState
    size_bytes: int
    replication: bool
    on_demand: bool
    disk_sequences: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TruthRestore:
    """A restore the system ran.

    ``verified`` is ``None`` until the restore finishes, and for a restore that FAILED
    (the simulated failure is the backup system's, not the plugin's, and touches no disk).
    For a DONE restore it says whether every disk the backup holds had, at the instant the
    restore finished, exactly the content captured when the backup was created.
    """

    provider_id: str
    backup_provider_id: str
    vm_uuid: str
    state: ResultState
    creation_date: datetime
    planned_finish_date: datetime
    verified: bool | None


@dataclass(frozen=True, slots=True)
class MissedOccurrence:
    """A scheduled occurrence that produced no backup, and why.

    ``outage``: it fell inside an outage. ``cancelled``: it was due (and waiting for its
    start delay) when its job was deleted or replaced.
    """

    vm_uuid: str
    policy_code: str
    type: BackupType
    subtype: Periodicity
    occurrence_date: datetime
    reason: Literal["outage", "cancelled"]


# ---------------------------------------------------------------------- internals

JobKey = tuple[str, str, BackupType, Periodicity]


@dataclass(frozen=True, slots=True)
class _Kind:
    """What kind of backup: shared by every backup of one job shape (interned)."""

    policy_code: str | None
    type: BackupType
    subtype: Periodicity | None
    replication: bool
    sources: tuple[int, ...] | None  # disk sequences; None = every disk
    retention_us: int


@dataclass(frozen=True, slots=True)
class _VmLabel:
    uuid: str
    name: str
    disk_sizes: tuple[int, ...]
    capacity: int


class _Job:
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
        self.series: _Series
        self.pending_occurrence: int | None = None


#: A queued run of a job (instant, seq, job, job version, occurrence), or the end of a
#: restore (instant, seq, None, restore index, 0).
_Due = tuple[int, int, "_Job | None", int, int]


class _Series:
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
        self.start_us = first_query_us - (32 * _DAY_US if self.timeless else 0)
        self.until_us = self.start_us
        self.anchors: list[int] = []
        self.ends: list[int] = []
        # The last query and its answer: the jobs of one configuration ask the same
        # question in a row, one after each backup of a shared occurrence.
        self.last_query: tuple[int, int] = (-1, -1)
        self.last_answer: int | None = None

    def _extend(self) -> None:
        a, b = self.until_us, self.until_us + _CHUNK_US
        start, end = self.origin + a * _US, self.origin + b * _US
        if self.timeless:
            for p_start, p_end in periods(self.config, start, end):
                s = (p_start - self.origin) // _US
                if a <= s < b:
                    self.anchors.append(s)
                    self.ends.append((p_end - self.origin) // _US)
        else:
            self.anchors.extend(
                (t - self.origin) // _US for t in occurrences(self.config, start, end)
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


def _format_id(prefix: str, index: int) -> str:
    return f"{prefix}{index + 1:0{_ID_DIGITS}d}"


def _parse_id(prefix: str, value: object, count: int) -> int | None:
    """The index behind a canonical id such as ``bk-00000001``, or ``None``."""
    if not isinstance(value, str) or not value.startswith(prefix):
        return None
    digits = value[len(prefix) :]
    if not digits.isdigit() or not digits.isascii():
        return None
    # Canonical as _format_id writes it: zero-padded to _ID_DIGITS, no other leading zero.
    if len(digits) != _ID_DIGITS and (len(digits) < _ID_DIGITS or digits[0] == "0"):
        return None
    index = int(digits) - 1
    if not 0 <= index < count:
        return None
    return index


# ------------------------------------------------------------------------ system


class BackupSystem:
    """The server side of the fake backup system (see the module docstring).

    ``rng`` is consumed once, to seed the system's private generator: the system's draws
    (start delays, sizes, failures) then do not depend on what else in the world uses
    ``rng``, only on the order of calls the system receives.
    """

    def __init__(
        self,
        env: simpy.Environment,
        rng: random.Random,
        clock: SimClock,
        fleet: Fleet,
        settings: BackupSystemSettings | None = None,
        *,
        user: str = "admin",
        password: str = "secret",
        endpoint: str | None = None,
    ) -> None:
        if clock.env is not env:
            raise ValueError("clock must run on the same simpy.Environment as the backup system")
        self.env = env
        self.clock = clock
        self.fleet = fleet
        self.settings = settings if settings is not None else BackupSystemSettings()
        self.user = user
        self._password = password
        self.endpoint = (
            endpoint if endpoint is not None else f"sim://backup-{next(_ENDPOINT_NUMBERS)}"
        )
        self._rng = random.Random(rng.getrandbits(64))
        self._placement_key = rng.getrandbits(64).to_bytes(8, "big")

        self._outages: list[tuple[int, int]] = []
        self._sessions: dict[str, int] = {}
        self._session_numbers = itertools.count(1)
        self.sessions_opened_total = 0

        self._jobs: dict[JobKey, _Job] = {}
        self._vm_jobs: dict[str, dict[JobKey, _Job]] = {}
        self._job_numbers = itertools.count(1)
        self._series: dict[BackupConfiguration, _Series] = {}
        # What is due, in (instant, seq) order. A calendar queue: one heap of every job
        # (100,000 at load-m) cost a cache miss per comparison.
        self._due: CalendarQueue[_Due] = CalendarQueue(_minute_of)
        self._seq = itertools.count()
        self._missed: list[MissedOccurrence] = []

        self._kinds: list[_Kind] = []
        # Per kind: the end of its backups' names (computed once, not per record).
        self._kind_suffix: list[str] = []
        # Per kind: (low, high - low) of the fraction of the disks a backup copies.
        self._kind_size: list[tuple[float, float]] = []
        # Per kind: its retention as a timedelta, added to a finish date per record.
        self._kind_retention: list[timedelta] = []
        self._kind_index: dict[_Kind, int] = {}
        # Backups, one column per field: a million of them must stay cheap.
        # Backup b lives at column index b - _base: backups purged by _forget_expired
        # are a prefix (backups are created in time order).
        self._base = 0
        self._next_forget_us = _DAY_US
        self._b_vm = array("I")
        self._b_kind = array("I")
        self._b_delay = array("I")  # creation - occurrence, below 900 s
        self._b_creation = array("q")  # non-decreasing: backups are created in time order
        self._b_finish = array("q")
        self._b_size = array("q")
        self._b_failed = bytearray()
        self._b_restores: dict[int, list[int]] = {}
        self._finish_buckets: dict[int, array[int]] = {}
        # By VM index, compact: until when it is being backed up (-1: never was).
        self._vm_busy_until = array("q", [-1]) * fleet.size
        # By VM index: a list of the fleet's size is smaller and faster than a dict.
        self._vm_labels: list[_VmLabel | None] = [None] * fleet.size
        self._vm_indexes: dict[str, int] = {}
        # Restores, likewise.
        self._r_backup = array("I")
        self._r_vm = array("I")
        # Backups with a restore still running, and how many: never purged.
        self._restoring: dict[int, int] = {}
        self._r_creation = array("q")  # non-decreasing
        self._r_finish = array("q")
        self._r_failed = bytearray()
        self._r_verified = bytearray()  # 0 pending, 1 no, 2 yes, 3 failed
        self._r_finish_buckets: dict[int, array[int]] = {}
        self._vm_restore_until: dict[int, int] = {}

        #: Records looked at by session queries, to show that a window costs O(results).
        self.records_examined = 0
        # The settings are frozen: the hot paths read these plain attributes.
        self._start = clock.start
        self._max_delay_us = int(self.settings.start_delay_max_s * 1e6)
        self._min_duration_us = int(self.settings.min_duration_s * 1e6)
        self._throughput = self.settings.throughput_bytes_per_s
        self._failure_probability = self.settings.failure_probability

    def __repr__(self) -> str:
        return f"BackupSystem(endpoint={self.endpoint!r}, user={self.user!r})"

    # ------------------------------------------------------------- registry

    def register(self) -> BackupSystem:
        """Make the system reachable at :attr:`endpoint` (``ValueError`` if taken)."""
        with _REGISTRY_LOCK:
            other = _REGISTRY.get(self.endpoint)
            if other is not None and other is not self:
                raise ValueError(
                    f"endpoint {self.endpoint!r} already belongs to another backup system; "
                    "leave endpoint=None to get a unique one"
                )
            _REGISTRY[self.endpoint] = self
        return self

    def unregister(self) -> None:
        """Make the system unreachable (idempotent). Open sessions then fail as unavailable."""
        with _REGISTRY_LOCK:
            if _REGISTRY.get(self.endpoint) is self:
                del _REGISTRY[self.endpoint]

    @property
    def registered(self) -> bool:
        """Whether :func:`connect` reaches this system now."""
        with _REGISTRY_LOCK:
            return _REGISTRY.get(self.endpoint) is self

    def __enter__(self) -> BackupSystem:
        return self.register()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.unregister()

    # --------------------------------------------------------------- time

    def _now_us(self) -> int:
        return (self.clock.now() - self.clock.start) // _US

    def _dt(self, us: int) -> datetime:
        return self.clock.start + us * _US

    def _to_us(self, name: str, instant: datetime) -> int:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise BackupSystemError(
                "invalid", f"{name} must be timezone-aware, got naive {instant.isoformat()}"
            )
        return (instant - self.clock.start) // _US

    # ------------------------------------------------------------ outages

    def add_outage(self, start_s: float, end_s: float) -> None:
        """Make the system unavailable during [start_s, end_s) of simulated time."""
        if not end_s > start_s:
            raise ValueError(f"an outage must end after it starts, got [{start_s}, {end_s})")
        self._outages.append((round(start_s * 1e6), round(end_s * 1e6)))
        self._outages.sort()

    def _in_outage_us(self, t_us: int) -> bool:
        if not self._outages:  # the usual case, asked for every backup
            return False
        return any(a <= t_us < b for a, b in self._outages)

    def in_outage(self, at_s: float | None = None) -> bool:
        """Whether the system is in an outage at ``at_s`` (default: now)."""
        t = self._now_us() if at_s is None else round(at_s * 1e6)
        return self._in_outage_us(t)

    # ----------------------------------------------------------- sessions

    def _open_session(self, user: str | None, password: str | None) -> BackupSession:
        if self._in_outage_us(self._now_us()):
            raise BackupSystemError("unavailable", "the backup system is in an outage; retry later")
        if user != self.user or password != self._password:
            raise BackupSystemError(
                "auth", f"the backup system refused the credentials of user {user!r}"
            )
        session_id = f"s-{next(self._session_numbers):06d}"
        self._sessions[session_id] = self._now_us()
        self.sessions_opened_total += 1
        return BackupSession(self, session_id)

    def _close_session(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def open_sessions(self) -> list[tuple[str, float]]:
        """The sessions open now, as (session id, opened at in simulated seconds), by id."""
        return [(sid, us / 1e6) for sid, us in sorted(self._sessions.items())]

    def _enter(self, session: BackupSession) -> int:
        """Gate every session call: closed session, unreachable system, outage. Then advance."""
        if session.session_id not in self._sessions:
            raise BackupSystemError(
                "invalid", f"session {session.session_id} is closed; open a new one with connect()"
            )
        if not self.registered:
            raise BackupSystemError("unavailable", "the backup system has been shut down")
        now = self._now_us()
        if self._in_outage_us(now):
            raise BackupSystemError("unavailable", "the backup system is in an outage; retry later")
        self._advance(now)
        return now

    # ---------------------------------------------------------- advancing

    def _advance(self, now: int) -> None:
        """Materialise everything due at or before ``now``, in time order."""
        pop_due = self._due.pop_due
        outages = self._outages
        while (entry := pop_due(now)) is not None:
            at, _, job, a, b = entry
            if job is None:
                self._finish_restore(a)
                continue
            if job.version != a:
                continue  # deleted or replaced since it was queued
            occurrence = b
            job.pending_occurrence = None
            if outages and self._in_outage_us(occurrence):
                self._record_missed(job, occurrence, "outage")
            else:
                self._create_backup(job.vm_index, job.kind, occurrence, at)
            self._schedule_next(job, occurrence + 1)
        if now >= self._next_forget_us and self.settings.forget_expired_after_s is not None:
            self._next_forget_us = now + _DAY_US  # a purge a day keeps its cost negligible
            self._forget_expired(now - round(self.settings.forget_expired_after_s * 1e6))

    def _record_missed(
        self, job: _Job, occurrence: int, reason: Literal["outage", "cancelled"]
    ) -> None:
        vm_uuid, code, btype, subtype = job.key
        self._missed.append(
            MissedOccurrence(vm_uuid, code, btype, subtype, self._dt(occurrence), reason)
        )

    def _schedule_next(self, job: _Job, from_us: int) -> None:
        config = job.configuration
        occurrence: int | None
        if config.subtype is _DEFINED_HOUR:
            if config.time is None:
                occurrence = None  # no period to place it in: the system never runs it
            else:
                instant = (parse_defined_instant(config.time) - self.clock.start) // _US
                occurrence = instant if instant >= from_us else None
        else:
            series = job.series
            if from_us < series.start_us:  # older than the shared cache: compute afresh
                series = _Series(config, self.clock.start, from_us)
            occurrence = series.next_at_or_after(from_us, job.placement_us)
        job.pending_occurrence = occurrence
        if occurrence is None:
            return
        max_delay = self._max_delay_us
        delay = min(max_delay, int(self._rng.random() * (max_delay + 1)))
        self._due.push((occurrence + delay, next(self._seq), job, job.version, occurrence))

    def _kind_of(self, kind: _Kind) -> int:
        index = self._kind_index.get(kind)
        if index is None:
            index = self._kind_index[kind] = len(self._kinds)
            self._kinds.append(kind)
            if kind.policy_code is None:
                suffix = "on-demand"
            else:
                subtype = kind.subtype.value.lower() if kind.subtype else "none"
                suffix = f"{kind.policy_code}-{kind.type.value.lower()}-{subtype}"
            self._kind_suffix.append(suffix)
            low, high = _SIZE_FACTOR[kind.type]
            self._kind_size.append((low, high - low))
            self._kind_retention.append(kind.retention_us * _US)
        return index

    def _disk_sequences(self, vm_index: int, kind: _Kind) -> tuple[int, ...]:
        if kind.sources is not None:
            return kind.sources
        return tuple(range(len(self._vm(vm_index).disk_sizes)))

    def _create_backup(self, vm_index: int, kind_index: int, occurrence: int, at: int) -> int:
        # Runs for every backup: attribute lookups hoisted, and the size drawn as
        # random.uniform draws it (the same bits, without the call).
        sources = self._kinds[kind_index].sources
        label = self._vm_labels[vm_index] or self._vm(vm_index)
        if sources is None:
            capacity = label.capacity
        else:
            capacity = sum(label.disk_sizes[s] for s in sources)
        low, span = self._kind_size[kind_index]
        rnd = self._rng.random
        size = int(capacity * (low + span * rnd()))
        failed = rnd() < self._failure_probability
        duration = int(size / self._throughput * 1e6)
        if duration < self._min_duration_us:
            duration = self._min_duration_us
        finish = at + duration
        creation = self._b_creation
        index = self._base + len(creation)
        if creation and at < creation[-1]:
            raise AssertionError("backups must be created in time order")  # a harness bug
        self._b_vm.append(vm_index)
        self._b_kind.append(kind_index)
        self._b_delay.append(at - occurrence)
        creation.append(at)
        self._b_finish.append(finish)
        self._b_size.append(0 if failed else size)
        self._b_failed.append(failed)
        bucket = self._finish_buckets.get(finish // _BUCKET_US)
        if bucket is None:
            bucket = self._finish_buckets[finish // _BUCKET_US] = array("I")
        bucket.append(index)
        busy = self._vm_busy_until
        if busy[vm_index] < finish:
            busy[vm_index] = finish
        return index

    def _finish_restore(self, r: int) -> None:
        """Apply a finished restore to the VM's disks, then check them against the backup."""
        b = self._r_backup[r]
        if self._restoring[b] > 1:
            self._restoring[b] -= 1
        else:
            del self._restoring[b]
        j = b - self._base  # a backup with a restore running is never purged
        vm = self._b_vm[j]
        taken_s = self._b_creation[j] / 1e6
        finish_s = self._r_finish[r] / 1e6
        sequences = self._disk_sequences(vm, self._kinds[self._b_kind[j]])
        wanted = {seq: self.fleet.disk_content(vm, seq, taken_s) for seq in sequences}
        if self._r_failed[r]:
            self._r_verified[r] = 3
            return
        for seq, token in wanted.items():
            self.fleet.restore_disk(vm, seq, token, finish_s)
        ok = all(self.fleet.disk_content(vm, seq, finish_s) == t for seq, t in wanted.items())
        self._r_verified[r] = 2 if ok else 1

    # ------------------------------------------------------------ helpers

    def _vm(self, vm_index: int) -> _VmLabel:
        """What the system remembers of a VM it backs up (the fleet derives it by hashing)."""
        label = self._vm_labels[vm_index]
        if label is None:
            fleet = self.fleet
            sizes = fleet.disk_sizes(vm_index)
            label = _VmLabel(fleet.uuid(vm_index), fleet.name(vm_index), sizes, sum(sizes))
            self._vm_labels[vm_index] = label
        return label

    def _vm_index(self, vm_uuid: str) -> int:
        index = self._vm_indexes.get(vm_uuid)
        if index is None:
            try:
                index = self._vm_indexes[vm_uuid] = self.fleet.index_of(vm_uuid)
            except KeyError:
                raise BackupSystemError(
                    "not_found", f"VM {vm_uuid!r} is not known to the hypervisor fleet"
                ) from None
        return index

    def _expiration(self, b: int) -> int:
        j = b - self._base
        return self._b_finish[j] + self._kinds[self._b_kind[j]].retention_us

    def _backup_state(self, b: int, now: int) -> ResultState:
        j = b - self._base
        if self._b_finish[j] > now:
            return ResultState.IN_PROGRESS
        return ResultState.FAILED if self._b_failed[j] else ResultState.DONE

    def _restore_state(self, r: int, now: int) -> ResultState:
        if self._r_finish[r] > now:
            return ResultState.IN_PROGRESS
        return ResultState.FAILED if self._r_failed[r] else ResultState.DONE

    def _restore_record(self, r: int, now: int) -> RestoreRecord:
        state = self._restore_state(r, now)
        return RestoreRecord(
            provider_id=_format_id(_RESTORE_PREFIX, r),
            backup_provider_id=_format_id(_BACKUP_PREFIX, self._r_backup[r]),
            state=state,
            creation_date=self._dt(self._r_creation[r]),
            finish_date=None if state is ResultState.IN_PROGRESS else self._dt(self._r_finish[r]),
            message="simulated restore failure" if state is ResultState.FAILED else None,
        )

    def _backup_record(self, b: int, now: int) -> BackupRecord:
        return self._backup_records((b,), now)[0]

    def _backup_records(self, indexes: Iterable[int], now: int) -> list[BackupRecord]:
        """The records of backups ``indexes`` as of ``now``, in that order.

        Every check builds one per result in its window, so the loop reads the columns
        through locals, builds the tuple positionally and caches the name's tail per kind.
        """
        base = self._base
        kinds = self._kinds
        kind_suffix = self._kind_suffix
        kind_retention = self._kind_retention
        b_kind, b_vm, b_creation = self._b_kind, self._b_vm, self._b_creation
        b_finish, b_failed, b_size = self._b_finish, self._b_failed, self._b_size
        b_restores = self._b_restores
        labels = self._vm_labels
        start = self._start
        out: list[BackupRecord] = []
        append = out.append
        for b in indexes:
            j = b - base
            k = b_kind[j]
            kind = kinds[k]
            vm_index = b_vm[j]
            label = labels[vm_index] or self._vm(vm_index)
            finish = b_finish[j]
            restores = b_restores.get(b)
            if finish > now:
                state, finish_date, expiration_date, size = _IN_PROGRESS, None, None, 0
                message = None
            else:
                failed = b_failed[j]
                state = _FAILED if failed else _DONE
                finish_date = start + finish * _US
                expiration_date = finish_date + kind_retention[k]
                size = b_size[j]
                message = "simulated backup failure" if failed else None
            # tuple.__new__ skips the named tuple's Python-level __new__ (a third of the cost).
            append(
                _new_tuple(
                    BackupRecord,
                    (
                        _BACKUP_ID % (b + 1),
                        label.uuid,
                        f"{label.name}-{kind_suffix[k]}",
                        kind.type,
                        state,
                        start + b_creation[j] * _US,
                        finish_date,
                        expiration_date,
                        size,
                        kind.replication,
                        kind.policy_code is None,
                        message,
                        ()
                        if restores is None
                        else tuple(self._restore_record(r, now) for r in restores),
                    ),
                )
            )
        return out

    # -------------------------------------------------- operations (server side)

    def _put_job(
        self, vm: VirtualMachineInfo, policy: BackupPolicy, config: BackupConfiguration
    ) -> str:
        now = self._now_us()
        vm_index = self._vm_index(vm.uuid)
        sources: tuple[int, ...] | None = None
        if config.type in DISK_SOURCE_TYPES and config.sources:
            count = len(self._vm(vm_index).disk_sizes)
            sources = tuple(sorted(int(s) for s in config.sources))
            bad = [s for s in sources if s >= count]
            if bad:
                raise BackupSystemError(
                    "invalid",
                    f"configuration {config.type.value}/{config.subtype.value} of policy "
                    f"{policy.code!r} backs up disks {bad}, but VM {vm.uuid} has disks "
                    f"0 .. {count - 1}",
                )
        key: JobKey = (vm.uuid, policy.code, config.type, config.subtype)
        job = self._jobs.get(key)
        if job is not None:
            if job.configuration == config and job.replication == policy.replication:
                return job.job_id  # the same job again: nothing changes
            self._cancel_pending(job, now)
            job.version += 1
        else:
            job = _Job(key, f"job-{next(self._job_numbers):06d}", vm_index)
            self._jobs[key] = job
            self._vm_jobs.setdefault(vm.uuid, {})[key] = job
        job.configuration = config
        job.replication = policy.replication
        job.kind = self._kind_of(
            _Kind(
                policy.code,
                config.type,
                config.subtype,
                policy.replication,
                sources,
                round(self.settings.retention_s(policy.code) * 1e6),
            )
        )
        job.placement_us = self._placement(key, config)
        series = self._series.get(config)
        if series is None:
            series = self._series[config] = _Series(config, self.clock.start, now)
        job.series = series
        self._schedule_next(job, now)
        return job.job_id

    def _placement(self, key: JobKey, config: BackupConfiguration) -> int:
        """Where, in each period, a job without time runs: stable per job and seed."""
        subtype = key[3]
        if config.time is not None or subtype not in _MIN_PERIOD_US:
            return 0
        data = "\x1f".join((key[0], key[1], key[2].value, subtype.value)).encode()
        h = hashlib.blake2b(data, key=self._placement_key, digest_size=8).digest()
        return int.from_bytes(h, "big") * _MIN_PERIOD_US[subtype] >> 64

    def _cancel_pending(self, job: _Job, now: int) -> None:
        if job.pending_occurrence is not None and job.pending_occurrence <= now:
            self._record_missed(job, job.pending_occurrence, "cancelled")
        job.pending_occurrence = None

    def _delete_job(self, key: JobKey) -> bool:
        job = self._jobs.pop(key, None)
        if job is None:
            return False
        self._cancel_pending(job, self._now_us())
        job.version += 1  # its queued run, if any, is void
        jobs = self._vm_jobs[key[0]]
        del jobs[key]
        if not jobs:
            del self._vm_jobs[key[0]]
        return True

    def _start_backup(self, vm: VirtualMachineInfo, replication: bool, now: int) -> BackupRecord:
        vm_index = self._vm_index(vm.uuid)
        kind = self._kind_of(
            _Kind(
                None,
                BackupType.COMPLETE,
                None,
                replication,
                None,
                round(self.settings.default_retention_s * 1e6),
            )
        )
        b = self._create_backup(vm_index, kind, now, now)
        return self._backup_record(b, now)

    def _start_restore(self, vm_uuid: str, backup_id: str, now: int) -> RestoreRecord:
        b = _parse_id(_BACKUP_PREFIX, backup_id, self._count)
        if b is not None and b < self._base:
            raise BackupSystemError(
                "not_restorable", f"backup {backup_id} expired and was purged from the catalogue"
            )
        if b is None:
            what = (
                "a restore id"
                if _parse_id(_RESTORE_PREFIX, backup_id, len(self._r_backup)) is not None
                else "unknown"
            )
            raise BackupSystemError(
                "not_found", f"backup {backup_id!r} is {what}: no backup has that id"
            )
        vm_index = self._b_vm[b - self._base]
        owner = self._vm(vm_index).uuid
        if owner != vm_uuid:
            raise BackupSystemError(
                "not_found", f"backup {backup_id} belongs to VM {owner}, not to VM {vm_uuid}"
            )
        state = self._backup_state(b, now)
        if state is not ResultState.DONE:
            raise BackupSystemError(
                "not_restorable",
                f"backup {backup_id} is {state.value}; only a DONE backup restores",
            )
        if now >= self._expiration(b):
            raise BackupSystemError(
                "not_restorable",
                f"backup {backup_id} expired at {self._dt(self._expiration(b)).isoformat()}",
            )
        failed = self._rng.random() < self.settings.failure_probability
        duration = max(
            self._min_duration_us,
            int(self._b_size[b - self._base] / self.settings.restore_throughput_bytes_per_s * 1e6),
        )
        r = len(self._r_backup)
        self._r_backup.append(b)
        self._r_vm.append(vm_index)
        self._restoring[b] = self._restoring.get(b, 0) + 1
        self._r_creation.append(now)
        self._r_finish.append(now + duration)
        self._r_failed.append(failed)
        self._r_verified.append(0)
        self._b_restores.setdefault(b, []).append(r)
        self._r_finish_buckets.setdefault((now + duration) // _BUCKET_US, array("I")).append(r)
        self._vm_restore_until[vm_index] = max(
            self._vm_restore_until.get(vm_index, -1), now + duration
        )
        self._due.push((now + duration, next(self._seq), None, r, 0))
        return self._restore_record(r, now)

    def _changed_since(self, since: datetime | None, now: int) -> list[BackupRecord]:
        base, count = self._base, self._count
        if since is None:
            self.records_examined += count - base
            live = [b for b in range(base, count) if self._expiration(b) > now]
            return self._backup_records(live, now)
        s = self._to_us("since", since)
        # Created in the window: a contiguous range. Only backups created before it can
        # be added by a finish or a restore in the window: a small set, sorted apart.
        first = base + bisect_left(self._b_creation, s)
        earlier: set[int] = set()
        examined = count - first
        finish = self._b_finish
        first_bucket = max(0, s // _BUCKET_US)
        for bucket in range(first_bucket, now // _BUCKET_US + 1):
            ids = self._finish_buckets.get(bucket)
            if ids is None:
                continue
            examined += len(ids)
            for b in ids:
                if base <= b < first and s <= finish[b - base] <= now:
                    earlier.add(b)
        for r in range(bisect_left(self._r_creation, s), len(self._r_backup)):
            examined += 1
            if base <= self._r_backup[r] < first:
                earlier.add(self._r_backup[r])
        for bucket in range(first_bucket, now // _BUCKET_US + 1):
            for r in self._r_finish_buckets.get(bucket, ()):
                examined += 1
                if s <= self._r_finish[r] <= now and base <= self._r_backup[r] < first:
                    earlier.add(self._r_backup[r])
        self.records_examined += examined
        return self._backup_records(itertools.chain(sorted(earlier), range(first, count)), now)

    def _lookup(self, provider_id: str) -> int | None:
        """The backup index behind a backup id, or behind a restore id's parent.

        ``None`` for an unknown id, and for a backup purged after it expired.
        """
        b = _parse_id(_BACKUP_PREFIX, provider_id, self._count)
        if b is None:
            r = _parse_id(_RESTORE_PREFIX, provider_id, len(self._r_backup))
            b = None if r is None else self._r_backup[r]
        return None if b is None or b < self._base else b

    def _get(self, ids: Iterable[str], now: int) -> dict[str, BackupRecord]:
        out: dict[str, BackupRecord] = {}
        for provider_id in ids:
            if provider_id in out:
                continue
            self.records_examined += 1
            b = self._lookup(provider_id)
            if b is not None:
                out[provider_id] = self._backup_record(b, now)
        return out

    def _expired(self, ids: Iterable[str], now: int) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        count, base = self._count, self._base
        expiration = self._expiration
        examined = 0
        for provider_id in ids:
            if provider_id in seen:
                continue
            seen.add(provider_id)
            examined += 1
            b = _parse_id(_BACKUP_PREFIX, provider_id, count)
            # A purged backup (b < base) had expired.
            if b is not None and (b < base or expiration(b) <= now):
                out.append(provider_id)
        self.records_examined += examined
        return out

    # --------------------------------------------------------------- truth

    @property
    def backups_taken(self) -> int:
        """How many backups the system has created so far (scheduled and on demand)."""
        self._advance(self._now_us())
        return self._count

    @property
    def _count(self) -> int:
        """How many backups were ever created: purged ones included."""
        return self._base + len(self._b_creation)

    @property
    def backups_purged(self) -> int:
        """How many expired backups were purged (``forget_expired_after_s``)."""
        return self._base

    def _forget_expired(self, horizon: int) -> None:
        """Purge the backups that expired before ``horizon``: the longest such prefix.

        Backups are created in time order, so the purged ones are a prefix of the
        columns; the prefix stops at the first backup still kept (a longer retention, or
        a restore running), which bounds memory by the backups of the longest retention
        plus ``forget_expired_after_s`` and the day between purges.
        """
        finish, kinds, kind_of = self._b_finish, self._kinds, self._b_kind
        n = len(finish)
        j = 0
        base, restoring = self._base, self._restoring
        while (
            j < n
            and finish[j] + kinds[kind_of[j]].retention_us <= horizon
            and base + j not in restoring
        ):
            j += 1
        if j == 0:
            return
        for column in (
            self._b_vm,
            self._b_kind,
            self._b_delay,
            self._b_creation,
            self._b_finish,
            self._b_size,
        ):
            del column[:j]
        del self._b_failed[:j]
        self._base += j
        base = self._base
        for key in [k for k, ids in self._finish_buckets.items() if ids[-1] < base]:
            del self._finish_buckets[key]
        for b in [b for b in self._b_restores if b < base]:
            del self._b_restores[b]

    @property
    def restores_started(self) -> int:
        """How many restores the system has started so far."""
        return len(self._r_backup)

    @property
    def job_count(self) -> int:
        """How many jobs the schedule holds now."""
        return len(self._jobs)

    @property
    def missed_occurrences(self) -> list[MissedOccurrence]:
        """Scheduled occurrences that produced no backup, in the order they were missed."""
        self._advance(self._now_us())
        return list(self._missed)

    def _truth_backup(self, b: int, now: int) -> TruthBackup:
        j = b - self._base
        kind = self._kinds[self._b_kind[j]]
        on_demand = kind.policy_code is None
        creation = self._b_creation[j]
        return TruthBackup(
            provider_id=_format_id(_BACKUP_PREFIX, b),
            vm_uuid=self._vm(self._b_vm[j]).uuid,
            policy_code=kind.policy_code,
            type=kind.type,
            subtype=kind.subtype,
            occurrence_date=None if on_demand else self._dt(creation - self._b_delay[j]),
            creation_date=self._dt(creation),
            planned_finish_date=self._dt(self._b_finish[j]),
            expiration_date=self._dt(self._expiration(b)),
            state=self._backup_state(b, now),
            size_bytes=self._b_size[j],
            replication=kind.replication,
            on_demand=on_demand,
            disk_sequences=self._disk_sequences(self._b_vm[j], kind),
        )

    def truth_backups(self, created_from: datetime | None = None) -> Iterator[TruthBackup]:
        """Every backup really taken (created at or after ``created_from``), in creation order.

        States are as of the call; the system advances to now before the first one.
        Purged backups (``forget_expired_after_s``) are left out.
        """
        now = self._now_us()
        self._advance(now)
        first = (
            0
            if created_from is None
            else bisect_left(self._b_creation, self._to_us("created_from", created_from))
        )
        base, count = self._base, self._count
        return (self._truth_backup(b, now) for b in range(base + first, count))

    def truth_backup(self, provider_id: str) -> TruthBackup | None:
        """The truth about one backup id, or ``None`` if the system never took it (or purged it)."""
        now = self._now_us()
        self._advance(now)
        b = _parse_id(_BACKUP_PREFIX, provider_id, self._count)
        return None if b is None or b < self._base else self._truth_backup(b, now)

    def backup_disk_tokens(self, provider_id: str) -> dict[int, str]:
        """The disk content a backup captured, by disk sequence (``KeyError`` if unknown)."""
        self._advance(self._now_us())
        b = _parse_id(_BACKUP_PREFIX, provider_id, self._count)
        if b is None or b < self._base:
            raise KeyError(f"no backup has the id {provider_id!r} (or it was purged)")
        j = b - self._base
        vm = self._b_vm[j]
        taken_s = self._b_creation[j] / 1e6
        sequences = self._disk_sequences(vm, self._kinds[self._b_kind[j]])
        return {seq: self.fleet.disk_content(vm, seq, taken_s) for seq in sequences}

    def truth_restores(self) -> Iterator[TruthRestore]:
        """Every restore the system ran, in creation order, with its verification."""
        now = self._now_us()
        self._advance(now)
        count = len(self._r_backup)
        return (self._truth_restore(r, now) for r in range(count))

    def _truth_restore(self, r: int, now: int) -> TruthRestore:
        b = self._r_backup[r]
        verified = self._r_verified[r]
        return TruthRestore(
            provider_id=_format_id(_RESTORE_PREFIX, r),
            backup_provider_id=_format_id(_BACKUP_PREFIX, b),
            vm_uuid=self._vm(self._r_vm[r]).uuid,
            state=self._restore_state(r, now),
            creation_date=self._dt(self._r_creation[r]),
            planned_finish_date=self._dt(self._r_finish[r]),
            verified=None if verified in (0, 3) else verified == 2,
        )

    def vm_backup_in_progress(self, vm_uuid: str) -> bool:
        """Whether the system is backing up that VM now (the platform keeps it locked)."""
        now = self._now_us()
        self._advance(now)
        i = self._vm_indexes.get(vm_uuid)  # a VM the system never saw has no backup
        return i is not None and self._vm_busy_until[i] > now

    def vm_restore_in_progress(self, vm_uuid: str) -> bool:
        """Whether the system is restoring that VM now."""
        now = self._now_us()
        self._advance(now)
        i = self._vm_indexes.get(vm_uuid)  # a VM the system never saw has no backup
        return i is not None and self._vm_restore_until.get(i, -1) > now


# ----------------------------------------------------------------------- client


class BackupSession:
    """A client session with a :class:`BackupSystem`, obtained with :func:`connect`.

    Every call but :meth:`close` raises :class:`BackupSystemError` with kind
    ``unavailable`` during an outage and ``invalid`` once the session is closed.
    Snapshots it returns are taken at the current simulated instant.
    """

    def __init__(self, system: BackupSystem, session_id: str) -> None:
        self._system = system
        self.session_id = session_id

    def __repr__(self) -> str:
        return f"BackupSession({self.session_id!r})"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self.session_id not in self._system._sessions

    def close(self) -> None:
        """End the session. Always succeeds, also during an outage, and is idempotent."""
        self._system._close_session(self.session_id)

    def put_job(
        self, vm: VirtualMachineInfo, policy: BackupPolicy, configuration: BackupConfiguration
    ) -> str:
        """Create or replace the job (vm, policy code, type, subtype); return its job id.

        Putting the same job again changes nothing. Putting a changed one (configuration
        or replication) replaces its timing from now on; a run of it that was due but not
        yet started is cancelled. Raises ``not_found`` for a VM the fleet does not know and
        ``invalid`` for sources naming disks the VM lacks.
        """
        self._system._enter(self)
        return self._system._put_job(vm, policy, configuration)

    def delete_job(
        self, vm_uuid: str, policy_code: str, type: BackupType, subtype: Periodicity
    ) -> bool:
        """Delete one job; ``False`` if there was none (deleting is idempotent)."""
        self._system._enter(self)
        return self._system._delete_job((vm_uuid, policy_code, type, subtype))

    def delete_jobs(self, vm_uuid: str) -> int:
        """Delete every job of a VM; return how many there were."""
        self._system._enter(self)
        keys = sorted(self._system._vm_jobs.get(vm_uuid, {}))
        for key in keys:
            self._system._delete_job(key)
        return len(keys)

    def jobs(self, vm_uuid: str) -> list[JobView]:
        """The jobs of a VM, ordered by (policy code, type, subtype)."""
        self._system._enter(self)
        jobs = self._system._vm_jobs.get(vm_uuid, {})
        return [
            JobView(vm_uuid, key[1], jobs[key].configuration, jobs[key].replication)
            for key in sorted(jobs)
        ]

    def start_backup(self, vm: VirtualMachineInfo, *, replication: bool) -> BackupRecord:
        """Start an on-demand COMPLETE backup of every disk of ``vm`` now."""
        now = self._system._enter(self)
        return self._system._start_backup(vm, replication, now)

    def start_restore(self, vm_uuid: str, backup_id: str) -> RestoreRecord:
        """Start restoring ``vm_uuid`` from ``backup_id`` now.

        Raises ``not_found`` for an unknown id, a restore id or another VM's backup, and
        ``not_restorable`` for a backup that is not DONE or has expired.
        """
        now = self._system._enter(self)
        return self._system._start_restore(vm_uuid, backup_id, now)

    def changed_since(self, since: datetime | None) -> list[BackupRecord]:
        """Backups created, or turned final, at or after ``since`` (inclusive).

        Also those with a restore created or turned final at or after ``since``. With
        ``since=None``: every backup not yet expired (an expired backup is purged from the
        catalogue, though :meth:`get` still answers it). Ordered by creation, then id. Costs
        O(results in the window), through indexes on creation and finish instants.
        """
        now = self._system._enter(self)
        return self._system._changed_since(since, now)

    def get(self, ids: Iterable[str]) -> dict[str, BackupRecord]:
        """The current record of each id asked about; a restore id maps to its backup.

        Unknown ids are absent. Keys follow the order of ``ids``, without duplicates.
        """
        now = self._system._enter(self)
        return self._system._get(ids, now)

    def expired(self, ids: Iterable[str]) -> list[str]:
        """The backup ids among ``ids`` whose expiration date has passed, in order, deduplicated."""
        now = self._system._enter(self)
        return self._system._expired(ids, now)


def connect(endpoint: str | None, user: str | None, password: str | None) -> BackupSession:
    """Open a session with the backup system registered at ``endpoint``.

    Raises :class:`BackupSystemError`: ``unreachable`` if no system is registered there,
    ``unavailable`` during an outage, ``auth`` for wrong credentials.
    """
    with _REGISTRY_LOCK:
        system = _REGISTRY.get(endpoint) if endpoint is not None else None
    if system is None:
        raise BackupSystemError(
            "unreachable",
            "no backup system answers at that endpoint; check the backup manager's "
            "endpoint (a simulated world's system must be registered)",
        )
    return system._open_session(user, password)
