"""A plugin that logs its connection's credentials to stderr, then crashes once.

Run isolated (``--isolation process``), its stderr tail is quoted in the crash's
evidence: the user and the password must come out as ``***`` in every output.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime
from typing import Any

from simulator.contract import BackupResult, Connection, ConnectionData
from simulator.reference import ReferencePlugin


def _first_time() -> bool:
    """True the first time a harness process (this one's parent) asks."""
    marker = os.path.join(tempfile.gettempdir(), f"bpcert-leaky-{os.getppid()}")
    try:
        with open(marker, "x"):
            return True
    except FileExistsError:
        return False


class LogsCredentials(ReferencePlugin):
    """The reference plugin, chatty about its credentials; its first listing crashes."""

    # list_results is called only by the abiquo-4.0.4 results check.
    contract_profiles = ("abiquo-4.0.4",)

    def new_connection(self) -> Any:
        """A connection that logs what it connects with."""
        connection = super().new_connection()
        inner_connect = connection.connect

        def connect(data: ConnectionData) -> None:
            password = data.password.get_secret_value() if data.password else None
            sys.stderr.write(f"connecting to {data.endpoint} as {data.user} / {password}\n")
            sys.stderr.flush()
            inner_connect(data)

        connection.connect = connect
        return connection

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """The reference's answer, except that the first one ends the process."""
        if _first_time():
            os._exit(3)
        return super().list_results(connection, last_check_date, in_progress_result_provider_ids)
