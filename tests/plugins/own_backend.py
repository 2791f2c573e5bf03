"""Plugins with a backend of their own: the harness cannot see their backup system, so it
learns what was removed from their full listings as the run goes (contract.md §4a).

To keep them small they reach the simulated backup system like the reference, but out of
the harness's sight: each connection takes back the session it opened from the counter
the harness reads to tell that a plugin uses its fake backup system. To the judge they
are plugins with their own backend.

- :class:`OwnBackend5Days` keeps its backups 5 days and reports each removal when asked:
  conformant.
- :class:`OwnBackendNeverReportsExpiry` never reports an expiry: non-conformant, found
  while the run goes (by the full listing after a check), not only at its end.
- :class:`OwnBackendReportsLiveExpired` reports every asked id expired (live backups
  included, and with the reference's retention): non-conformant.
- :class:`OwnBackendNeverExpired` and :class:`OwnBackendAlwaysExpired` do the same through
  ``is_backup_expired``, which the per-id check of abiquo-4.7 and abiquo-6.0 asks.
"""

from __future__ import annotations

from simulator.contract import Connection, ConnectionData
from simulator.reference import ReferenceConnection
from tests.plugins.own_retention import (
    NeverReportsExpiry5Days,
    OwnRetention5Days,
    ReportsLiveExpired,
)


class _UnseenConnection(ReferenceConnection):
    """The reference's connection, whose session the harness does not count."""

    def connect(self, data: ConnectionData) -> None:
        """Open the session, then take it back from the fake system's session count."""
        super().connect(data)
        if self.session is not None:
            self.session._system.sessions_opened_total -= 1


class _OwnBackend:
    """Connections the harness does not count: the plugin's backend is its own."""

    def new_connection(self) -> ReferenceConnection:
        """A connection the harness does not count."""
        return _UnseenConnection()


class OwnBackend5Days(_OwnBackend, OwnRetention5Days):
    """A 5-day retention on a backend the harness cannot see; correct."""


class OwnBackendNeverReportsExpiry(_OwnBackend, NeverReportsExpiry5Days):
    """Bug: get_expired_results always answers that nothing expired."""


class OwnBackendReportsLiveExpired(_OwnBackend, ReportsLiveExpired):
    """Bug: every id asked about is reported expired, live backups included."""


class OwnBackendNeverExpired(OwnBackend5Days):
    """Bug: is_backup_expired always answers false."""

    def is_backup_expired(self, connection: Connection, backup_id: str) -> bool:
        """Never."""
        return False


class OwnBackendAlwaysExpired(OwnBackend5Days):
    """Bug: is_backup_expired always answers true, live backups included."""

    def is_backup_expired(self, connection: Connection, backup_id: str) -> bool:
        """Always."""
        return True
