"""What several mutants are built from: the reference with one answer or one failure mishandled.

Many bugs vendors ship have the same shape: ``list_results`` asks the backup system the
wrong question or rewrites its answer, or a backend failure is swallowed where it must
be raised. Each shape is written once here, and a mutant says only what its bug does:

- :class:`RewritesListing`: the reference's ``list_results`` whose question
  (:meth:`~RewritesListing._ask`) or answer (:meth:`~RewritesListing._rewrite`) the mutant
  changes;
- :func:`swallowed`: a ``with`` block in which a :class:`BackupPluginException` is dropped
  instead of raised.

None of this is an example to follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from conformance.selftest.honest import ListResultsGeneration
from simulator.contract import BackupPluginError, BackupPluginException, BackupResult, Connection
from simulator.reference import ReferencePlugin

__all__ = ["RewritesListing", "swallowed"]


class RewritesListing(ListResultsGeneration, ReferencePlugin):
    """The reference, whose ``list_results`` passes its question through :meth:`_ask` and the
    reference's answer through :meth:`_rewrite`; a mutant overrides one of them (the bug).

    Both do nothing here. ``list_results`` exists only in ``abiquo-4.0.4``, so such a
    mutant declares that profile alone (:class:`ListResultsGeneration`).
    """

    def _ask(
        self, last_check_date: datetime | None, in_progress_result_provider_ids: frozenset[str]
    ) -> tuple[datetime | None, frozenset[str]]:
        """The window start and the ids the reference is asked for."""
        return last_check_date, in_progress_result_provider_ids

    def _rewrite(self, results: list[BackupResult]) -> list[BackupResult]:
        """The answer returned for the reference's ``results``."""
        return results

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """The reference's answer to :meth:`_ask`'s question, through :meth:`_rewrite`."""
        since, asked = self._ask(last_check_date, in_progress_result_provider_ids)
        return self._rewrite(super().list_results(connection, since, asked))


@contextmanager
def swallowed(only: BackupPluginError | None = None) -> Iterator[None]:
    """Drop a :class:`BackupPluginException` raised in the block (only one with code
    ``only``, when given; any other is raised as it was)."""
    try:
        yield
    except BackupPluginException as error:
        if only is not None and error.error is not only:
            raise
