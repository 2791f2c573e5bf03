"""The ground truth of the fake backup system: what only the harness may ask.

The checkers judge a plugin's answers against these queries; a plugin reaches the system
only through a :class:`~simulator.backend.session.BackupSession`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from datetime import datetime

from simulator.backend.catalogue import BackupCatalogue
from simulator.backend.records import (
    BACKUP_PREFIX,
    RESTORE_PREFIX,
    MissedOccurrence,
    TruthBackup,
    TruthRestore,
    format_id,
    parse_id,
)

__all__ = ["GroundTruth"]


class GroundTruth(BackupCatalogue):
    """The catalogue's truth queries: backups really taken, restores verified, VMs busy."""

    @property
    def backups_taken(self) -> int:
        """How many backups the system has created so far (scheduled and on demand)."""
        self._advance(self._now_us())
        return self._count

    @property
    def backups_purged(self) -> int:
        """How many expired backups were purged (``forget_expired_after_s``)."""
        return self._base

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
            provider_id=format_id(BACKUP_PREFIX, b),
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
        b = parse_id(BACKUP_PREFIX, provider_id, self._count)
        return None if b is None or b < self._base else self._truth_backup(b, now)

    def backup_disk_tokens(self, provider_id: str) -> dict[int, str]:
        """The disk content a backup captured, by disk sequence (``KeyError`` if unknown)."""
        self._advance(self._now_us())
        b = parse_id(BACKUP_PREFIX, provider_id, self._count)
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
            provider_id=format_id(RESTORE_PREFIX, r),
            backup_provider_id=format_id(BACKUP_PREFIX, b),
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
