"""The endpoints at which fake backup systems are reachable: the simulated network.

A real plugin finds its backend through the network, from the endpoint in its
``ConnectionData``; it never gets a Python reference to it. This process-wide registry
plays that network: :meth:`BackupSystem.register` makes a system reachable at its
endpoint and :func:`simulator.backend.session.connect` looks it up. Every system gets an
endpoint unique within the process (``sim://backup-<n>``, :func:`new_endpoint`), so
worlds that run side by side, or one after another, never see each other's jobs.
"""

from __future__ import annotations

import itertools
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.backend.backup_system import BackupSystem

__all__ = ["is_registered", "lookup", "new_endpoint", "register", "unregister"]

_REGISTRY: dict[str, BackupSystem] = {}
_REGISTRY_LOCK = threading.Lock()
_ENDPOINT_NUMBERS = itertools.count(1)


def new_endpoint() -> str:
    """An endpoint no other system of this process has been given."""
    return f"sim://backup-{next(_ENDPOINT_NUMBERS)}"


def register(system: BackupSystem) -> None:
    """Make ``system`` reachable at its endpoint (``ValueError`` if another holds it)."""
    with _REGISTRY_LOCK:
        other = _REGISTRY.get(system.endpoint)
        if other is not None and other is not system:
            raise ValueError(
                f"endpoint {system.endpoint!r} already belongs to another backup system; "
                "leave endpoint=None to get a unique one"
            )
        _REGISTRY[system.endpoint] = system


def unregister(system: BackupSystem) -> None:
    """Make ``system`` unreachable (idempotent)."""
    with _REGISTRY_LOCK:
        if _REGISTRY.get(system.endpoint) is system:
            del _REGISTRY[system.endpoint]


def is_registered(system: BackupSystem) -> bool:
    """Whether ``system`` is reachable at its endpoint now."""
    with _REGISTRY_LOCK:
        return _REGISTRY.get(system.endpoint) is system


def lookup(endpoint: str | None) -> BackupSystem | None:
    """The system reachable at ``endpoint``, or ``None``."""
    if endpoint is None:
        return None
    with _REGISTRY_LOCK:
        return _REGISTRY.get(endpoint)
