"""Mutants that break the polling rules (:mod:`conformance.rules.polling`).

Each is the reference plugin with **one** bug of the kind vendors really ship, and names in
its docstring the rule id that should catch it. None of this is an example to follow.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from conformance.selftest.building import RewritesListing, swallowed
from conformance.selftest.honest import CachedLoginPlugin, ListResultsGeneration
from simulator.contract import (
    BackupResult,
    Connection,
    ResultState,
)
from simulator.reference import ReferencePlugin, _unknown_result

__all__ = [
    "MUTANTS",
    "NO_MUTANT",
    "DoneWithoutFinishDatePlugin",
    "DuplicateIdsPlugin",
    "EmptyListOnFailurePlugin",
    "ExclusiveWindowPlugin",
    "FlipsDoneToFailedPlugin",
    "IgnoresAskedIdsPlugin",
    "NegativeSizePlugin",
    "OmitsUnknownIdsPlugin",
    "ServerLocalWindowPlugin",
    "UnknownAsFailedPlugin",
    "WallClockPlugin",
]


class ExclusiveWindowPlugin(RewritesListing):
    """Bug: the window is exclusive (``> last_check_date``): a result created exactly at
    ``last_check_date`` is never returned.

    Rule: ``polling.window-complete``.
    """

    def _ask(
        self, last_check_date: datetime | None, in_progress_result_provider_ids: frozenset[str]
    ) -> tuple[datetime | None, frozenset[str]]:
        """Ask the backend for what changed strictly after last_check_date."""
        since = None if last_check_date is None else last_check_date + timedelta(microseconds=1)
        return since, in_progress_result_provider_ids


class IgnoresAskedIdsPlugin(RewritesListing):
    """Bug: ``in_progress_result_provider_ids`` is ignored; only the window is listed.

    Rule: ``polling.in-progress-answered``.
    """

    def _ask(
        self, last_check_date: datetime | None, in_progress_result_provider_ids: frozenset[str]
    ) -> tuple[datetime | None, frozenset[str]]:
        """List the window only."""
        return last_check_date, frozenset()


class OmitsUnknownIdsPlugin(RewritesListing):
    """Bug: an asked id the backup system does not know is left out of the answer instead
    of being answered UNKNOWN.

    Rule: ``polling.unknown-for-lost-ids``.
    """

    def _rewrite(self, results: list[BackupResult]) -> list[BackupResult]:
        """Drop the UNKNOWN placeholders."""
        return [r for r in results if r.state is not ResultState.UNKNOWN]


class UnknownAsFailedPlugin(RewritesListing):
    """Bug: an asked id the backup system does not know is answered FAILED, not UNKNOWN.

    Rule: ``polling.unknown-for-lost-ids``.
    """

    def _rewrite(self, results: list[BackupResult]) -> list[BackupResult]:
        """Answer lost ids FAILED."""
        return [
            r.model_copy(update={"state": ResultState.FAILED, "finish_date": r.creation_date})
            if r.state is ResultState.UNKNOWN
            else r
            for r in results
        ]


_NEW_YORK = timezone(timedelta(hours=-5))


class ServerLocalWindowPlugin(RewritesListing):
    """Bug: ``last_check_date`` is sent to the backend as a local wall-clock time, which the
    backend (in New York, -0500) reads in its own zone: the window starts five hours late,
    and a backup that starts and ends between two checks is never returned.

    Rule: ``polling.no-lost-results``.
    """

    def _ask(
        self, last_check_date: datetime | None, in_progress_result_provider_ids: frozenset[str]
    ) -> tuple[datetime | None, frozenset[str]]:
        """Shift the window by the server's offset."""
        since = (
            None
            if last_check_date is None
            else last_check_date.astimezone(UTC).replace(tzinfo=_NEW_YORK)
        )
        return since, in_progress_result_provider_ids


class DuplicateIdsPlugin(ListResultsGeneration, ReferencePlugin):
    """Bug: the window and the asked ids are concatenated without removing duplicates.

    Rule: ``polling.unique-ids-per-answer``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Window, then asked ids, no dedup."""
        window = super().list_results(connection, last_check_date, frozenset())
        asked = super().list_results(connection, self.now(), in_progress_result_provider_ids)
        return window + [r for r in asked if r.provider_id in in_progress_result_provider_ids]


def _verification_failed(r: BackupResult, now: datetime) -> bool:
    """Every fifth backup "fails verification" two hours after it finished."""
    return (
        r.state is ResultState.DONE
        and r.finish_date is not None
        and now >= r.finish_date + timedelta(hours=2)
        and r.provider_id[-1:] in ("0", "5")
    )


class FlipsDoneToFailedPlugin(RewritesListing):
    """Bug: a backup is reported DONE when it finishes and FAILED later, when the backend's
    verification of it fails: a final result changes.

    Rule: ``polling.states-move-forward``.
    """

    def _rewrite(self, results: list[BackupResult]) -> list[BackupResult]:
        """Report failed verifications as FAILED."""
        now = self.now()
        return [
            r.model_copy(update={"state": ResultState.FAILED, "message": "verification failed"})
            if _verification_failed(r, now)
            else r
            for r in results
        ]


class WallClockPlugin(RewritesListing):
    """Bug: the UNKNOWN placeholder is stamped with ``datetime.now()``, the real clock,
    instead of the context clock: under simulation (the built-in scenarios start in early
    2026) it lies in the future.

    Rule: ``polling.dates-well-formed``.
    """

    def _rewrite(self, results: list[BackupResult]) -> list[BackupResult]:
        """Stamp UNKNOWN answers with the wall clock."""
        wall = datetime.now(UTC)  # the bug: real time, not simulated time
        return [
            _unknown_result(r.provider_id, wall) if r.state is ResultState.UNKNOWN else r
            for r in results
        ]


class DoneWithoutFinishDatePlugin(RewritesListing):
    """Bug: the backend's end time is only mapped for failed jobs, so DONE results carry
    no ``finish_date``.

    Rule: ``polling.dates-well-formed``.
    """

    def _rewrite(self, results: list[BackupResult]) -> list[BackupResult]:
        """Drop the finish date of DONE results."""
        return [
            r.model_copy(update={"finish_date": None}) if r.state is ResultState.DONE else r
            for r in results
        ]


class NegativeSizePlugin(RewritesListing):
    """Bug: a backup still in progress reports ``size_bytes=-1`` for "not known yet".

    Rule: ``polling.sizes-non-negative``.
    """

    def _rewrite(self, results: list[BackupResult]) -> list[BackupResult]:
        """-1 for unknown sizes."""
        return [
            r.model_copy(update={"size_bytes": -1}) if r.state is ResultState.IN_PROGRESS else r
            for r in results
        ]


class EmptyListOnFailurePlugin(ListResultsGeneration, CachedLoginPlugin):
    """Bug: list_results and get_expired_results return ``[]`` when the backup system
    fails, as if nothing had happened.

    Rule: ``polling.failure-raises``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Swallow a BACKEND failure."""
        with swallowed():
            return super().list_results(
                connection, last_check_date, in_progress_result_provider_ids
            )
        return []

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """Swallow a BACKEND failure."""
        with swallowed():
            return super().get_expired_results(connection, provider_ids)
        return []


#: Mutant name -> (plugin class, the rule id it is meant to break).
MUTANTS: dict[str, tuple[type, str]] = {
    "exclusive-window": (ExclusiveWindowPlugin, "polling.window-complete"),
    "ignores-asked-ids": (IgnoresAskedIdsPlugin, "polling.in-progress-answered"),
    "omits-unknown-ids": (OmitsUnknownIdsPlugin, "polling.unknown-for-lost-ids"),
    "unknown-as-failed": (UnknownAsFailedPlugin, "polling.unknown-for-lost-ids"),
    "server-local-window": (ServerLocalWindowPlugin, "polling.no-lost-results"),
    "duplicate-ids": (DuplicateIdsPlugin, "polling.unique-ids-per-answer"),
    "flips-done-to-failed": (FlipsDoneToFailedPlugin, "polling.states-move-forward"),
    "wall-clock": (WallClockPlugin, "polling.dates-well-formed"),
    "done-without-finish-date": (DoneWithoutFinishDatePlugin, "polling.dates-well-formed"),
    "negative-size": (NegativeSizePlugin, "polling.sizes-non-negative"),
    "empty-list-on-failure": (EmptyListOnFailurePlugin, "polling.failure-raises"),
}

#: Rules of this capability no in-process mutant breaks through the built-in scenarios.
NO_MUTANT: dict[str, tuple[None, str]] = {
    "polling.fits-interval": (
        None,
        "every built-in scenario uses the fixed 1 s latency model, so a check lasts about "
        "2 simulated seconds whatever the plugin does; only a 'measured' or 'distribution' "
        "latency model can make a check outlast the 600 s interval",
    ),
}
