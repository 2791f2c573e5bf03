"""The fake backup system's catalogue: its backups and restores, and how time makes them.

:class:`BackupCatalogue` is the state of a :class:`~simulator.backend.backup_system.BackupSystem`
and the engine that moves it through simulated time; the system adds sessions and the
operations plugins call, :class:`~simulator.backend.truth.GroundTruth` the harness's queries.

**Why no SimPy process.** A world may hold 100,000 VMs for 30 days. Jobs sit in one queue
keyed by the instant their next backup is created; every session call and every truth
query first *advances* the catalogue to the current simulated instant, popping what became
due. A backup's state at any instant is derived from its creation and finish instants, so
it needs no event at all. Internally every instant is an integer number of microseconds
since the clock's start, which is exactly the resolution of the datetimes plugins see, so
inclusive windows compare exactly.

**Why columns.** Backups are stored one column per field (``array``), a million of them
cheaply; a record is built only when a session or a truth query asks for it.
"""

from __future__ import annotations

import itertools
import random
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import simpy

from simulator.backend.errors import BackupSystemError
from simulator.backend.fleet import Fleet
from simulator.backend.jobs import DAY_US, US, BackupKind, Due, Job, JobKey, Series
from simulator.backend.records import (
    BACKUP_ID,
    BACKUP_PREFIX,
    RESTORE_PREFIX,
    BackupRecord,
    MissedOccurrence,
    RestoreRecord,
    format_id,
)
from simulator.backend.schedule import parse_defined_instant
from simulator.backend.settings import BackupSystemSettings
from simulator.calendar_queue import CalendarQueue
from simulator.clock import SimClock
from simulator.contract import BackupConfiguration, BackupType, Periodicity, ResultState

__all__ = ["BUCKET_US", "BackupCatalogue", "VmLabel"]

_IN_PROGRESS = ResultState.IN_PROGRESS
_DONE = ResultState.DONE
_FAILED = ResultState.FAILED
#: Width of the time buckets that index finish instants: near a check's window, so that
#: a check examines few finishes outside it.
BUCKET_US = 60_000_000
#: Fraction of the disks' capacity a backup of each type copies: (low, high).
_SIZE_FACTOR: dict[BackupType, tuple[float, float]] = {
    BackupType.COMPLETE: (0.3, 0.9),
    BackupType.SNAPSHOT: (0.02, 0.2),
    BackupType.FILESYSTEM: (0.1, 0.5),
}
_new_tuple = tuple.__new__
_DEFINED_HOUR = Periodicity.DEFINED_HOUR


def _minute_of(instant_us: int) -> int:
    return instant_us // BUCKET_US


@dataclass(frozen=True, slots=True)
class VmLabel:
    """What the system remembers of a VM it backs up."""

    uuid: str
    name: str
    disk_sizes: tuple[int, ...]
    capacity: int


class BackupCatalogue:
    """The backups and restores of one backup system, advanced through simulated time.

    ``rng`` is consumed once here, to seed the system's private generator: the system's
    draws (start delays, sizes, failures) then do not depend on what else in the world
    uses ``rng``, only on the order of calls the system receives.
    """

    def __init__(
        self,
        env: simpy.Environment,
        rng: random.Random,
        clock: SimClock,
        fleet: Fleet,
        settings: BackupSystemSettings | None,
    ) -> None:
        if clock.env is not env:
            raise ValueError("clock must run on the same simpy.Environment as the backup system")
        self.env = env
        self.clock = clock
        self.fleet = fleet
        self.settings = settings if settings is not None else BackupSystemSettings()
        self._rng = random.Random(rng.getrandbits(64))
        self._placement_key = rng.getrandbits(64).to_bytes(8, "big")

        self._outages: list[tuple[int, int]] = []

        self._jobs: dict[JobKey, Job] = {}
        self._vm_jobs: dict[str, dict[JobKey, Job]] = {}
        self._job_numbers = itertools.count(1)
        self._series: dict[BackupConfiguration, Series] = {}
        # What is due, in (instant, seq) order. A calendar queue: one heap of every job
        # (100,000 at load-m) cost a cache miss per comparison.
        self._due: CalendarQueue[Due] = CalendarQueue(_minute_of)
        self._seq = itertools.count()
        self._missed: list[MissedOccurrence] = []

        self._kinds: list[BackupKind] = []
        # Per kind: the end of its backups' names (computed once, not per record).
        self._kind_suffix: list[str] = []
        # Per kind: (low, high - low) of the fraction of the disks a backup copies.
        self._kind_size: list[tuple[float, float]] = []
        # Per kind: its retention as a timedelta, added to a finish date per record.
        self._kind_retention: list[timedelta] = []
        self._kind_index: dict[BackupKind, int] = {}
        # Backups, one column per field: a million of them must stay cheap.
        # Backup b lives at column index b - _base: backups purged by _forget_expired
        # are a prefix (backups are created in time order).
        self._base = 0
        self._next_forget_us = DAY_US
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
        self._vm_labels: list[VmLabel | None] = [None] * fleet.size
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

        self._now_at: float | None = None
        self._now_at_us = 0
        #: Records looked at by session queries, to show that a window costs O(results).
        self.records_examined = 0
        # The settings are frozen: the hot paths read these plain attributes.
        self._start = clock.start
        self._max_delay_us = int(self.settings.start_delay_max_s * 1e6)
        self._min_duration_us = int(self.settings.min_duration_s * 1e6)
        self._throughput = self.settings.throughput_bytes_per_s
        self._failure_probability = self.settings.failure_probability

    # --------------------------------------------------------------- time

    def _now_us(self) -> int:
        # Every session call asks, several times at one instant: kept per instant.
        t = self.env.now
        if t != self._now_at:
            self._now_at = t
            self._now_at_us = (self.clock.now() - self.clock.start) // US
        return self._now_at_us

    def _dt(self, us: int) -> datetime:
        return self.clock.start + us * US

    def _to_us(self, name: str, instant: datetime) -> int:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise BackupSystemError(
                "invalid", f"{name} must be timezone-aware, got naive {instant.isoformat()}"
            )
        return (instant - self.clock.start) // US

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
            self._next_forget_us = now + DAY_US  # a purge a day keeps its cost negligible
            self._forget_expired(now - round(self.settings.forget_expired_after_s * 1e6))

    def _record_missed(
        self, job: Job, occurrence: int, reason: Literal["outage", "cancelled"]
    ) -> None:
        vm_uuid, code, btype, subtype = job.key
        self._missed.append(
            MissedOccurrence(vm_uuid, code, btype, subtype, self._dt(occurrence), reason)
        )

    def _schedule_next(self, job: Job, from_us: int) -> None:
        config = job.configuration
        occurrence: int | None
        if config.subtype is _DEFINED_HOUR:
            if config.time is None:
                occurrence = None  # no period to place it in: the system never runs it
            else:
                instant = (parse_defined_instant(config.time) - self.clock.start) // US
                occurrence = instant if instant >= from_us else None
        else:
            series = job.series
            if from_us < series.start_us:  # older than the shared cache: compute afresh
                series = Series(config, self.clock.start, from_us)
            occurrence = series.next_at_or_after(from_us, job.placement_us)
        job.pending_occurrence = occurrence
        if occurrence is None:
            return
        max_delay = self._max_delay_us
        delay = min(max_delay, int(self._rng.random() * (max_delay + 1)))
        self._due.push((occurrence + delay, next(self._seq), job, job.version, occurrence))

    def _kind_of(self, kind: BackupKind) -> int:
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
            self._kind_retention.append(kind.retention_us * US)
        return index

    def _disk_sequences(self, vm_index: int, kind: BackupKind) -> tuple[int, ...]:
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
        bucket = self._finish_buckets.get(finish // BUCKET_US)
        if bucket is None:
            bucket = self._finish_buckets[finish // BUCKET_US] = array("I")
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

    def _vm(self, vm_index: int) -> VmLabel:
        """What the system remembers of a VM it backs up (the fleet derives it by hashing)."""
        label = self._vm_labels[vm_index]
        if label is None:
            fleet = self.fleet
            sizes = fleet.disk_sizes(vm_index)
            label = VmLabel(fleet.uuid(vm_index), fleet.name(vm_index), sizes, sum(sizes))
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
            provider_id=format_id(RESTORE_PREFIX, r),
            backup_provider_id=format_id(BACKUP_PREFIX, self._r_backup[r]),
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
                finish_date = start + finish * US
                expiration_date = finish_date + kind_retention[k]
                size = b_size[j]
                message = "simulated backup failure" if failed else None
            # tuple.__new__ skips the named tuple's Python-level __new__ (a third of the cost).
            append(
                _new_tuple(
                    BackupRecord,
                    (
                        BACKUP_ID % (b + 1),
                        label.uuid,
                        f"{label.name}-{kind_suffix[k]}",
                        kind.type,
                        state,
                        start + b_creation[j] * US,
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

    @property
    def _count(self) -> int:
        """How many backups were ever created: purged ones included."""
        return self._base + len(self._b_creation)

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
