"""A plugin that leaves failed backups out of list_results, as a vendor's filter might.

The backup system created those backups, and they failed; the plugin never says so.
"""

from __future__ import annotations

from datetime import datetime

from simulator.contract import BackupResult, Connection, ResultState
from simulator.reference import ReferencePlugin


class OmitsFailedBackups(ReferencePlugin):
    """The reference, with every FAILED backup filtered out of its answers."""

    #: Its bug is in list_results, which only the 4.0.4 profile calls.
    contract_profiles = ("abiquo-4.0.4",)

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """The reference's answer without the FAILED backups."""
        answer = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        return [r for r in answer if r.state is not ResultState.FAILED]
