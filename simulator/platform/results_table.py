"""The platform's table of backup results, as the Cloud Provider Proxy maintains it.

Results are upserted by provider id from ``listResults``. The table keeps just what
the platform needs, compactly, and indexes it so that every periodic check costs
O(results it touches), not O(results held):

- ``in_progress``: the ids (backups and restores) it holds as IN_PROGRESS, passed to
  the next ``listResults``;
- a rotation of the done results held: the ``abiquo-4.0.4`` check asks
  ``getExpiredResults`` about them (contract.md §4), a share each check so that every
  one is asked within a bounded number of checks (:meth:`ResultsTable.done_for_expiry`);
- an expiry heap: the done results whose expiration date has passed, the ones asked
  about when the platform asks only past the date (as ``abiquo-4.7`` does);
- per-VM lists, for restore targets and for hiding an undeployed VM's results.

From ``abiquo-4.7`` on (``unknown_is_final=False``) an UNKNOWN result is not final: it
leaves ``in_progress`` (its VM is no longer locked by it) for ``unknown``, and the
per-id check asks about it again; the newest creation dates held give the checks'
``start`` dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from simulator.calendar_queue import CalendarQueue
from simulator.contract import BackupResult, RestoreResult, ResultState

__all__ = ["HeldResult", "ResultsTable", "Transition"]


@dataclass(slots=True)
class HeldResult:
    """What the platform holds of one backup result."""

    provider_id: str
    vm_uuid: str
    state: ResultState
    on_demand: bool
    replication: bool
    creation_date: datetime
    finish_date: datetime | None
    expiration_date: datetime | None
    first_seen: float
    final_seen: float | None = None
    #: False once removed from the table (the done rotation holds these objects).
    held: bool = True
    #: The restores of this backup by id; ``None`` until it has one (most never do).
    restores: dict[str, ResultState] | None = None


@dataclass(slots=True)
class Transition:
    """A result (or one of its restores) that became final in an upsert."""

    event: str
    provider_id: str
    vm_uuid: str
    state: ResultState
    finish_date: datetime | None


_IN_PROGRESS = ResultState.IN_PROGRESS
_DONE = ResultState.DONE
_UNKNOWN = ResultState.UNKNOWN


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MINUTE = timedelta(minutes=1)


def _minute(instant: datetime) -> int:
    return (instant - _EPOCH) // _ONE_MINUTE


def _restores_of(held: HeldResult) -> dict[str, ResultState]:
    """``held``'s restores by id, made on first use (most backups never have one)."""
    if held.restores is None:
        held.restores = {}
    return held.restores


class ResultsTable:
    """Backup results by provider id, with the indexes the periodic check needs."""

    def __init__(
        self,
        *,
        unknown_is_final: bool = True,
        rotate_done: bool = True,
        expire_by_date: bool = True,
    ) -> None:
        #: ``abiquo-4.0.4``: UNKNOWN is final. From 4.7 on it is not (see the module).
        self.unknown_is_final = unknown_is_final
        self.by_id: dict[str, HeldResult] = {}
        #: The VM of the result the last :meth:`upsert` touched, as held: an UNKNOWN
        #: answer may not name it. Saves the caller a second lookup by id.
        self.last_vm_uuid = ""
        self.by_vm: dict[str, list[str]] = {}
        # Insertion-ordered (a dict, not a set) so the order never depends on hashing.
        self.in_progress: dict[str, None] = {}
        # Backups (not restores) held IN_PROGRESS per VM: the 4.0 backup lock reads it.
        self.in_progress_by_vm: dict[str, int] = {}
        self.restore_parent: dict[str, str] = {}
        # Expiry instants, a calendar queue: one heap of every result held cost a cache
        # miss per comparison at fleet scale.
        self._expiry: CalendarQueue[tuple[datetime, str]] = CalendarQueue(_minute)
        # Every done backup held, in the order it is next asked about, from
        # ``_done_head`` on (stale ones are dropped when they come round). The held
        # objects, not their ids: an id looked up in ``by_id`` was a cache miss each,
        # tens of thousands of them a check at fleet scale.
        self._done_rotation: list[HeldResult] = []
        self._done_head = 0
        # What the last done_for_expiry handed out, by id, for reoffer_done.
        self._offered: dict[str, HeldResult] = {}
        #: Whether done backups join the rotation (only the 4.0.4 check asks them all).
        self.rotate_done = rotate_done
        #: Whether done backups join the expiry queue (:meth:`due_for_expiry`). A check
        #: that only asks in rotation never pops it: filled anyway, it held every done
        #: backup of the run, about 45 MB a day at 100,000 VMs.
        self.expire_by_date = expire_by_date
        self.removed_expired = 0
        #: Ids (backups and restores) held as UNKNOWN and asked about again (4.7 on).
        self.unknown: dict[str, None] = {}
        # The newest creation dates held, for the 4.7 check's start dates. A removal of
        # the newest backup marks the date stale; it is recomputed when next asked for.
        self._newest_backup: datetime | None = None
        self._newest_backup_stale = False
        self.newest_restore: datetime | None = None

    def __len__(self) -> int:
        return len(self.by_id)

    def upsert(self, result: BackupResult, t: float) -> list[Transition] | tuple[()]:
        """Insert or update ``result``; return the transitions to a final state."""
        # The hot path of every check at fleet scale: states are compared by identity
        # (``is``), never through the enum's ``is_final`` property, and an upsert without
        # transitions allocates no list.
        out: list[Transition] | tuple[()] = ()
        pid = result.provider_id
        state = result.state
        in_progress = state is _IN_PROGRESS
        held = self.by_id.get(pid)
        if held is None:
            was_final = was_in_progress = False
            vm_uuid = self.last_vm_uuid = result.vm_uuid
            held = HeldResult(
                pid,
                vm_uuid,
                state,
                result.on_demand,
                result.replication,
                result.creation_date,
                result.finish_date,
                result.expiration_date,
                t,
            )
            self.by_id[pid] = held
            newest = self._newest_backup
            if newest is None or result.creation_date > newest:
                self._newest_backup = result.creation_date
            ids = self.by_vm.get(vm_uuid)
            if ids is None:
                self.by_vm[vm_uuid] = [pid]
            else:
                ids.append(pid)
        else:
            self.last_vm_uuid = held.vm_uuid
            was_in_progress = held.state is _IN_PROGRESS
            was_final = not was_in_progress
            if self.unknown and pid in self.unknown:  # only from 4.7 on: not final
                was_final = False
                if state is not _UNKNOWN:
                    del self.unknown[pid]
            held.state = state
            held.finish_date = result.finish_date
            held.expiration_date = result.expiration_date
            if in_progress and was_in_progress and not result.restores:
                return out  # still running: the indexes already say so
        if was_in_progress is not in_progress:
            self._count_in_progress(held.vm_uuid, -1 if was_in_progress else 1)
        if not in_progress:
            self.in_progress.pop(pid, None)
            if state is _UNKNOWN and not self.unknown_is_final:
                self.unknown[pid] = None  # asked about again: not final from 4.7 on
            elif not was_final:
                held.final_seen = t
                if not result.on_demand:  # _event_for(result), inlined
                    event = "SCHEDULED_BACKUP"
                elif result.replication:
                    event = "BACKUP_WITH_REPLICATION_FINISH"
                else:
                    event = "BACKUP_FINISH"
                out = [Transition(event, pid, result.vm_uuid, state, result.finish_date)]
                if state is _DONE:
                    if self.rotate_done:
                        self._done_rotation.append(held)
                    expiration = result.expiration_date
                    if expiration is not None and self.expire_by_date:
                        self._expiry.push((expiration, pid))
        else:
            self.in_progress[pid] = None
        if result.restores:
            transitions = out if isinstance(out, list) else []
            self._upsert_restores(result, held, transitions)
            return transitions
        return out

    def _upsert_restores(
        self, result: BackupResult, held: HeldResult, out: list[Transition]
    ) -> None:
        restores = _restores_of(held)
        for restore in result.restores:
            before = restores.get(restore.provider_id)
            restores[restore.provider_id] = restore.state
            self.restore_parent[restore.provider_id] = result.provider_id
            if restore.state.is_final:
                self.in_progress.pop(restore.provider_id, None)
                if before is None or not before.is_final:
                    out.append(
                        Transition(
                            "RESTORE_FINISH",
                            restore.provider_id,
                            result.vm_uuid,
                            restore.state,
                            restore.finish_date,
                        )
                    )
            else:
                self.in_progress[restore.provider_id] = None

    # -------------------------------------------------- from abiquo-4.7 on: per id

    def upsert_restore(self, restore: RestoreResult) -> list[Transition]:
        """Insert or update a restore answered on its own (``listNewRestoreResults``,
        ``getRestoreResult``); return its transition to a final state, if any."""
        rid = restore.provider_id
        parent_id = self.restore_parent.get(rid) or restore.backup_provider_id
        self.restore_parent[rid] = parent_id
        parent = self.by_id.get(parent_id)
        before: ResultState | None = None
        if parent is not None:
            restores = _restores_of(parent)
            before = restores.get(rid)
            restores[rid] = restore.state
        newest = self.newest_restore
        if newest is None or restore.creation_date > newest:
            self.newest_restore = restore.creation_date
        state = restore.state
        was_unknown = rid in self.unknown
        self.unknown.pop(rid, None)
        if state is _IN_PROGRESS:
            self.in_progress[rid] = None
            return []
        self.in_progress.pop(rid, None)
        if state is _UNKNOWN and not self.unknown_is_final:
            self.unknown[rid] = None
            return []
        if before is not None and before.is_final and not was_unknown:
            return []
        vm_uuid = parent.vm_uuid if parent is not None else ""
        return [Transition("RESTORE_FINISH", rid, vm_uuid, state, restore.finish_date)]

    def mark_unknown(self, provider_id: str) -> str | None:
        """The backup system does not know ``provider_id`` (a ``null`` answer): hold it as
        UNKNOWN, to be asked about again. Returns the VM of a backup, else ``None``."""
        held = self.by_id.get(provider_id)
        self.in_progress.pop(provider_id, None)
        self.unknown[provider_id] = None
        if held is None:  # a restore
            parent = self.by_id.get(self.restore_parent.get(provider_id, ""))
            if parent is not None:
                _restores_of(parent)[provider_id] = _UNKNOWN
            return None
        if held.state is _IN_PROGRESS:
            self._count_in_progress(held.vm_uuid, -1)
        held.state = _UNKNOWN
        return held.vm_uuid

    def is_restore(self, provider_id: str) -> bool:
        """True for a restore id the table tracks."""
        return provider_id in self.restore_parent and provider_id not in self.by_id

    def newest_backup(self) -> datetime | None:
        """The creation date of the newest backup held, ``None`` when none is."""
        if self._newest_backup_stale:
            self._newest_backup_stale = False
            self._newest_backup = max(
                (held.creation_date for held in self.by_id.values()), default=None
            )
        return self._newest_backup

    def track_restore(
        self,
        restore_id: str,
        backup_id: str,
        state: ResultState,
        creation_date: datetime | None = None,
    ) -> None:
        """Remember a restore the Virtual Factory just started."""
        if creation_date is not None and (
            self.newest_restore is None or creation_date > self.newest_restore
        ):
            self.newest_restore = creation_date
        self.restore_parent[restore_id] = backup_id
        parent = self.by_id.get(backup_id)
        if parent is not None:
            _restores_of(parent)[restore_id] = state
        if not state.is_final:
            self.in_progress[restore_id] = None

    def due_for_expiry(self, now: datetime) -> list[str]:
        """The done results the platform holds whose expiration date has passed.

        Each id is handed out once; ids still held after the check are re-offered by
        :meth:`reoffer`.
        """
        due: list[str] = []
        append = due.append
        by_id = self.by_id
        for _, pid in self._expiry.pop_all_due(now):
            held = by_id.get(pid)
            if held is not None and held.state is _DONE:
                append(pid)
        return due

    def done_for_expiry(self, rotation_checks: int) -> list[str]:
        """A share of the done backups held: every one is handed out once per
        ``rotation_checks`` calls (1: all of them each time), oldest turn first.

        Ids not confirmed expired go back to the end of the rotation with
        :meth:`reoffer_done`.
        """
        rotation, head, get = self._done_rotation, self._done_head, self.by_id.get
        share = -(-(len(rotation) - head) // rotation_checks)
        # A slice, not a popleft per id: at fleet scale a share is tens of thousands.
        taken = rotation[head : head + share]
        head += share
        if head > len(rotation) // 2:  # the turns taken are dropped in one move
            del rotation[:head]
            head = 0
        self._done_head = head
        out: list[str] = []
        offered: dict[str, HeldResult] = {}
        for held in taken:
            if not held.held:  # removed since; the id may be held anew
                again = get(held.provider_id)
                if again is None:
                    continue
                held = again
            if held.state is _DONE:
                out.append(held.provider_id)
                offered[held.provider_id] = held
        self._offered = offered
        return out

    def reoffer_done(self, ids: list[str]) -> None:
        """Put ids the plugin did not confirm as expired at the end of the done rotation."""
        offered, get = self._offered, self.by_id.get
        back = []
        for pid in ids:
            held = offered.get(pid)
            if held is None or not held.held:
                held = get(pid)
                if held is None:
                    continue
            back.append(held)
        self._done_rotation.extend(back)

    def reoffer(self, ids: list[str]) -> None:
        """Put ids the plugin did not confirm as expired back in the expiry heap."""
        for pid in ids:
            held = self.by_id.get(pid)
            if held is not None and held.expiration_date is not None:
                self._expiry.push((held.expiration_date, pid))

    def remove(self, provider_id: str) -> bool:
        """Forget an expired result. Returns False when it was not held."""
        return self.remove_many((provider_id,)) == 1

    def remove_many(self, provider_ids: Iterable[str]) -> int:
        """Forget expired results, in order; returns how many of them were held.

        One loop for a check's confirmed expirations: past the longest retention, a
        check removes about as many results as it lists.
        """
        by_id, by_vm, in_progress = self.by_id, self.by_vm, self.in_progress
        removed = 0
        for provider_id in provider_ids:
            held = by_id.pop(provider_id, None)
            if held is None:
                continue
            held.held = False
            vm_uuid = held.vm_uuid
            ids = by_vm.get(vm_uuid)
            if ids is not None:
                # try/except, not contextlib.suppress: every expired result passes here.
                try:  # noqa: SIM105
                    ids.remove(provider_id)
                except ValueError:
                    pass
                if not ids:
                    del by_vm[vm_uuid]
            in_progress.pop(provider_id, None)
            if held.state is _IN_PROGRESS:
                self._count_in_progress(vm_uuid, -1)
            if held.creation_date == self._newest_backup:
                self._newest_backup_stale = True
            removed += 1
        self.removed_expired += removed
        return removed

    def _count_in_progress(self, vm_uuid: str, delta: int) -> None:
        count = self.in_progress_by_vm.get(vm_uuid, 0) + delta
        if count > 0:
            self.in_progress_by_vm[vm_uuid] = count
        else:
            self.in_progress_by_vm.pop(vm_uuid, None)

    def latest_for_vm(self, vm_uuid: str, *, done_only: bool) -> HeldResult | None:
        """The newest result of ``vm_uuid`` (by creation date), optionally DONE only."""
        best: HeldResult | None = None
        for pid in self.by_vm.get(vm_uuid, ()):
            held = self.by_id[pid]
            if done_only and held.state is not ResultState.DONE:
                continue
            if best is None or held.creation_date >= best.creation_date:
                best = held
        return best

    def oldest_for_vm(self, vm_uuid: str, *, now: datetime) -> HeldResult | None:
        """The oldest DONE result of ``vm_uuid`` that has not reached its expiration date."""
        best: HeldResult | None = None
        for pid in self.by_vm.get(vm_uuid, ()):
            held = self.by_id[pid]
            if held.state is not ResultState.DONE:
                continue
            if held.expiration_date is not None and held.expiration_date <= now:
                continue
            if best is None or held.creation_date < best.creation_date:
                best = held
        return best

    def in_progress_for_vm(self, vm_uuid: str) -> int:
        """How many backups of ``vm_uuid`` the platform holds as IN_PROGRESS (O(1))."""
        return self.in_progress_by_vm.get(vm_uuid, 0)
