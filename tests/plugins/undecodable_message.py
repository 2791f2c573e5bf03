"""A plugin whose error message holds bytes it decoded with ``surrogateescape``.

A vendor's plugin that wraps a backup tool's output this way hands the platform a str
with lone surrogates, which strict UTF-8 cannot write.
"""

from __future__ import annotations

from typing import Any

from simulator.contract import BackupPluginError, BackupPluginException
from simulator.reference import ReferencePlugin


class UndecodableMessage(ReferencePlugin):
    """Fails every on-demand backup with a message holding a lone surrogate."""

    def execute_backup(self, *args: Any, **kwargs: Any) -> Any:
        output = b"backup tool said: \xe9chec".decode("utf-8", "surrogateescape")
        raise BackupPluginException(BackupPluginError.CONNECTION, output)
