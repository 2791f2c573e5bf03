"""A time-zone bug: the plugin reads the backup system's local times (UTC+1) as UTC.

Every date it reports is an hour late, so results look created after the instant of the
call that lists them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from simulator.contract import BackupResult, Connection
from simulator.reference import ReferencePlugin

#: The offset of the backup server's local time.
OFFSET = timedelta(hours=1)


class LocalTimeAsUtc(ReferencePlugin):
    """The reference, with every date of its answers shifted by :data:`OFFSET`."""

    #: Its bug is in list_results, which only the 4.0.4 profile calls.
    contract_profiles = ("abiquo-4.0.4",)

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """The reference's answer, an hour late."""
        answer = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        return [
            r.model_copy(
                update={
                    "creation_date": r.creation_date + OFFSET,
                    "finish_date": None if r.finish_date is None else r.finish_date + OFFSET,
                }
            )
            for r in answer
        ]
