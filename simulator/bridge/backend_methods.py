"""The ``backend/*`` methods: the plugin calling the harness to use the fake backup system.

While it handles a request, a plugin run through the protocol reaches the simulated
backup system by calling the harness back ("the harness plays the network"). This module
is that direction's schema: the methods (:class:`BackendMethod`, one per method of
:class:`simulator.backend.backup_system.BackupSession`), their params, what each returns
(:data:`BACKEND_RESULT_TYPES`), and the error the harness answers a failed one with.
``docs/protocol.md`` describes them for plugin authors; :mod:`simulator.bridge.backend_service`
serves them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from simulator.bridge.jsonrpc import ErrorCode, ErrorObject, _Params
from simulator.contract import (
    BackupConfiguration,
    BackupPolicy,
    BackupResult,
    BackupType,
    Periodicity,
    RestoreResult,
    VirtualMachineInfo,
)

__all__ = [
    "BACKEND_ERROR_KINDS",
    "BACKEND_RESULT_TYPES",
    "BackendMethod",
    "ChangedSinceParams",
    "DeleteJobParams",
    "IdsParams",
    "JobRecord",
    "OpenSessionParams",
    "PolicyParams",
    "PutJobParams",
    "SessionParams",
    "StartBackupParams",
    "StartRestoreParams",
    "VmParams",
    "backend_error",
    "backend_params_model_for",
]


class BackendMethod(StrEnum):
    """The ``backend/*`` requests a plugin may send to use the simulated backup system.

    They mirror :class:`simulator.backend.backup_system.BackupSession` one to one.
    """

    OPEN_SESSION = "backend/openSession"
    CLOSE_SESSION = "backend/closeSession"
    PUT_JOB = "backend/putJob"
    DELETE_JOB = "backend/deleteJob"
    DELETE_JOBS = "backend/deleteJobs"
    JOBS = "backend/jobs"
    START_BACKUP = "backend/startBackup"
    START_RESTORE = "backend/startRestore"
    CHANGED_SINCE = "backend/changedSince"
    GET = "backend/get"
    EXPIRED = "backend/expired"
    POLICY_VMS = "backend/policyVms"


#: The ``data.kind`` values of a backend error (``BackupSystemError.kind``).
BACKEND_ERROR_KINDS: tuple[str, ...] = (
    "unreachable",
    "auth",
    "unavailable",
    "not_found",
    "not_restorable",
    "invalid",
)


class OpenSessionParams(_Params):
    """``backend/openSession``: like ``connect(endpoint, user, password)``; result
    ``{"session": "<id>"}``."""

    endpoint: str | None = None
    user: str | None = None
    password: str | None = None


class SessionParams(_Params):
    """``backend/closeSession``: result null, also for a session already closed."""

    session: str


class PutJobParams(SessionParams):
    """``backend/putJob``: result the job id (string)."""

    vm: VirtualMachineInfo
    policy: BackupPolicy
    configuration: BackupConfiguration


class DeleteJobParams(SessionParams):
    """``backend/deleteJob``: result ``true`` if the job existed."""

    vm_uuid: str
    policy_code: str
    type: BackupType
    subtype: Periodicity


class VmParams(SessionParams):
    """``backend/deleteJobs`` (result: how many, an integer) and ``backend/jobs``
    (result: the jobs)."""

    vm_uuid: str


class StartBackupParams(SessionParams):
    """``backend/startBackup``: result the new backup record."""

    vm: VirtualMachineInfo
    replication: bool = False


class StartRestoreParams(SessionParams):
    """``backend/startRestore``: result the new restore record."""

    vm_uuid: str
    backup_id: str


class ChangedSinceParams(SessionParams):
    """``backend/changedSince``: result the backup records, in creation order."""

    since: AwareDatetime | None = None


class IdsParams(SessionParams):
    """``backend/get`` (result: an object id -> record) and ``backend/expired``
    (result: the expired ids)."""

    ids: tuple[str, ...]


class PolicyParams(SessionParams):
    """``backend/policyVms``: result the uuids of the VMs the backup system protects with
    the policy ``policy_code`` (a job of that policy, or an administrator's change made
    in the backup system directly), sorted and unique."""

    policy_code: str


class JobRecord(BaseModel):
    """A job as ``backend/jobs`` lists it (``JobView``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    vm_uuid: str
    policy_code: str
    configuration: BackupConfiguration
    replication: bool


_BACKEND_PARAMS: dict[str, type[_Params]] = {
    BackendMethod.OPEN_SESSION.value: OpenSessionParams,
    BackendMethod.CLOSE_SESSION.value: SessionParams,
    BackendMethod.PUT_JOB.value: PutJobParams,
    BackendMethod.DELETE_JOB.value: DeleteJobParams,
    BackendMethod.DELETE_JOBS.value: VmParams,
    BackendMethod.JOBS.value: VmParams,
    BackendMethod.START_BACKUP.value: StartBackupParams,
    BackendMethod.START_RESTORE.value: StartRestoreParams,
    BackendMethod.CHANGED_SINCE.value: ChangedSinceParams,
    BackendMethod.GET.value: IdsParams,
    BackendMethod.EXPIRED.value: IdsParams,
    BackendMethod.POLICY_VMS.value: PolicyParams,
}

#: What each backend method returns on the wire.
BACKEND_RESULT_TYPES: dict[str, Any] = {
    BackendMethod.OPEN_SESSION.value: dict[str, str],
    BackendMethod.CLOSE_SESSION.value: None,
    BackendMethod.PUT_JOB.value: str,
    BackendMethod.DELETE_JOB.value: bool,
    BackendMethod.DELETE_JOBS.value: int,
    BackendMethod.JOBS.value: list[JobRecord],
    BackendMethod.START_BACKUP.value: BackupResult,
    BackendMethod.START_RESTORE.value: RestoreResult,
    BackendMethod.CHANGED_SINCE.value: list[BackupResult],
    BackendMethod.GET.value: dict[str, BackupResult],
    BackendMethod.EXPIRED.value: list[str],
    BackendMethod.POLICY_VMS.value: list[str],
}


def backend_params_model_for(method: str) -> type[_Params] | None:
    """The params schema of a ``backend/*`` method, ``None`` for an unknown method."""
    return _BACKEND_PARAMS.get(method)


def backend_error(
    kind: str, message: str, code: ErrorCode = ErrorCode.BACKEND_ERROR
) -> ErrorObject:
    """The error the harness answers a failed ``backend/*`` request with."""
    return ErrorObject(code.value, f"{kind}: {message}", {"kind": kind, "message": message})
