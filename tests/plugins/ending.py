"""Plugins that try to end, or interrupt, the judge's own process from a method.

In-process they share bpcert's interpreter: what they do must never leave exit 0.
"""

from __future__ import annotations

import os
import signal
from datetime import datetime

from simulator.contract import BackupResult, Connection
from simulator.reference import ReferencePlugin


class _Ends(ReferencePlugin):
    """The reference plugin, until the first listing with results to report."""

    # list_results is called only by the abiquo-4.0.4 results check.
    contract_profiles = ("abiquo-4.0.4",)

    def end(self) -> None:
        """What the plugin does instead of answering."""

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """The reference's answer, or :meth:`end` once there is something to answer."""
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        if results:
            self.end()
        return results


class ExitsZero(_Ends):
    """``os._exit(0)``: the process ends at once, with status 0."""

    def end(self) -> None:
        """End the process."""
        os._exit(0)


class KillsItself(_Ends):
    """Sends itself SIGKILL, as a crash in native code would end it."""

    def end(self) -> None:
        """Kill the process."""
        os.kill(os.getpid(), signal.SIGKILL)


class RaisesKeyboardInterrupt(_Ends):
    """Raises ``KeyboardInterrupt`` itself: no user pressed Ctrl-C."""

    def end(self) -> None:
        """Raise it."""
        raise KeyboardInterrupt


class RaisesSystemExit(_Ends):
    """Raises ``SystemExit(0)`` (calls ``sys.exit(0)``) from a method."""

    def end(self) -> None:
        """Raise it."""
        raise SystemExit(0)
