"""A minimal, well-behaved plugin speaking the protocol directly (no harness imports).

The misbehaving plugins next to this file start from it and break one thing each. It
keeps no backend: schedules are accepted, listings are empty, an on-demand backup is
reported DONE at once. Run one as ``python examples/misbehaving/<name>.py``.
"""

from __future__ import annotations

import json
import os
import tempfile
import sys
from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any]], Any]


class PluginError(Exception):
    """Answer the request with this JSON-RPC error ``data``."""

    def __init__(self, data: dict[str, Any], code: int = -32000) -> None:
        super().__init__(data.get("message", ""))
        self.data = data
        self.code = code


def first_time(what: str) -> bool:
    """True the first time in a harness run (keyed by the parent process) that this is asked."""
    marker = os.path.join(tempfile.gettempdir(), f"bpcert-misbehaving-{what}-{os.getppid()}")
    try:
        with open(marker, "x"):
            return True
    except FileExistsError:
        return False


def send(message: dict[str, Any]) -> None:
    """Write one protocol line on stdout."""
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class Plugin:
    """Answers every harness method; subclasses override one handler to misbehave."""

    type = "misbehaving"

    def __init__(self) -> None:
        self.connections = 0
        self.handlers: dict[str, Handler] = {
            "initialize": self.initialize,
            "validateConfiguration": lambda p: None,
            "connect": self.connect,
            "disconnect": lambda p: None,
            "applySchedule": lambda p: None,
            "applyNewSchedule": lambda p: None,
            "removeSchedule": lambda p: None,
            "executeBackup": self.execute_backup,
            "executeRestore": self.execute_restore,
            "listResults": self.list_results,
            "getExpiredResults": self.get_expired_results,
            "shutdown": lambda p: None,
        }

    def initialize(self, params: dict[str, Any]) -> Any:
        return {
            "metadata": {
                "type": self.type,
                "friendly_name": f"Test plugin ({self.type})",
                "version": "1.0",
                "supported_versions": ["1.0"],
            },
            "connection_metadata": {"endpoint": "OPTIONAL", "credentials": "OPTIONAL"},
            "unsupported_operations": [],
        }

    def connect(self, params: dict[str, Any]) -> Any:
        self.connections += 1
        return f"conn-{self.connections}"

    def execute_backup(self, params: dict[str, Any]) -> Any:
        now = params["now"]
        return {
            "provider_id": f"backup-{params['vm']['uuid']}",
            "vm_uuid": params["vm"]["uuid"],
            "name": "on-demand",
            "type": "COMPLETE",
            "state": "DONE",
            "creation_date": now,
            "finish_date": now,
            "expiration_date": "2100-01-01T00:00:00Z",
            "size_bytes": 1024,
            "replication": params["options"]["replication"],
            "on_demand": True,
            "message": None,
            "restores": [],
        }

    def execute_restore(self, params: dict[str, Any]) -> Any:
        raise PluginError(
            {
                "exception": "BackupPluginException",
                "code": "BACKUP_NOT_FOUND",
                "message": f"no backup {params['backup_id']}",
            }
        )

    def list_results(self, params: dict[str, Any]) -> Any:
        return []

    def get_expired_results(self, params: dict[str, Any]) -> Any:
        return []

    def before_answer(self, request: dict[str, Any]) -> None:
        """A hook called after handling a request, before its answer is written."""

    def run(self) -> None:
        """Serve requests until ``shutdown`` or the end of stdin."""
        for line in sys.stdin:
            request = json.loads(line)
            method, params = request["method"], request.get("params") or {}
            handler = self.handlers.get(method)
            try:
                if handler is None:
                    raise PluginError({"message": f"no method {method}"}, code=-32601)
                answer: dict[str, Any] = {"result": handler(params)}
            except PluginError as exc:
                answer = {"error": {"code": exc.code, "message": str(exc), "data": exc.data}}
            self.before_answer(request)
            send({"jsonrpc": "2.0", "id": request["id"], **answer})
            if method == "shutdown":
                return
