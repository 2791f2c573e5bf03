"""A plugin whose full listings keep backups past their expiry until the backup system
purges them, as some backup systems show a removed restore point until cleanup: with a
one-day retention a full listing holds far more than 50 expired results. It reports each
of them expired when asked. The contract allows this: the harness must judge it
conformant.
"""

from __future__ import annotations

from datetime import datetime

from simulator.contract import BackupResult, Connection
from simulator.reference import ReferencePlugin, _result, _session, _translated


class KeepsExpiredInListings(ReferencePlugin):
    """The reference, with expired (not yet purged) backups in its full listings."""

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """A full listing from the backend's whole catalogue; windows as the reference."""
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        if last_check_date is not None:
            return results
        with _translated("listResults"):
            kept = _session(connection).changed_since(None, include_expired=True)
        listed = {r.provider_id for r in results}
        results.extend(_result(record) for record in kept if record.provider_id not in listed)
        results.sort(key=lambda r: (r.creation_date, r.provider_id))
        return results
