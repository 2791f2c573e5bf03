"""Mutants that break the startup rules (:mod:`conformance.rules.startup`).

Each is the reference plugin with **one** bug of the kind vendors really ship, and names in
its docstring the rule id that should catch it. None of this is an example to follow.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import SecretStr

from conformance.selftest.honest import ListResultsGeneration
from simulator.contract import (
    BackupResult,
    ConfigurationError,
    Connection,
    ConnectionData,
    ConnectionMetadata,
    PluginMetadata,
)
from simulator.reference import (
    REPLICATION_PROPERTY,
    TIMEOUT_PROPERTY,
    ReferenceConnection,
    ReferencePlugin,
)

__all__ = [
    "MUTANTS",
    "CachedFirstListingPlugin",
    "DefaultAccountPlugin",
    "ForgottenConnectionMetadataPlugin",
    "KeyErrorValidatePlugin",
    "LaxValidatePlugin",
    "NoSupportedVersionsPlugin",
    "UndocumentedPropertyPlugin",
    "UpperCaseTypePlugin",
]


_REF_META = ReferencePlugin.metadata


class UpperCaseTypePlugin(ReferencePlugin):
    """Bug: the metadata type is ``"Reference"``, not a lower-case token.

    Rule: ``startup.metadata-well-formed``.
    """

    metadata: ClassVar[PluginMetadata] = _REF_META.model_copy(update={"type": "Reference"})


class NoSupportedVersionsPlugin(ReferencePlugin):
    """Bug: the metadata lists no supported backup-technology version.

    Rule: ``startup.metadata-well-formed``.
    """

    metadata: ClassVar[PluginMetadata] = _REF_META.model_copy(update={"supported_versions": ()})


class UndocumentedPropertyPlugin(ReferencePlugin):
    """Bug: validation requires a licence key that the plugin's own example properties lack,
    so the plugin never loads with its documented configuration.

    Rule: ``startup.validate-passes-with-complete-properties``.
    """

    def validate_configuration(self) -> None:
        """Also demand ``reference.license.key``."""
        super().validate_configuration()
        if not self.context.properties.get("reference.license.key"):
            raise ConfigurationError("reference.license.key is missing")


class KeyErrorValidatePlugin(ReferencePlugin):
    """Bug: validation indexes and converts properties directly, so a missing one raises
    ``KeyError`` and a malformed one ``ValueError`` instead of ``ConfigurationError``.

    Rule: ``startup.validate-raises-configuration-error``.
    """

    def validate_configuration(self) -> None:
        """Read the properties the quick way."""
        if int(self.context.properties[TIMEOUT_PROPERTY]) <= 0:
            raise ConfigurationError(f"{TIMEOUT_PROPERTY} must be positive")
        if self.context.properties[REPLICATION_PROPERTY] not in ("true", "false"):
            raise ConfigurationError(f"{REPLICATION_PROPERTY} must be true or false")


class LaxValidatePlugin(ListResultsGeneration, ReferencePlugin):
    """Bug: validation checks only the timeout; list_results reads the replication setting
    later and fails there (``BACKEND``) when it is missing or invalid.

    Rule: ``startup.validate-detects-missing-properties``.
    """

    def validate_configuration(self) -> None:
        """Check the timeout only."""
        timeout = self.context.properties.get(TIMEOUT_PROPERTY, "")
        if not timeout.strip().isdigit():
            raise ConfigurationError(f"{TIMEOUT_PROPERTY} must be a positive whole number")

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Read every setting first (the replication one is only checked here)."""
        self._settings()
        return super().list_results(connection, last_check_date, in_progress_result_provider_ids)


class ForgottenConnectionMetadataPlugin(ReferencePlugin):
    """Bug: the connection metadata annotation was left out (everything NO_APPLICABLE), so
    the platform passes no endpoint or credentials and every connect fails.

    Rule: ``startup.connection-constraints-honoured``.
    """

    connection_metadata: ClassVar[ConnectionMetadata] = ConnectionMetadata()


class _DefaultAccountConnection(ReferenceConnection):
    def connect(self, data: ConnectionData) -> None:
        if data.user is None or data.password is None:
            data = data.model_copy(update={"user": "admin", "password": SecretStr("secret")})
        super().connect(data)


class DefaultAccountPlugin(ReferencePlugin):
    """Bug: credentials are MANDATORY, but connect quietly falls back to a built-in
    ``admin`` account when the backup manager has none.

    Rule: ``startup.connection-constraints-honoured``.
    """

    def new_connection(self) -> ReferenceConnection:
        """A connection with a default account."""
        return _DefaultAccountConnection()


class CachedFirstListingPlugin(ListResultsGeneration, ReferencePlugin):
    """Bug: the first full listing is cached in instance memory and served for every later
    full listing, so a long-lived instance and a fresh one disagree.

    Rule: ``startup.instances-isolated``.
    """

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        """Serve full listings from the instance's cache."""
        if last_check_date is None and not in_progress_result_provider_ids:
            cached: list[BackupResult] | None = getattr(self, "_full_listing", None)
            if cached is None:
                cached = super().list_results(connection, None, frozenset())
                self._full_listing = cached
            return list(cached)
        return super().list_results(connection, last_check_date, in_progress_result_provider_ids)


#: Mutant name -> (plugin class, the rule id it is meant to break).
MUTANTS: dict[str, tuple[type, str]] = {
    "upper-case-type": (UpperCaseTypePlugin, "startup.metadata-well-formed"),
    "no-supported-versions": (NoSupportedVersionsPlugin, "startup.metadata-well-formed"),
    "undocumented-property": (
        UndocumentedPropertyPlugin,
        "startup.validate-passes-with-complete-properties",
    ),
    "validate-key-error": (KeyErrorValidatePlugin, "startup.validate-raises-configuration-error"),
    "lax-validate": (LaxValidatePlugin, "startup.validate-detects-missing-properties"),
    "forgotten-connection-metadata": (
        ForgottenConnectionMetadataPlugin,
        "startup.connection-constraints-honoured",
    ),
    "default-account": (DefaultAccountPlugin, "startup.connection-constraints-honoured"),
    "cached-first-listing": (CachedFirstListingPlugin, "startup.instances-isolated"),
}
