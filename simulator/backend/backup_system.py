"""The fake backup system: the "vendor backend" a plugin talks to in a simulated world.

Two sides:

- :class:`BackupSystem` is the server. A simulated world owns one; it keeps the jobs,
  takes the backups, runs the restores and knows the ground truth the checkers judge
  plugins against.
- :class:`BackupSession` is the client side, what a plugin's connection holds. It is
  obtained with :func:`connect`, by endpoint and credentials, exactly as a real plugin
  reaches a real backend.

The system is built in layers, one module each: :mod:`~simulator.backend.catalogue` (the
backups and restores, advanced through simulated time), :mod:`~simulator.backend.truth`
(the harness's queries) and this module (sessions and the operations plugins call). The
names plugins and tests use are re-exported here.

**Endpoints.** Every system gets an endpoint unique within the process (see
:mod:`~simulator.backend.registry`). The endpoint is an address, not data: it depends on
what else ran in the process, so it must never reach a trace, which stays byte-identical
between runs of the same seed. That is why no error message of the system names it.

**Outages** (:meth:`BackupSystem.add_outage`): every session call raises
``BackupSystemError(kind="unavailable")``, except :meth:`BackupSession.close`, which always
succeeds so that an outage never leaks sessions. A scheduled occurrence that falls inside
an outage does not run: it is skipped and recorded in :attr:`BackupSystem.missed_occurrences`
with reason ``"outage"``.

**An administrator's changes** (:meth:`BackupSystem.admin_add_to_policy`,
:meth:`BackupSystem.admin_remove_from_policy`): a VM added to, or removed from, a policy in
the backup system directly, not through the plugin, as a vendor's console allows. The
system then protects the VM as it says, and :meth:`BackupSession.policy_vms` (what the
``abiquo-6.0`` ``listVirtualMachinesInBackupPolicy`` answers) includes the change.

**Lost backups** (:meth:`BackupSystem.lose_backup`): the system forgets a backup. Its id is
then unknown to every session call (``get``, ``changed_since``, restores), and it counts
as removed for ``expired``: what a plugin answers then is what the UNKNOWN and ``null``
paths of the contract are for.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime
from types import TracebackType

import simpy

from simulator.backend import registry
from simulator.backend.catalogue import BUCKET_US
from simulator.backend.errors import BackupSystemError, BackupSystemFault, ErrorKind
from simulator.backend.fleet import Fleet
from simulator.backend.jobs import MIN_PERIOD_US, BackupKind, Job, JobKey, Series
from simulator.backend.records import (
    BACKUP_PREFIX,
    ID_DIGITS,
    RESTORE_PREFIX,
    BackupRecord,
    JobView,
    MissedOccurrence,
    RestoreRecord,
    TruthBackup,
    TruthRestore,
    format_id,
    parse_id,
)
from simulator.backend.session import BackupSession, connect
from simulator.backend.settings import BackupSystemSettings
from simulator.backend.truth import GroundTruth
from simulator.clock import SimClock
from simulator.contract import (
    DISK_SOURCE_TYPES,
    BackupConfiguration,
    BackupPolicy,
    BackupType,
    ResultState,
    VirtualMachineInfo,
)

__all__ = [
    "BackupRecord",
    "BackupSession",
    "BackupSystem",
    "BackupSystemError",
    "BackupSystemFault",
    "BackupSystemSettings",
    "ErrorKind",
    "JobView",
    "MissedOccurrence",
    "RestoreRecord",
    "TruthBackup",
    "TruthRestore",
    "connect",
]


class BackupSystem(GroundTruth):
    """The server side of the fake backup system (see the module docstring).

    How ``rng`` is used: see :class:`~simulator.backend.catalogue.BackupCatalogue`.
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
        super().__init__(env, rng, clock, fleet, settings)
        self.user = user
        self._password = password
        self.endpoint = endpoint if endpoint is not None else registry.new_endpoint()
        self._sessions: dict[str, int] = {}
        self._session_numbers = itertools.count(1)
        self.sessions_opened_total = 0
        # Policy code -> the VMs with a job of it (insertion-ordered, so never by hash).
        self._policy_vms: dict[str, dict[str, None]] = {}
        # Backups the system lost, by index, and when (microseconds).
        self._lost: dict[int, int] = {}
        #: The administrator's direct changes: (simulated seconds, vm, policy, action).
        self.admin_changes: list[tuple[float, str, str, str]] = []

    def __repr__(self) -> str:
        return f"BackupSystem(endpoint={self.endpoint!r}, user={self.user!r})"

    # ------------------------------------------------------------- registry

    def register(self) -> BackupSystem:
        """Make the system reachable at :attr:`endpoint` (``ValueError`` if taken)."""
        registry.register(self)
        return self

    def unregister(self) -> None:
        """Make the system unreachable (idempotent). Open sessions then fail as unavailable."""
        registry.unregister(self)

    @property
    def registered(self) -> bool:
        """Whether :func:`connect` reaches this system now."""
        return registry.is_registered(self)

    def __enter__(self) -> BackupSystem:
        return self.register()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.unregister()

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

    # -------------------------------------------------- operations (server side)

    def _put_job(
        self,
        vm: VirtualMachineInfo,
        policy: BackupPolicy,
        config: BackupConfiguration,
        retention_s: float | None = None,
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
        if retention_s is None:
            retention_s = self.settings.retention_s(policy.code)
        retention_us = round(retention_s * 1e6)
        job = self._jobs.get(key)
        if job is not None:
            if (
                job.configuration == config
                and job.replication == policy.replication
                and self._kinds[job.kind].retention_us == retention_us
            ):
                return job.job_id  # the same job again: nothing changes
            self._cancel_pending(job, now)
            job.version += 1
        else:
            job = Job(key, f"job-{next(self._job_numbers):06d}", vm_index)
            self._jobs[key] = job
            self._vm_jobs.setdefault(vm.uuid, {})[key] = job
            self._policy_vms.setdefault(policy.code, {})[vm.uuid] = None
        job.configuration = config
        job.replication = policy.replication
        job.kind = self._kind_of(
            BackupKind(
                policy.code,
                config.type,
                config.subtype,
                policy.replication,
                sources,
                retention_us,
            )
        )
        job.placement_us = self._placement(key, config)
        series = self._series.get(config)
        if series is None:
            series = self._series[config] = Series(config, self.clock.start, now)
        job.series = series
        self._schedule_next(job, now)
        return job.job_id

    def _placement(self, key: JobKey, config: BackupConfiguration) -> int:
        """Where, in each period, a job without time runs: stable per job and seed."""
        subtype = key[3]
        if config.time is not None or subtype not in MIN_PERIOD_US:
            return 0
        data = "\x1f".join((key[0], key[1], key[2].value, subtype.value)).encode()
        h = hashlib.blake2b(data, key=self._placement_key, digest_size=8).digest()
        return int.from_bytes(h, "big") * MIN_PERIOD_US[subtype] >> 64

    def _cancel_pending(self, job: Job, now: int) -> None:
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
        if not any(other[1] == key[1] for other in jobs):  # the VM's last job of the policy
            self._policy_vms.get(key[1], {}).pop(key[0], None)
        return True

    def _policy_members(self, policy_code: str) -> list[str]:
        return sorted(self._policy_vms.get(policy_code, ()))

    # ------------------------------------------------- the administrator (out of band)

    def admin_add_to_policy(self, vm_uuid: str, policy: BackupPolicy) -> int:
        """Protect a VM with ``policy`` in the backup system directly; return the jobs put.

        Raises ``KeyError`` for a VM the fleet does not know. A policy without
        configurations puts no job, so it adds nothing.
        """
        self._advance(self._now_us())
        vm = self.fleet.info(self.fleet.index_of(vm_uuid))
        for configuration in policy.configurations:
            self._put_job(vm, policy, configuration)
        self.admin_changes.append((self._now_us() / 1e6, vm_uuid, policy.code, "added"))
        return len(policy.configurations)

    def admin_remove_from_policy(self, vm_uuid: str, policy_code: str) -> int:
        """Stop protecting a VM with the policy ``policy_code``; return the jobs deleted."""
        self._advance(self._now_us())
        keys = sorted(k for k in self._vm_jobs.get(vm_uuid, {}) if k[1] == policy_code)
        for key in keys:
            self._delete_job(key)
        self.admin_changes.append((self._now_us() / 1e6, vm_uuid, policy_code, "removed"))
        return len(keys)

    def policy_members(self, policy_code: str) -> list[str]:
        """The truth: the VMs the system protects with ``policy_code`` now, sorted."""
        return self._policy_members(policy_code)

    def lose_backup(self, provider_id: str) -> bool:
        """Forget a backup, as a backup system that loses one does; ``False`` if unknown."""
        now = self._now_us()
        self._advance(now)
        b = parse_id(BACKUP_PREFIX, provider_id, self._count)
        if b is None or b < self._base or b in self._lost:
            return False
        self._lost[b] = now
        return True

    def latest_backup_of(self, vm_uuid: str, *, in_progress: bool = False) -> str | None:
        """The id of the newest backup of a VM (only one in progress, if asked), or None."""
        now = self._now_us()
        self._advance(now)
        index = self._vm_indexes.get(vm_uuid)
        if index is None:
            return None
        for j in range(len(self._b_vm) - 1, -1, -1):
            b = self._base + j
            if self._b_vm[j] != index or b in self._lost:
                continue
            if in_progress and self._b_finish[j] <= now:
                continue
            return format_id(BACKUP_PREFIX, b)
        return None

    def removed_at(self, provider_id: str) -> float | None:
        """The truth: when the system removed a backup (simulated seconds), ``None`` while held.

        Removed means its retention ran out (``-inf`` once purged: the instant is
        forgotten) or the system lost it. ``KeyError`` for an id the system never had.
        """
        now = self._now_us()
        self._advance(now)
        b = parse_id(BACKUP_PREFIX, provider_id, self._count)
        if b is None:
            raise KeyError(provider_id)
        lost = self._lost.get(b)
        if b < self._base:
            return float("-inf") if lost is None else lost / 1e6
        expires = self._expiration(b)
        removed = expires if lost is None else min(lost, expires)
        return removed / 1e6 if removed <= now else None

    def is_lost(self, provider_id: str) -> bool:
        """The truth: whether the system lost this backup."""
        b = parse_id(BACKUP_PREFIX, provider_id, self._count)
        return b is not None and b in self._lost

    def lost_at(self, provider_id: str) -> float | None:
        """The truth: when the system lost this backup (simulated seconds), ``None`` if it
        did not (or never had it)."""
        b = parse_id(BACKUP_PREFIX, provider_id, self._count)
        lost = None if b is None else self._lost.get(b)
        return None if lost is None else lost / 1e6

    def _start_backup(self, vm: VirtualMachineInfo, replication: bool, now: int) -> BackupRecord:
        vm_index = self._vm_index(vm.uuid)
        kind = self._kind_of(
            BackupKind(
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
        b = parse_id(BACKUP_PREFIX, backup_id, self._count)
        if b is not None and b in self._lost:
            raise BackupSystemError("not_found", f"backup {backup_id!r} is unknown: it was lost")
        if b is not None and b < self._base:
            raise BackupSystemError(
                "not_restorable", f"backup {backup_id} expired and was purged from the catalogue"
            )
        if b is None:
            what = (
                "a restore id"
                if parse_id(RESTORE_PREFIX, backup_id, len(self._r_backup)) is not None
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
        self._r_finish_buckets.setdefault((now + duration) // BUCKET_US, array("I")).append(r)
        self._vm_restore_until[vm_index] = max(
            self._vm_restore_until.get(vm_index, -1), now + duration
        )
        self._due.push((now + duration, next(self._seq), None, r, 0))
        return self._restore_record(r, now)

    def _changed_since(
        self, since: datetime | None, now: int, include_expired: bool = False
    ) -> list[BackupRecord]:
        base, count = self._base, self._count
        lost = self._lost
        if since is None:
            self.records_examined += count - base
            live = [
                b
                for b in range(base, count)
                if (include_expired or self._expiration(b) > now) and b not in lost
            ]
            return self._backup_records(live, now)
        s = self._to_us("since", since)
        # Created in the window: a contiguous range. Only backups created before it can
        # be added by a finish or a restore in the window: a small set, sorted apart.
        first = base + bisect_left(self._b_creation, s)
        earlier: set[int] = set()
        examined = count - first
        finish = self._b_finish
        first_bucket = max(0, s // BUCKET_US)
        for bucket in range(first_bucket, now // BUCKET_US + 1):
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
        for bucket in range(first_bucket, now // BUCKET_US + 1):
            for r in self._r_finish_buckets.get(bucket, ()):
                examined += 1
                if s <= self._r_finish[r] <= now and base <= self._r_backup[r] < first:
                    earlier.add(self._r_backup[r])
        self.records_examined += examined
        window: Iterable[int] = itertools.chain(sorted(earlier), range(first, count))
        if lost:
            window = [b for b in window if b not in lost]
        return self._backup_records(window, now)

    def _restores_since(self, since: datetime | None, now: int) -> list[RestoreRecord]:
        """The restores :meth:`_changed_since` would carry inside its backups, created at
        or after ``since`` (every one with ``None``), in creation order.

        Restores are indexed by creation, so this costs O(restores in the window), where
        the backups' window costs O(backups since ``since``): a VM's last restore may be
        days old.
        """
        base, lost, r_backup = self._base, self._lost, self._r_backup
        first = 0 if since is None else bisect_left(self._r_creation, self._to_us("since", since))
        self.records_examined += len(r_backup) - first
        return [
            self._restore_record(r, now)
            for r in range(first, len(r_backup))
            if (b := r_backup[r]) >= base
            and b not in lost
            and (since is not None or self._expiration(b) > now)
        ]

    def _lookup(self, provider_id: str) -> int | None:
        """The backup index behind a backup id, or behind a restore id's parent.

        ``None`` for an unknown id, and for a backup purged after it expired.
        """
        b = parse_id(BACKUP_PREFIX, provider_id, self._count)
        if b is None:
            r = parse_id(RESTORE_PREFIX, provider_id, len(self._r_backup))
            b = None if r is None else self._r_backup[r]
        return None if b is None or b < self._base or b in self._lost else b

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
        # The 4.0.4 check asks about a share of every done backup held, each check: at
        # fleet scale tens of thousands of ids a call, so the canonical id is parsed
        # inline (parse_id answers the rest) and the expiration read from the columns.
        out: list[str] = []
        count, base, lost = self._count, self._base, self._lost
        finish, kind_of, kinds = self._b_finish, self._b_kind, self._kinds
        unique = dict.fromkeys(ids)  # in order, without duplicates
        prefix, width = BACKUP_PREFIX, len(BACKUP_PREFIX) + ID_DIGITS
        for provider_id in unique:
            b: int | None
            if type(provider_id) is str and len(provider_id) == width:
                digits = provider_id[len(prefix) :]
                if provider_id.startswith(prefix) and digits.isdigit() and digits.isascii():
                    index = int(digits) - 1
                    b = index if 0 <= index < count else None
                else:
                    b = None
            else:
                b = parse_id(prefix, provider_id, count)
            if b is None:
                continue
            # A purged backup (b < base) had expired; a lost one is removed too.
            if b < base or b in lost:
                out.append(provider_id)
                continue
            j = b - base
            if finish[j] + kinds[kind_of[j]].retention_us <= now:
                out.append(provider_id)
        self.records_examined += len(unique)
        return out
