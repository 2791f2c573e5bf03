"""Plugins that log their connection's credentials.

:class:`LogsCredentials` writes them to stderr, then crashes once: run isolated
(``--isolation process``), its stderr tail is quoted in the crash's evidence.
:class:`PrintsCredentials` writes them, in process, to bpcert's own stdout and stderr
in three ways. The user and the password must come out as ``***`` in every output.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
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


def _chatty(connection: Any, log: Callable[[str, str | None, str | None], None]) -> Any:
    """``connection``, its ``connect`` first calling ``log(endpoint, user, password)``."""
    inner_connect = connection.connect

    def connect(data: ConnectionData) -> None:
        password = data.password.get_secret_value() if data.password else None
        log(str(data.endpoint), data.user, password)
        inner_connect(data)

    connection.connect = connect
    return connection


def _to_stderr(endpoint: str, user: str | None, password: str | None) -> None:
    sys.stderr.write(f"connecting to {endpoint} as {user} / {password}\n")
    sys.stderr.flush()


class LogsCredentials(ReferencePlugin):
    """The reference plugin, chatty about its credentials; its first listing crashes."""

    # list_results is called only by the abiquo-4.0.4 results check.
    contract_profiles = ("abiquo-4.0.4",)

    def new_connection(self) -> Any:
        """A connection that logs what it connects with."""
        return _chatty(super().new_connection(), _to_stderr)

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


def _everywhere(endpoint: str, user: str | None, password: str | None) -> None:
    _to_stderr(endpoint, user, password)
    print(f"printed as {user} / {password}", flush=True)
    raw = f"written to fd 2 as {user} / {password}\n".encode()
    half = len(raw) - len(str(password)) // 2 - 2  # the password split over two writes
    os.write(2, raw[:half])
    os.write(2, raw[half:])


class PrintsCredentials(ReferencePlugin):
    """The reference plugin, printing its credentials on every connect: ``sys.stderr``,
    ``print`` to stdout, and a raw write to file descriptor 2 in two pieces."""

    def new_connection(self) -> Any:
        """A connection that prints what it connects with."""
        return _chatty(super().new_connection(), _everywhere)
