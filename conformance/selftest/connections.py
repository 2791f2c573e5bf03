"""Mutants that break the connections rules (:mod:`conformance.rules.connections`).

Each is the reference plugin with **one** bug of the kind vendors really ship, and names in
its docstring the rule id that should catch it. None of this is an example to follow.
"""

from __future__ import annotations

from typing import Any, ClassVar

from simulator.backend.backup_system import BackupSystemError
from simulator.contract import (
    BackupPluginError,
    BackupPluginException,
    ConnectionData,
    PluginConnectionError,
)
from simulator.reference import (
    ReferenceConnection,
    ReferencePlugin,
)

__all__ = [
    "MUTANTS",
    "ConnectBuiltinErrorPlugin",
    "ConnectGenericExceptionPlugin",
    "DisconnectRaisesPlugin",
    "PasswordCachePlugin",
    "SessionLeakPlugin",
]


class _LeakyConnection(ReferenceConnection):
    def disconnect(self) -> None:
        self.session = None  # dropped, never closed on the server


class SessionLeakPlugin(ReferencePlugin):
    """Bug: disconnect forgets the session without closing it on the backup server.

    Rule: ``connections.closed-after-use``.
    """

    def new_connection(self) -> ReferenceConnection:
        """A leaky connection."""
        return _LeakyConnection()


class _LogoutConnection(ReferenceConnection):
    def disconnect(self) -> None:
        session = self.session
        super().disconnect()
        if session is not None:
            session.jobs("")  # a "logout" call, on the session just closed: raises


class DisconnectRaisesPlugin(ReferencePlugin):
    """Bug: disconnect closes the session, then makes a logout call on it, which raises.

    Rule: ``connections.disconnect-does-not-fail``.
    """

    def new_connection(self) -> ReferenceConnection:
        """A connection whose disconnect raises."""
        return _LogoutConnection()


class _GenericErrorConnection(ReferenceConnection):
    def connect(self, data: ConnectionData) -> None:
        try:
            super().connect(data)
        except PluginConnectionError as error:
            raise BackupPluginException(BackupPluginError.CONNECTION, error.message) from error


class ConnectGenericExceptionPlugin(ReferencePlugin):
    """Bug: connect raises a plain ``BackupPluginException(CONNECTION)`` instead of
    ``PluginConnectionError``.

    Rule: ``connections.connect-failure-typed``.
    """

    def new_connection(self) -> ReferenceConnection:
        """A connection with the wrong exception type."""
        return _GenericErrorConnection()


class _BuiltinErrorConnection(ReferenceConnection):
    def connect(self, data: ConnectionData) -> None:
        try:
            super().connect(data)
        except PluginConnectionError as error:
            cause = error.__cause__
            if isinstance(cause, BackupSystemError) and cause.kind == "auth":
                raise PermissionError(cause.message) from cause
            raise ConnectionError(error.message) from error


class ConnectBuiltinErrorPlugin(ReferencePlugin):
    """Bug: connect raises Python's ``PermissionError``/``ConnectionError`` instead of
    ``PluginConnectionError``.

    Rule: ``connections.connect-failure-typed``.
    """

    def new_connection(self) -> ReferenceConnection:
        """A connection raising built-in exceptions."""
        return _BuiltinErrorConnection()


class _PasswordCacheConnection(ReferenceConnection):
    # Class-level on purpose: the bug is a password cache keyed without the password.
    _passwords: ClassVar[dict[tuple[str | None, str | None], Any]] = {}

    def connect(self, data: ConnectionData) -> None:
        key = (data.endpoint, data.user)
        cached = self._passwords.get(key)
        if cached is not None:
            data = data.model_copy(update={"password": cached})
        super().connect(data)
        self._passwords[key] = data.password


class PasswordCachePlugin(ReferencePlugin):
    """Bug: connect caches the password per endpoint and user, so a wrong (or rotated)
    password is ignored once a login has succeeded.

    Rule: ``connections.connect-failure-typed``.
    """

    def new_connection(self) -> ReferenceConnection:
        """A connection with a password cache."""
        return _PasswordCacheConnection()


#: Mutant name -> (plugin class, the rule id it is meant to break).
MUTANTS: dict[str, tuple[type, str]] = {
    "session-leak": (SessionLeakPlugin, "connections.closed-after-use"),
    "disconnect-raises": (DisconnectRaisesPlugin, "connections.disconnect-does-not-fail"),
    "connect-generic-exception": (
        ConnectGenericExceptionPlugin,
        "connections.connect-failure-typed",
    ),
    "connect-builtin-error": (ConnectBuiltinErrorPlugin, "connections.connect-failure-typed"),
    "password-cache": (PasswordCachePlugin, "connections.connect-failure-typed"),
}
