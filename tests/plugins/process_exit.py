"""A plugin that ends its process from listResults: what a crash in native code does."""

from __future__ import annotations

import os
from datetime import datetime

from simulator.contract import BackupResult
from simulator.reference import ReferencePlugin


class ExitsInListResults(ReferencePlugin):
    """The reference plugin, except that ``list_results`` ends the process at once."""

    def list_results(
        self,
        connection: object,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """End the process: no exception, no cleanup, as a segfault would."""
        os._exit(70)
