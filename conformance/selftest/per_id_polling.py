"""Mutants that break the per-id polling rules (:mod:`conformance.rules.per_id_polling`).

Each is the reference plugin, run under ``abiquo-6.0``, with **one** bug of the kind
vendors really ship, and names in its docstring the rule id that should catch it. None of
this is an example to follow.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from conformance.selftest.honest import CachedLoginPlugin
from simulator.contract import (
    BackupPluginException,
    BackupResult,
    Connection,
    PluginContext,
    RestoreResult,
    ResultState,
)
from simulator.reference import ReferencePlugin, _result, _session, _translated

__all__ = [
    "MUTANTS",
    "CreationOnlyStaleStatePlugin",
    "ExclusiveStartPlugin",
    "ExpiredByDateOnlyPlugin",
    "ExpiresDayEarlyPerIdPlugin",
    "NoneWhileRunningPlugin",
    "NothingNewOnOutagePlugin",
    "RemembersLostBackupsPlugin",
]


class ExclusiveStartPlugin(ReferencePlugin):
    """Bug: list_new_backup_results asks the backend for backups created *after* start
    (``>``, not ``>=``), so one created exactly at start is left out.

    Rule: ``per-id-polling.new-results-complete``.
    """

    def list_new_backup_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[BackupResult]:
        """An exclusive window."""
        results = super().list_new_backup_results(connection, start_date)
        return [r for r in results if start_date is None or r.creation_date > start_date]


class CreationOnlyStaleStatePlugin(ReferencePlugin):
    """Bug: get_backup_result answers from a cache filled when the backup was first seen,
    so a backup held in progress is answered IN_PROGRESS for ever; and the listing holds
    only backups created since start, so the platform never learns it finished.

    Rule: ``per-id-polling.no-lost-results``.
    """

    def __init__(self, context: PluginContext) -> None:
        super().__init__(context)
        # In the API instance's memory, which runs both the listing and the per-id calls.
        self._first_seen: dict[str, BackupResult] = {}

    def list_new_backup_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[BackupResult]:
        """Only backups created at or after start (allowed), cached as first seen."""
        results = super().list_new_backup_results(connection, start_date)
        kept = [r for r in results if start_date is None or r.creation_date >= start_date]
        for r in kept:
            self._first_seen.setdefault(r.provider_id, r)
        return kept

    def get_backup_result(self, connection: Connection, backup_id: str) -> BackupResult | None:
        """The cached first answer (a stale IN_PROGRESS)."""
        cached = self._first_seen.get(backup_id)
        if cached is not None:
            return cached
        return super().get_backup_result(connection, backup_id)


class NoneWhileRunningPlugin(ReferencePlugin):
    """Bug: get_backup_result reads the backend's "finished backups" endpoint, so a backup
    still running is answered None (as if the backup system had lost it).

    Rule: ``per-id-polling.result-current-state``.
    """

    def get_backup_result(self, connection: Connection, backup_id: str) -> BackupResult | None:
        """None while in progress."""
        result = super().get_backup_result(connection, backup_id)
        if result is not None and result.state is ResultState.IN_PROGRESS:
            return None
        return result


def _expiration_date(connection: Connection, backup_id: str) -> tuple[bool, datetime | None]:
    """Whether the backend knows the backup, and its expiration date as the backend has it."""
    session = _session(connection)
    with _translated("isBackupExpired"):
        record = session.get([backup_id]).get(backup_id)
    if record is None or record.provider_id != backup_id:
        return False, None
    return True, _result(record).expiration_date


class ExpiresDayEarlyPerIdPlugin(ReferencePlugin):
    """Bug: is_backup_expired compares the expiration date with tomorrow, not now (a
    time-zone "fix" gone wrong), so a backup that is still restorable is reported expired.

    Rule: ``per-id-polling.expired-when-removed``.
    """

    def is_backup_expired(self, connection: Connection, backup_id: str) -> bool:
        """Expired a day early."""
        known, expiration = _expiration_date(connection, backup_id)
        if not known:
            return super().is_backup_expired(connection, backup_id)
        return expiration is not None and expiration <= self.now() + timedelta(days=1)


class RemembersLostBackupsPlugin(ReferencePlugin):
    """Bug: get_backup_result falls back to the last answer it gave when the backend does not
    know the id (the author took "unknown" for a backend hiccup), so a backup the backup
    system lost is reported as it last was, IN_PROGRESS for ever, instead of None.

    Rule: ``per-id-polling.result-current-state``.
    """

    def __init__(self, context: PluginContext) -> None:
        super().__init__(context)
        # In the API instance, which makes every check's per-id calls.
        self._last: dict[str, BackupResult] = {}

    def get_backup_result(self, connection: Connection, backup_id: str) -> BackupResult | None:
        """The last answer, when the backend no longer knows the id."""
        result = super().get_backup_result(connection, backup_id)
        if result is None:
            return self._last.get(backup_id)
        self._last[backup_id] = result
        return result


class ExpiredByDateOnlyPlugin(ReferencePlugin):
    """Bug: is_backup_expired compares the backup's expiration date with now, and answers
    false for an id the backend does not know ("nothing there to remove"), so a backup the
    backup system lost is never reported expired: the platform bills it and offers it for
    restore for the rest of its retention.

    Rule: ``per-id-polling.expired-when-removed``.
    """

    def is_backup_expired(self, connection: Connection, backup_id: str) -> bool:
        """By the date alone; false when the backend has no record."""
        known, expiration = _expiration_date(connection, backup_id)
        return known and expiration is not None and expiration <= self.now()


class NothingNewOnOutagePlugin(CachedLoginPlugin):
    """Bug: the per-id methods swallow a backend failure: no new results, None, false.

    Rule: ``per-id-polling.failure-raises``.
    """

    def list_new_backup_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[BackupResult]:
        """Nothing new when the backend fails."""
        try:
            return super().list_new_backup_results(connection, start_date)
        except BackupPluginException:
            return []

    def list_new_restore_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[RestoreResult]:
        """Nothing new when the backend fails."""
        try:
            return super().list_new_restore_results(connection, start_date)
        except BackupPluginException:
            return []


#: Mutant name -> (class, the rule it breaks).
MUTANTS: dict[str, tuple[type, str]] = {
    "exclusive-start": (ExclusiveStartPlugin, "per-id-polling.new-results-complete"),
    "creation-only-stale-state": (CreationOnlyStaleStatePlugin, "per-id-polling.no-lost-results"),
    "none-while-running": (NoneWhileRunningPlugin, "per-id-polling.result-current-state"),
    "expires-day-early-per-id": (
        ExpiresDayEarlyPerIdPlugin,
        "per-id-polling.expired-when-removed",
    ),
    "nothing-new-on-outage": (NothingNewOnOutagePlugin, "per-id-polling.failure-raises"),
    "remembers-lost-backups": (
        RemembersLostBackupsPlugin,
        "per-id-polling.result-current-state",
    ),
    "expired-by-date-only": (ExpiredByDateOnlyPlugin, "per-id-polling.expired-when-removed"),
}
