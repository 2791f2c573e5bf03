"""Plugins that are correct but slow at scale, to show what ``bpcert sweep`` catches.

They answer exactly what the reference plugin answers, so every conformance rule
passes; only the cost of an answer grows worse than linearly with its size. A load run
in ``measured`` latency mode turns that wall time into simulated check duration, and a
sweep over fleet sizes fits the growth exponent::

    bpcert sweep --plugin conformance.selftest.slow_plugins:QuadraticListResults \\
        --vms 250,500,1000,2000 --days 1 --latency measured
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from conformance.selftest.honest import ListResultsGeneration
from simulator.contract import BackupResult, Connection, PluginMetadata
from simulator.reference import ReferencePlugin

__all__ = ["QuadraticListResults"]


class QuadraticListResults(ListResultsGeneration, ReferencePlugin):
    """The reference plugin, with a ``list_results`` that costs O(n²) in its answer.

    It removes duplicates the naive way: each result is compared with every result kept
    so far, whole model against whole model. The answer has no duplicates to begin with,
    so the output is the reference plugin's, but a check returning ``n`` results does
    ``n·(n-1)/2`` model comparisons. A night window that doubles in size makes the
    check four times longer.
    """

    metadata: ClassVar[PluginMetadata] = PluginMetadata(
        type="quadratic-list-results",
        friendly_name="reference plugin with an O(n²) listResults",
        version="1.0.0",
        supported_versions=("1.0", "1.5"),
    )

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """The reference answer, deduplicated by a linear scan per result (O(n²))."""
        answer = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        kept: list[BackupResult] = []
        for result in answer:
            duplicate = False
            for seen in kept:  # the linear scan that makes the whole answer quadratic
                if seen == result:
                    duplicate = True
                    break
            if not duplicate:
                kept.append(result)
        return kept
