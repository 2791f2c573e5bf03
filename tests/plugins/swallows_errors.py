"""A plugin that swallows a backend read error into an empty list, as a real open-source
client does (contract.md §4a): the platform then believes nothing happened and loses
results. The harness must judge it non-conformant (``polling.failure-raises``).

It logs in lazily, inside each operation (as the self-test's honest ``CachedLoginPlugin``
does), so that the backend fails inside ``list_results``, not already at ``connect``.
"""

from __future__ import annotations

from datetime import datetime

from conformance.selftest.honest import CachedLoginPlugin
from simulator.contract import BackupPluginException, BackupResult, Connection


class SwallowsBackendErrors(CachedLoginPlugin):
    """An honest lazy-login plugin, except that a failed listing answers ``[]``."""

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """The honest listing, or nothing at all when the backend fails."""
        try:
            return super().list_results(
                connection, last_check_date, in_progress_result_provider_ids
            )
        except BackupPluginException:
            return []
