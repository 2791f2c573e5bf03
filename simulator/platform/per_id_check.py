"""The periodic results check of ``abiquo-4.7`` and ``abiquo-6.0``: per-id polling by the API.

From 4.7 on the check runs in the **API** component (no longer the Cloud Provider Proxy),
every ``abiquo.backup.check.delay`` after the previous one ended (a fixed delay). One
run has four steps, in the order ``PlatformSettings.per_id_steps`` gives
(``docs/contract.md``; the order and the edge cases are *(modelled)*):

1. ``list-new-backups``: ``listNewBackupResults(start)``, ``start`` the creation date of
   the newest backup a listing returned (``None`` before any did; ``start_date_from``
   says which results count); every answer is upserted by provider id;
2. ``list-new-restores``: ``listNewRestoreResults(start)``, the same for restores;
3. ``get-results``: ``getBackupResult(id)`` for every backup held IN_PROGRESS or
   UNKNOWN, ``getRestoreResult(id)`` for every such restore. An answer replaces what is
   held; ``null`` keeps (or makes) it UNKNOWN, and it is asked again next run;
4. ``expiry``: ``isBackupExpired(id)`` for every DONE backup held whose expiration date
   has passed; ``true`` removes it, ``false`` keeps it, to be asked again next run.

A failed call (a ``BackupPluginException``, or any other failure) fails its step: with
``step_failure="stop-step"`` the step's remaining calls wait for the next run, with
``"next-id"`` only that id does. Either way the run goes on with the next step. Nothing
is lost, since the state lives in what the platform holds.

The cost of a run is O(results in its window + results held in progress or UNKNOWN +
results due for expiry), never O(fleet).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import simpy

from simulator.contract import BackupResult, Operation, RestoreResult
from simulator.platform.invoker import CallRecord

if TYPE_CHECKING:
    from simulator.platform.core import CheckRecord, Platform

__all__ = ["PER_ID_STEPS", "PerIdCheck", "fixed_delay"]

#: The steps of one run, in Abiquo's order.
PER_ID_STEPS: tuple[str, ...] = ("list-new-backups", "list-new-restores", "get-results", "expiry")


def fixed_delay(
    platform: Platform, delay_s: float, body: Callable[[], Generator[simpy.Event, Any, Any]]
) -> Generator[simpy.Event, Any, None]:
    """A periodic API process: ``body`` every ``delay_s`` after the previous run ended,
    from ``delay_s`` after start-up, while the API loaded the plugin and until the
    platform's checks are stopped."""
    env = platform.env
    yield platform.ready
    yield env.timeout(delay_s)
    while not platform.checks_stopped:
        if platform.plugin_loaded("api"):
            yield from body()
        yield env.timeout(delay_s)


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None


class PerIdCheck:
    """The API's periodic per-id check over one platform."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        #: The creation date of the newest backup that came from a listing (for
        #: ``start_date_from="newest-listed"``).
        self.newest_listed: datetime | None = None

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The periodic process: a check every ``check_delay_s`` after the last one ended."""
        return fixed_delay(self.platform, self.platform.settings.check_delay_s, self.check)

    def _start_date(self) -> datetime | None:
        if self.platform.settings.start_date_from == "newest-listed":
            return self.newest_listed
        return self.platform.results.newest_backup()

    def _call(
        self, op: Operation, args: tuple[Any, ...], check_id: int
    ) -> Generator[simpy.Event, Any, CallRecord]:
        platform = self.platform
        record: CallRecord = yield from platform.invoker.call(
            "api",
            platform.instances["api"],
            op,
            None,
            args,
            pool=platform.cpp_pool,
            check=check_id,
        )
        return record

    def check(self) -> Generator[simpy.Event, Any, CheckRecord]:
        """Run one check: the four steps, each going on after the failure of another."""
        from simulator.platform.core import CheckRecord

        platform = self.platform
        env = platform.env
        table = platform.results
        platform.checks += 1
        check_id = platform.checks
        platform._checking = True
        start = float(env.now)
        backups_from = self._start_date()
        restores_from = table.newest_restore
        self._calls = 0
        self._received = 0
        self._asked = 0
        self._removed = 0
        failed: list[str] = []
        for step in platform.settings.per_id_steps:
            if step == "list-new-backups":
                ok = yield from self._list_backups(backups_from, check_id)
            elif step == "list-new-restores":
                ok = yield from self._list_restores(restores_from, check_id)
            elif step == "get-results":
                ok = yield from self._get_results(check_id)
            else:
                ok = yield from self._expiry(check_id)
            if not ok:
                failed.append(step)
        end = float(env.now)
        # What the summary's "results seen" counts under every profile: each result the
        # check received, listed or answered by id.
        platform.results_seen += self._received
        record = CheckRecord(
            id=check_id,
            start=start,
            end=end,
            last_check_date=backups_from,
            next_last_check_date=None,
            in_progress=self._asked,
            results=self._received,
            expired=self._removed,
            ok=not failed,
            list_call=None,
            expired_call=None,
            calls=self._calls,
            unknown=len(table.unknown),
            failed_steps=tuple(failed),
        )
        platform.trace.emit(
            "poll",
            end,
            check=check_id,
            component="api",
            start=start,
            end=end,
            duration=end - start,
            start_date=_iso(backups_from),
            restore_start_date=_iso(restores_from),
            calls=self._calls,
            results=self._received,
            asked=self._asked,
            unknown=len(table.unknown),
            expired=self._removed,
            failed_steps=failed,
            ok=not failed,
        )
        platform._checking = False
        for hook in platform.hooks.check_end:
            hook(record)
        return record

    # ------------------------------------------------------------------ the steps

    def _counted(self, record: CallRecord) -> CallRecord:
        self._calls += 1
        return record

    def _list_backups(
        self, start_date: datetime | None, check_id: int
    ) -> Generator[simpy.Event, Any, bool]:
        rec = self._counted(
            (yield from self._call(Operation.LIST_NEW_BACKUP_RESULTS, (start_date,), check_id))
        )
        if not rec.ok:
            return False
        results: list[BackupResult] = rec.result
        self._received += len(results)
        self.platform._upsert(results, float(self.platform.env.now))
        newest = self.newest_listed
        for result in results:
            if newest is None or result.creation_date > newest:
                newest = result.creation_date
        self.newest_listed = newest
        return True

    def _list_restores(
        self, start_date: datetime | None, check_id: int
    ) -> Generator[simpy.Event, Any, bool]:
        rec = self._counted(
            (yield from self._call(Operation.LIST_NEW_RESTORE_RESULTS, (start_date,), check_id))
        )
        if not rec.ok:
            return False
        restores: list[RestoreResult] = rec.result
        self._received += len(restores)
        self._upsert_restores(restores)
        return True

    def _upsert_restores(self, restores: list[RestoreResult]) -> None:
        platform = self.platform
        transitions = []
        for restore in restores:
            transitions += platform.results.upsert_restore(restore)
        if transitions:
            platform.raise_transitions(transitions, float(platform.env.now))

    def _get_results(self, check_id: int) -> Generator[simpy.Event, Any, bool]:
        platform = self.platform
        table = platform.results
        stop = platform.settings.step_failure == "stop-step"
        # Asked in the order they came to be held: in progress, then UNKNOWN.
        asked = [*table.in_progress, *table.unknown]
        ok = True
        for provider_id in asked:
            restore = table.is_restore(provider_id)
            op = Operation.GET_RESTORE_RESULT if restore else Operation.GET_BACKUP_RESULT
            rec = self._counted((yield from self._call(op, (provider_id,), check_id)))
            self._asked += 1
            if not rec.ok:
                ok = False
                if stop:
                    break
                continue
            answer = rec.result
            now = float(platform.env.now)
            if answer is None:
                vm = table.mark_unknown(provider_id)
                if vm is not None:
                    platform.refresh_backup_lock(vm)
                continue
            self._received += 1
            if restore:
                self._upsert_restores([answer])
            else:
                platform._upsert((answer,), now)
        return ok

    def _expiry(self, check_id: int) -> Generator[simpy.Event, Any, bool]:
        platform = self.platform
        table = platform.results
        stop = platform.settings.step_failure == "stop-step"
        due = table.due_for_expiry(platform.clock.now())
        ok = True
        confirmed: list[str] = []
        kept: list[str] = []
        for i, provider_id in enumerate(due):
            rec = self._counted(
                (yield from self._call(Operation.IS_BACKUP_EXPIRED, (provider_id,), check_id))
            )
            if not rec.ok:
                ok = False
                kept.append(provider_id)
                if stop:
                    kept += due[i + 1 :]
                    break
                continue
            (confirmed if rec.result else kept).append(provider_id)
        self._removed += table.remove_many(confirmed)
        table.reoffer(kept)
        return ok
