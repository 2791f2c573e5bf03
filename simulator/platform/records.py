"""What the platform records of its work: a Virtual Factory :class:`Task` and a results
:class:`CheckRecord`, and the task kinds a user can submit.

Observers get them through the platform's hooks (:mod:`simulator.platform.core`); the
checkers judge them and the trace writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simulator.contract import BackupSchedule, Operation
from simulator.platform.invoker import CallRecord

__all__ = ["PROBE", "TASK_KINDS", "CheckRecord", "Task"]

TASK_KINDS = (
    "DEPLOY",
    "RECONFIGURE",
    "UNDEPLOY",
    "BACKUP_NOW",
    "RESTORE",
    "POWER_OFF",
    "POWER_ON",
)
#: A harness-only task: one plugin call under the VM's lock, without the API's
#: preconditions. The conformance audit uses it to probe a plugin (csi-sanity style).
PROBE = "PROBE"


@dataclass(slots=True)
class Task:
    """A Virtual Factory task and what became of it."""

    id: int
    kind: str
    vm_index: int
    vm_uuid: str
    submitted: float
    schedule: BackupSchedule | None = None
    replication: bool = False
    backup_ref: str | None = None
    #: Repeat the schedule call with the same arguments, as after a timeout.
    repeat: bool = False
    backup_id: str | None = None
    started: float | None = None
    ended: float | None = None
    status: str = "queued"
    code: str | None = None
    detail: str | None = None
    lock_wait: float = 0.0
    queue_wait: float = 0.0
    jobs: list[dict[str, Any]] = field(default_factory=list)
    probe_op: Operation | None = None
    probe_args: tuple[Any, ...] = ()
    record: CallRecord | None = None


@dataclass(slots=True)
class CheckRecord:
    """One periodic results check (the CPP's in 4.0.4, the API's per-id one from 4.7).

    For a per-id check, ``last_check_date`` is the ``start`` of ``listNewBackupResults``,
    ``in_progress`` how many ids were asked about one by one, ``results`` how many
    results came back in all, ``calls`` how many calls it made, ``unknown`` how many
    results are held UNKNOWN after it, and ``failed_steps`` the steps that failed.
    """

    id: int
    start: float
    end: float
    last_check_date: datetime | None
    next_last_check_date: datetime | None
    in_progress: int
    results: int
    expired: int
    ok: bool
    list_call: CallRecord | None
    expired_call: CallRecord | None
    calls: int = 0
    unknown: int = 0
    failed_steps: tuple[str, ...] = ()
