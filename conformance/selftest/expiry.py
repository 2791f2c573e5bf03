"""Mutants that break the expiry rules (:mod:`conformance.rules.expiry`).

Each is the reference plugin with **one** bug of the kind vendors really ship, and names in
its docstring the rule id that should catch it. None of this is an example to follow.
"""

from __future__ import annotations

from datetime import timedelta

from conformance.selftest.building import RewritesListing
from conformance.selftest.honest import ListResultsGeneration
from simulator.contract import (
    BackupResult,
    Connection,
)
from simulator.reference import (
    ReferencePlugin,
    _session,
    _translated,
)

__all__ = [
    "MUTANTS",
    "ExpiredPagesOverlapPlugin",
    "ExpiresDayEarlyPlugin",
    "NeverExpiresPlugin",
    "RecentExpiryLogPlugin",
    "UpperCaseExpiredIdsPlugin",
    "YearLongExpirationDatePlugin",
]


class ExpiredPagesOverlapPlugin(ListResultsGeneration, ReferencePlugin):
    """Bug: get_expired_results asks the backend in pages of 10 ids with an off-by-one
    slice (``ids[i:i + 11]``), so an expired id on a page boundary is returned twice.

    Rule: ``expiry.subset-of-asked``.
    """

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Paged, with overlapping pages."""
        session = _session(connection)
        out: list[str] = []
        with _translated("getExpiredResults"):
            for i in range(0, len(provider_ids), 10):
                out.extend(session.expired(provider_ids[i : i + 11]))
        return out


class UpperCaseExpiredIdsPlugin(ListResultsGeneration, ReferencePlugin):
    """Bug: expired ids are returned as the backend's API spells them (upper case), not
    as the platform asked.

    Rule: ``expiry.subset-of-asked``.
    """

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Upper-case ids."""
        return [pid.upper() for pid in super().get_expired_results(connection, provider_ids)]


class RecentExpiryLogPlugin(ListResultsGeneration, ReferencePlugin):
    """Bug: expiry is read from the backend's expiry event log of the last six hours, so a
    backup that expired earlier is no longer reported expired.

    Rule: ``expiry.sticky``.
    """

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Only recently expired ids."""
        session = _session(connection)
        now = self.now()
        with _translated("getExpiredResults"):
            expired = session.expired(provider_ids)
            records = session.get(expired)
        return [
            pid
            for pid in expired
            if (r := records.get(pid)) is not None
            and r.expiration_date is not None
            and now - r.expiration_date <= timedelta(hours=6)
        ]


class NeverExpiresPlugin(ListResultsGeneration, ReferencePlugin):
    """Bug: get_expired_results is a stub that always answers ``[]``.

    Rule: ``expiry.reported-when-due``.
    """

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Nothing ever expires."""
        _session(connection)
        return []


class ExpiresDayEarlyPlugin(ListResultsGeneration, ReferencePlugin):
    """Bug: retention is compared in the wrong unit, so a backup is reported expired a
    day before its expiration date.

    Rule: ``expiry.live-never-reported``.
    """

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Expired from a day before the expiration date."""
        session = _session(connection)
        horizon = self.now() + timedelta(days=1)
        with _translated("getExpiredResults"):
            records = session.get(provider_ids)
        out = []
        for pid in dict.fromkeys(provider_ids):
            r = records.get(pid)
            if (
                r is not None
                and r.provider_id == pid
                and r.expiration_date is not None
                and r.expiration_date <= horizon
            ):
                out.append(pid)
        return out


class YearLongExpirationDatePlugin(RewritesListing):
    """Bug: the expiration_date it reports is a year after creation, whatever the backup
    system's retention; expiry itself is reported correctly, but billing by the date
    would charge for removed backups.

    Rule: ``expiry.expiration-date-advice`` (advisory).
    """

    def _rewrite(self, results: list[BackupResult]) -> list[BackupResult]:
        """The reference's results with a year-long expiration date."""
        return [
            r.model_copy(update={"expiration_date": r.creation_date + timedelta(days=365)})
            if r.expiration_date is not None
            else r
            for r in results
        ]


#: Mutant name -> (plugin class, the rule id it is meant to break).
MUTANTS: dict[str, tuple[type, str]] = {
    "expired-pages-overlap": (ExpiredPagesOverlapPlugin, "expiry.subset-of-asked"),
    "upper-case-expired-ids": (UpperCaseExpiredIdsPlugin, "expiry.subset-of-asked"),
    "recent-expiry-log": (RecentExpiryLogPlugin, "expiry.sticky"),
    "never-expires": (NeverExpiresPlugin, "expiry.reported-when-due"),
    "expires-day-early": (ExpiresDayEarlyPlugin, "expiry.live-never-reported"),
    "year-long-expiration-date": (YearLongExpirationDatePlugin, "expiry.expiration-date-advice"),
}
