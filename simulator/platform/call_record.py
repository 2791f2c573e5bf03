"""What observers see of one plugin call: a :class:`CallRecord`, and its short summaries.

The invoker (:mod:`simulator.platform.invoker`) builds one record a call; the checkers
judge it, the trace summarises it, and a finding quotes its :meth:`~CallRecord.evidence`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from simulator.contract import BackupResult, Operation, RestoreResult

__all__ = ["OUTCOMES", "CallRecord", "Outcome", "summarize_args", "summarize_result"]

Outcome = Literal["ok", "error", "foreign-error", "bad-return", "indeterminate", "crash"]
OUTCOMES: tuple[Outcome, ...] = (
    "ok",
    "error",
    "foreign-error",
    "bad-return",
    "indeterminate",
    "crash",
)


@dataclass(slots=True)
class CallRecord:
    """One plugin call, as observers see it. The trace line summarises it."""

    seq: int
    component: str
    op: str
    vm: str | None
    start: float
    end: float
    wall_ms: float
    outcome: Outcome
    error_code: str | None
    detail: str | None
    args: tuple[Any, ...]
    result: Any
    connect: str
    disconnect: str
    now: datetime | None = None
    task: int | None = None
    check: int | None = None
    protocol_violations: list[str] = field(default_factory=list)
    probe: bool = False

    @property
    def ok(self) -> bool:
        """True when the call returned a well-typed value."""
        return self.outcome == "ok"

    def evidence(self) -> dict[str, Any]:
        """A JSON-able summary for findings."""
        return {
            "seq": self.seq,
            "component": self.component,
            "op": self.op,
            "vm": self.vm,
            "start": round(self.start, 6),
            "end": round(self.end, 6),
            "now": self.now.isoformat() if self.now else None,
            "args": summarize_args(self.op, self.args),
            "outcome": self.outcome,
            "error_code": self.error_code,
            "detail": self.detail,
            "returned": summarize_result(self.result),
        }


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def summarize_args(op: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """A short JSON-able description of a call's arguments."""
    if op == Operation.LIST_RESULTS.value and len(args) == 2:
        ids = sorted(args[1])
        return {
            "last_check_date": _iso(args[0]),
            "in_progress_result_provider_ids": ids[:20],
            "in_progress_count": len(ids),
        }
    if op == Operation.GET_EXPIRED_RESULTS.value and args:
        ids = list(args[0])
        return {"provider_ids": ids[:20], "count": len(ids)}
    if op == Operation.EXECUTE_RESTORE.value and len(args) == 2:
        return {"vm": getattr(args[0], "uuid", None), "backup_id": args[1]}
    if op == Operation.EXECUTE_BACKUP.value and len(args) == 2:
        return {"vm": getattr(args[0], "uuid", None), "replication": args[1].replication}
    if op in (Operation.APPLY_SCHEDULE.value, Operation.APPLY_NEW_SCHEDULE.value) and args:
        schedules = [a.model_dump(mode="json") for a in args[1:]]
        return {"vm": getattr(args[0], "uuid", None), "schedules": schedules}
    if args:
        return {"vm": getattr(args[0], "uuid", None)}
    return {}


def summarize_result(result: Any) -> Any:
    """A short JSON-able description of a call's return value."""
    if type(result) in (BackupResult, RestoreResult):
        return result.model_dump(mode="json")
    if type(result) in (list, tuple):
        if len(result) > 10:
            head = [summarize_result(r) for r in result[:10]]
            return {"count": len(result), "first": head}
        return [summarize_result(r) for r in result]
    if result is None or type(result) in (str, int, float, bool):
        return result
    return f"<{type(result).__name__}>"
