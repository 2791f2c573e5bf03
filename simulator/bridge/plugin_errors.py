"""A plugin process's JSON-RPC error answer, as the exception the platform sees."""

from __future__ import annotations

from simulator.bridge.protocol import ErrorObject, HarnessMethod, WireException
from simulator.contract import (
    BackupPluginError,
    BackupPluginException,
    ConfigurationError,
    PluginConnectionError,
)
from simulator.faults import PluginBadReturn, PluginForeignError

__all__ = ["plugin_error_to_exception"]


def plugin_error_to_exception(method: str, error: ErrorObject) -> Exception:
    """The exception the harness raises for a plugin's JSON-RPC error answer to ``method``.

    ``BackupPluginException`` and ``PluginConnectionError`` become the contract
    exceptions, ``ConfigurationError`` too when ``method`` is ``validateConfiguration``;
    any other exception name, or an error without ``data.exception``, becomes
    :class:`PluginForeignError`; a malformed contract error becomes
    :class:`PluginBadReturn`.
    """
    data = error.data
    if not isinstance(data, dict) or not isinstance(data.get("exception"), str):
        return PluginForeignError(
            method,
            f"JSON-RPC error {error.code}",
            f"{error.message} (an error answer needs data.exception naming the exception, "
            "see docs/protocol.md)",
        )
    name: str = data["exception"]
    raw_message = data.get("message", error.message)
    if not isinstance(raw_message, str):
        return PluginBadReturn(method, f"error.data.message must be a string, got {raw_message!r}")
    message = raw_message
    if name == WireException.BACKUP_PLUGIN_EXCEPTION.value:
        code = data.get("code")
        valid = [e.value for e in BackupPluginError]
        if code not in valid:
            return PluginBadReturn(
                method,
                f"BackupPluginException with code {code!r}; error.data.code must be one of "
                f"{', '.join(valid)}",
            )
        return BackupPluginException(BackupPluginError(code), message)
    if name == WireException.PLUGIN_CONNECTION_ERROR.value:
        return PluginConnectionError(message)
    if name == WireException.CONFIGURATION_ERROR.value:
        if method == HarnessMethod.VALIDATE_CONFIGURATION.value:
            return ConfigurationError(message)
        return PluginForeignError(method, name, message)
    return PluginForeignError(method, name, message)
