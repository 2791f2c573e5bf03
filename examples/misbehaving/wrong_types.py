"""A plugin that answers with wrong types and foreign exceptions.

- ``executeBackup``: ``size_bytes`` is the string "1024" and ``creation_date`` has no offset;
- ``listResults``: an object instead of an array;
- ``getExpiredResults``: numbers instead of strings;
- ``removeSchedule``: a ``java.lang.NullPointerException`` (a foreign exception);
- ``executeRestore``: a BackupPluginException with a code the contract does not have;
- ``applySchedule``: ``true`` where null is due.
"""

from __future__ import annotations

from typing import Any

from _base import Plugin, PluginError


class WrongTypes(Plugin):
    type = "misbehaving-wrong-types"

    def __init__(self) -> None:
        super().__init__()
        self.handlers["removeSchedule"] = self.remove_schedule
        self.handlers["applySchedule"] = lambda p: True

    def execute_backup(self, params: dict[str, Any]) -> Any:
        result = super().execute_backup(params)
        result["size_bytes"] = "1024"
        result["creation_date"] = "2026-01-05T00:00:00"
        return result

    def list_results(self, params: dict[str, Any]) -> Any:
        return {"results": []}

    def get_expired_results(self, params: dict[str, Any]) -> Any:
        return [1, 2, 3]

    def remove_schedule(self, params: dict[str, Any]) -> Any:
        raise PluginError({"exception": "java.lang.NullPointerException", "message": "vm was null"})

    def execute_restore(self, params: dict[str, Any]) -> Any:
        raise PluginError(
            {"exception": "BackupPluginException", "code": "OOPS", "message": "no such code"}
        )


if __name__ == "__main__":
    WrongTypes().run()
