"""The client side of the fake backup system: what a plugin's connection holds.

A plugin obtains a :class:`BackupSession` with :func:`connect`, by endpoint and
credentials, exactly as a real plugin reaches a real backend (see
:mod:`simulator.backend.registry`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from simulator.backend import registry
from simulator.backend.errors import BackupSystemError, BackupSystemFault
from simulator.backend.records import BackupRecord, JobView, RestoreRecord
from simulator.contract import (
    BackupConfiguration,
    BackupPolicy,
    BackupType,
    Periodicity,
    VirtualMachineInfo,
)

if TYPE_CHECKING:
    from simulator.backend.backup_system import BackupSystem

__all__ = ["BackupSession", "connect"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _guarded(
    call: Callable[Concatenate[BackupSession, _P], _R],
) -> Callable[Concatenate[BackupSession, _P], _R]:
    """A session call whose arithmetic overflow is the system's fault, not the caller's.

    The system answers a bad request with :class:`BackupSystemError`; an overflow means
    its own settings or clock left the range it computes in (:class:`BackupSystemFault`).
    """

    @functools.wraps(call)
    def guarded(session: BackupSession, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return call(session, *args, **kwargs)
        except ArithmeticError as exc:
            raise BackupSystemFault(call.__name__, f"{type(exc).__name__}: {exc}") from exc

    return guarded


class BackupSession:
    """A client session with a :class:`BackupSystem`, obtained with :func:`connect`.

    Every call but :meth:`close` raises :class:`BackupSystemError` with kind
    ``unavailable`` during an outage and ``invalid`` once the session is closed.
    Snapshots it returns are taken at the current simulated instant.
    """

    def __init__(self, system: BackupSystem, session_id: str) -> None:
        self._system = system
        self.session_id = session_id

    def __repr__(self) -> str:
        return f"BackupSession({self.session_id!r})"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self.session_id not in self._system._sessions

    def close(self) -> None:
        """End the session. Always succeeds, also during an outage, and is idempotent."""
        self._system._close_session(self.session_id)

    @_guarded
    def put_job(
        self,
        vm: VirtualMachineInfo,
        policy: BackupPolicy,
        configuration: BackupConfiguration,
        *,
        retention_s: float | None = None,
    ) -> str:
        """Create or replace the job (vm, policy code, type, subtype); return its job id.

        Putting the same job again changes nothing. Putting a changed one (configuration
        or replication) replaces its timing from now on; a run of it that was due but not
        yet started is cancelled. Raises ``not_found`` for a VM the fleet does not know and
        ``invalid`` for sources naming disks the VM lacks.

        ``retention_s`` is the job's own retention, as a vendor's plugin sets retention on
        the jobs it creates; ``None`` keeps the system's (the scenario's, by policy code).
        """
        self._system._enter(self)
        return self._system._put_job(vm, policy, configuration, retention_s)

    @_guarded
    def delete_job(
        self, vm_uuid: str, policy_code: str, type: BackupType, subtype: Periodicity
    ) -> bool:
        """Delete one job; ``False`` if there was none (deleting is idempotent)."""
        self._system._enter(self)
        return self._system._delete_job((vm_uuid, policy_code, type, subtype))

    @_guarded
    def delete_jobs(self, vm_uuid: str) -> int:
        """Delete every job of a VM; return how many there were."""
        self._system._enter(self)
        keys = sorted(self._system._vm_jobs.get(vm_uuid, {}))
        for key in keys:
            self._system._delete_job(key)
        return len(keys)

    @_guarded
    def jobs(self, vm_uuid: str) -> list[JobView]:
        """The jobs of a VM, ordered by (policy code, type, subtype)."""
        self._system._enter(self)
        jobs = self._system._vm_jobs.get(vm_uuid, {})
        return [
            JobView(vm_uuid, key[1], jobs[key].configuration, jobs[key].replication)
            for key in sorted(jobs)
        ]

    @_guarded
    def start_backup(self, vm: VirtualMachineInfo, *, replication: bool) -> BackupRecord:
        """Start an on-demand COMPLETE backup of every disk of ``vm`` now."""
        now = self._system._enter(self)
        return self._system._start_backup(vm, replication, now)

    @_guarded
    def start_restore(self, vm_uuid: str, backup_id: str) -> RestoreRecord:
        """Start restoring ``vm_uuid`` from ``backup_id`` now.

        Raises ``not_found`` for an unknown id, a restore id or another VM's backup, and
        ``not_restorable`` for a backup that is not DONE or has expired.
        """
        now = self._system._enter(self)
        return self._system._start_restore(vm_uuid, backup_id, now)

    @_guarded
    def changed_since(
        self, since: datetime | None, *, include_expired: bool = False
    ) -> list[BackupRecord]:
        """Backups created, or turned final, at or after ``since`` (inclusive).

        Also those with a restore created or turned final at or after ``since``. With
        ``since=None``: every backup not yet expired (an expired backup is purged from the
        catalogue, though :meth:`get` still answers it). Ordered by creation, then id. Costs
        O(results in the window), through indexes on creation and finish instants.
        ``include_expired`` (with ``since=None``): also the expired backups not yet purged,
        as a backup system that shows a removed restore point until its cleanup does.
        """
        now = self._system._enter(self)
        return self._system._changed_since(since, now, include_expired)

    @_guarded
    def restores_since(self, since: datetime | None) -> list[RestoreRecord]:
        """Restores created at or after ``since`` (inclusive; with ``None``, those of every
        backup not yet expired), ordered by creation, then id: the restores inside the
        backups of :meth:`changed_since`, in O(restores in the window)."""
        now = self._system._enter(self)
        return self._system._restores_since(since, now)

    @_guarded
    def get(self, ids: Iterable[str]) -> dict[str, BackupRecord]:
        """The current record of each id asked about; a restore id maps to its backup.

        Unknown ids are absent. Keys follow the order of ``ids``, without duplicates.
        """
        now = self._system._enter(self)
        return self._system._get(ids, now)

    @_guarded
    def policy_vms(self, policy_code: str) -> list[str]:
        """The uuids of the VMs the system protects with ``policy_code`` now, sorted.

        A VM is protected by a policy while it has a job of it: put through a session,
        or by an administrator in the backup system directly.
        """
        self._system._enter(self)
        return self._system._policy_members(policy_code)

    @_guarded
    def expired(self, ids: Iterable[str]) -> list[str]:
        """The backup ids among ``ids`` whose expiration date has passed, in order, deduplicated."""
        now = self._system._enter(self)
        return self._system._expired(ids, now)


def connect(endpoint: str | None, user: str | None, password: str | None) -> BackupSession:
    """Open a session with the backup system registered at ``endpoint``.

    Raises :class:`BackupSystemError`: ``unreachable`` if no system is registered there,
    ``unavailable`` during an outage, ``auth`` for wrong credentials.
    """
    system = registry.lookup(endpoint)
    if system is None:
        raise BackupSystemError(
            "unreachable",
            "no backup system answers at that endpoint; check the backup manager's "
            "endpoint (a simulated world's system must be registered)",
        )
    return system._open_session(user, password)
