"""The harness's answers to a plugin process's ``backend/*`` requests.

A plugin in any language reaches the fake backup system through these requests, so that
it can be judged by the data rules; :class:`BackendService` answers them from the
in-process system (:mod:`simulator.backend.backup_system`).
"""

from __future__ import annotations

from typing import Any

from simulator.backend.backup_system import (
    BackupRecord,
    BackupSession,
    BackupSystemError,
    JobView,
    RestoreRecord,
    connect,
)
from simulator.bridge.protocol import (
    BackendMethod,
    ErrorCode,
    ErrorObject,
    Request,
    WireError,
    backend_error,
    backend_params_model_for,
    dump_model,
    encode_error,
    encode_result,
    instant_to_wire,
    load_model,
)

__all__ = ["BackendService", "backup_record_to_wire", "restore_record_to_wire"]


def backup_record_to_wire(record: BackupRecord) -> dict[str, Any]:
    """A backup system record as the wire JSON of a :class:`BackupResult`."""
    return {
        "provider_id": record.provider_id,
        "vm_uuid": record.vm_uuid,
        "name": record.name,
        "type": record.type.value,
        "state": record.state.value,
        "creation_date": instant_to_wire(record.creation_date),
        "finish_date": _optional_instant(record.finish_date),
        "expiration_date": _optional_instant(record.expiration_date),
        "size_bytes": record.size_bytes,
        "replication": record.replication,
        "on_demand": record.on_demand,
        "message": record.message,
        "restores": [restore_record_to_wire(r) for r in record.restores],
    }


def restore_record_to_wire(record: RestoreRecord) -> dict[str, Any]:
    """A backup system restore record as the wire JSON of a :class:`RestoreResult`."""
    return {
        "provider_id": record.provider_id,
        "backup_provider_id": record.backup_provider_id,
        "state": record.state.value,
        "creation_date": instant_to_wire(record.creation_date),
        "finish_date": _optional_instant(record.finish_date),
        "message": record.message,
    }


def _optional_instant(value: Any) -> str | None:
    return None if value is None else instant_to_wire(value)


def _job_to_wire(job: JobView) -> dict[str, Any]:
    return {
        "vm_uuid": job.vm_uuid,
        "policy_code": job.policy_code,
        "configuration": dump_model(job.configuration),
        "replication": job.replication,
    }


class BackendService:
    """Answers one plugin process's ``backend/*`` requests from the fake backup system.

    Sessions are reached through :func:`simulator.backend.backup_system.connect`, by the
    endpoint the plugin names, exactly as an in-process plugin reaches them. The
    service remembers the sessions the process opened and did not close, so that they
    can be closed when the harness kills the process (as a backend sees a dropped
    connection); a process that exits on its own keeps its leaks.
    """

    def __init__(self) -> None:
        self._sessions: dict[str, BackupSession] = {}
        self.violations: list[str] = []

    def handle(self, request: Request) -> bytes:
        """The response line for one request of the plugin."""
        assert request.id is not None
        try:
            result = self._dispatch(request)
        except BackupSystemError as exc:
            return encode_error(request.id, backend_error(exc.kind, exc.message))
        except _BadBackendRequest as exc:
            self.violations.append(f"{request.method}: {exc.error.message}")
            return encode_error(request.id, exc.error)
        return encode_result(request.id, result)

    def close_all(self) -> None:
        """Close every session still open (the process is gone)."""
        sessions, self._sessions = self._sessions, {}
        for session_id in sorted(sessions):
            sessions[session_id].close()

    def _session(self, session_id: str) -> BackupSession:
        session = self._sessions.get(session_id)
        if session is None:
            raise BackupSystemError(
                "invalid",
                f"session {session_id!r} is not open; open one with backend/openSession",
            )
        return session

    def _dispatch(self, request: Request) -> Any:
        model = backend_params_model_for(request.method)
        if model is None:
            known = ", ".join(m.value for m in BackendMethod)
            raise _BadBackendRequest(
                ErrorObject(
                    ErrorCode.METHOD_NOT_FOUND.value,
                    f"the harness has no method {request.method!r}; plugins may call {known}",
                    {"kind": "invalid", "message": f"unknown method {request.method!r}"},
                )
            )
        try:
            params: Any = load_model(model, request.params, "params")
        except WireError as exc:
            raise _BadBackendRequest(
                backend_error("invalid", str(exc), ErrorCode.INVALID_PARAMS)
            ) from None
        method = BackendMethod(request.method)
        if method is BackendMethod.OPEN_SESSION:
            session = connect(params.endpoint, params.user, params.password)
            wire_id = session.session_id
            if wire_id in self._sessions:  # the same id from another backup system
                wire_id = f"{wire_id}#{len(self._sessions) + 1}"
            self._sessions[wire_id] = session
            return {"session": wire_id}
        if method is BackendMethod.CLOSE_SESSION:
            closing = self._sessions.pop(params.session, None)
            if closing is not None:
                closing.close()
            return None
        session = self._session(params.session)
        if method is BackendMethod.PUT_JOB:
            return session.put_job(params.vm, params.policy, params.configuration)
        if method is BackendMethod.DELETE_JOB:
            return session.delete_job(
                params.vm_uuid, params.policy_code, params.type, params.subtype
            )
        if method is BackendMethod.DELETE_JOBS:
            return session.delete_jobs(params.vm_uuid)
        if method is BackendMethod.JOBS:
            return [_job_to_wire(job) for job in session.jobs(params.vm_uuid)]
        if method is BackendMethod.START_BACKUP:
            return backup_record_to_wire(
                session.start_backup(params.vm, replication=params.replication)
            )
        if method is BackendMethod.START_RESTORE:
            return restore_record_to_wire(session.start_restore(params.vm_uuid, params.backup_id))
        if method is BackendMethod.CHANGED_SINCE:
            return [backup_record_to_wire(r) for r in session.changed_since(params.since)]
        if method is BackendMethod.GET:
            return {k: backup_record_to_wire(r) for k, r in session.get(params.ids).items()}
        if method is BackendMethod.POLICY_VMS:
            return session.policy_vms(params.policy_code)
        return session.expired(params.ids)


class _BadBackendRequest(Exception):
    """A backend request the harness cannot even try: unknown method, invalid params."""

    def __init__(self, error: ErrorObject) -> None:
        super().__init__(error.message)
        self.error = error
