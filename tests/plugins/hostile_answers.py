"""Plugins whose answers are hostile to the judge: each must be a finding, never a crash.

Each is the reference plugin with one answer spoiled, the way fast or careless plugin code
spoils it (``model_construct`` and ``model_copy`` skip pydantic's validation). The rule
each must fail is in :data:`EXPECTED`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.contract import (
    BackupResult,
    BackupSchedule,
    Connection,
    OnDemandBackupOptions,
    VirtualMachineInfo,
)
from simulator.reference import ReferencePlugin

_Listing = list[BackupResult]


class _Spoiled(ReferencePlugin):
    """The reference plugin; subclasses spoil :meth:`spoil` what ``list_results`` returns."""

    # list_results is called only by the abiquo-4.0.4 results check.
    contract_profiles = ("abiquo-4.0.4",)

    def spoil(self, results: _Listing) -> Any:
        """The answer to send instead of ``results``."""
        return results

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> Any:
        """The reference's answer, spoiled."""
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        return self.spoil(results)


class ListsNone(_Spoiled):
    """Answers ``None`` where a list is due."""

    def spoil(self, results: _Listing) -> Any:
        """``None``."""
        return None


class NanSizes(_Spoiled):
    """Reports ``float('nan')`` sizes (``model_copy`` does not validate)."""

    def spoil(self, results: _Listing) -> Any:
        """Every size NaN."""
        return [r.model_copy(update={"size_bytes": float("nan")}) for r in results]


class MillionResults(ReferencePlugin):
    """Answers one ``get_expired_results`` (one in the whole process) with a million ids
    it was never asked about."""

    # get_expired_results is called only by the abiquo-4.0.4 results check.
    contract_profiles = ("abiquo-4.0.4",)
    padded: bool = False

    def get_expired_results(self, connection: Connection, provider_ids: list[str]) -> list[str]:
        """The reference's answer, padded once to more than a million ids."""
        expired = super().get_expired_results(connection, provider_ids)
        if MillionResults.padded:
            return expired
        MillionResults.padded = True
        return expired + [f"never-asked-{i}" for i in range(1_000_000)]


class _EqRaises(BackupResult):
    """A result that cannot be compared."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("__eq__ of a hostile result")

    __hash__ = BackupResult.__hash__


class EqRaises(_Spoiled):
    """Answers results whose ``__eq__`` raises (a subclass of BackupResult)."""

    def spoil(self, results: _Listing) -> Any:
        """Every result as an :class:`_EqRaises`."""
        return [_EqRaises.model_construct(**dict(r)) for r in results]


class MutatesAfterReturn(_Spoiled):
    """Answers a listing with a duplicate, then takes the duplicate out in ``disconnect``.

    A judge that reads the plugin's list after the call, not a copy taken when it
    returned, sees a clean answer.
    """

    def spoil(self, results: _Listing) -> Any:
        """The answer with its first result twice; remembered for the connection."""
        if not results:
            return results
        answer = [*results, results[0]]
        self.last_answer = answer
        return answer

    def new_connection(self) -> Any:
        """A connection whose ``disconnect`` cleans up the last answer."""
        connection = super().new_connection()
        plugin = self
        inner_disconnect = connection.disconnect

        def disconnect() -> None:
            answer = getattr(plugin, "last_answer", None)
            if answer is not None and len(answer) > 1:
                answer.pop()
            plugin.last_answer = None
            inner_disconnect()

        connection.disconnect = disconnect  # type: ignore[method-assign]
        return connection


class _Unprintable(Exception):
    """An exception that cannot be turned into text."""

    def __str__(self) -> str:
        raise RuntimeError("__str__ of a hostile exception")


class UnprintableException(_Spoiled):
    """Raises an exception whose ``__str__`` raises."""

    def spoil(self, results: _Listing) -> Any:
        """Raise :class:`_Unprintable`."""
        raise _Unprintable()


class StringDates(ReferencePlugin):
    """``execute_backup`` reports its creation date as an ISO string (``model_construct``)."""

    def execute_backup(
        self, connection: Connection, vm: VirtualMachineInfo, options: OnDemandBackupOptions
    ) -> BackupResult:
        """The reference's result with a string date."""
        result = super().execute_backup(connection, vm, options)
        fields = dict(result)
        fields["creation_date"] = result.creation_date.isoformat()
        return BackupResult.model_construct(**fields)


class NaiveDates(_Spoiled):
    """Reports naive creation dates, through ``model_construct``."""

    def spoil(self, results: _Listing) -> Any:
        """Every creation date without its timezone."""
        out = []
        for r in results:
            fields = dict(r)
            fields["creation_date"] = r.creation_date.replace(tzinfo=None)
            out.append(BackupResult.model_construct(**fields))
        return out


class MutatesSchedule(ReferencePlugin):
    """Empties the schedule it is handed (past the frozen model) and so creates no job.

    A judge that reads the very schedule object it handed the plugin sees a VM without
    policies, and expects no backups of it.
    """

    def apply_schedule(
        self, connection: Connection, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        """Rewrite ``schedule`` to no policies, then apply that."""
        object.__setattr__(schedule, "policies", ())
        super().apply_schedule(connection, vm, schedule)


#: The plugin class name, and the rule its run must fail.
EXPECTED: dict[str, str] = {
    "ListsNone": "errors.well-typed-returns",
    "NanSizes": "errors.well-typed-returns",
    "MillionResults": "expiry.subset-of-asked",
    "EqRaises": "errors.well-typed-returns",
    "MutatesAfterReturn": "polling.unique-ids-per-answer",
    "UnprintableException": "errors.only-backup-plugin-exception",
    "StringDates": "errors.well-typed-returns",
    "NaiveDates": "errors.well-typed-returns",
    "MutatesSchedule": "schedules.backups-at-scheduled-times",
}
