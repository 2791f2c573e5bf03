"""Errors: what a plugin raises and returns, and how fast.

Online, the checker judges every operational call: only BackupPluginException, the
contract's return types, within the deadline, a fitting code while the backup system is
down, success while it is healthy, and UNSUPPORTED only for what the plugin declares. At
the end it calls each declared unsupported operation directly (``probe``). The
out-of-process rules (no crash, a clean stdout) are here too.
"""

from __future__ import annotations

from typing import Any

from conformance.findings import Sink
from conformance.rules.base import (
    FAKE_BACKEND,
    ISOLATED,
    Checker,
    Context,
    EndOfRun,
    Gen,
    Rule,
    declare,
)
from simulator.contract import BackupPluginError, BackupSchedule, OnDemandBackupOptions, Operation
from simulator.platform.invoker import CONSTRUCTOR, VALIDATE, CallRecord

__all__ = [
    "BACKEND_DOWN_CODES",
    "POLL_OPS",
    "RULES",
    "ErrorChecker",
    "explain_no_outage",
    "judge_backend_down",
]

RULES: tuple[Rule, ...] = (
    declare(
        "errors.only-backup-plugin-exception",
        "An operational method raises only BackupPluginException; any other exception type "
        "is a violation.",
    ),
    declare(
        "errors.fitting-error-code",
        "A BackupPluginException carries a code that fits the failure (BACKUP_NOT_FOUND for "
        "an unknown backup, BACKEND/CONNECTION/TIMEOUT when the backend is down, ...).",
    ),
    declare(
        "errors.well-typed-returns",
        "Every operation returns the contract's type: a BackupResult, a RestoreResult, a "
        "list of BackupResult or a list of str.",
    ),
    declare(
        "errors.unsupported-raises-unsupported",
        "A declared unsupported operation raises UNSUPPORTED, and the platform never calls it.",
    ),
    declare(
        "errors.backend-failure-raises",
        "When the backup system fails, a Virtual Factory operation raises "
        "BackupPluginException instead of pretending to succeed.",
        needs=[FAKE_BACKEND],
    ),
    declare(
        "errors.healthy-backend-succeeds",
        "With the backup system healthy and arguments the contract allows, an operation "
        "succeeds (a refusal is only for what the plugin declares unsupported).",
    ),
    declare(
        "errors.returns-within-deadline",
        "Every call returns within the call deadline.",
    ),
    declare(
        "errors.no-crash",
        "The plugin process never crashes.",
        needs=[ISOLATED],
    ),
    declare(
        "protocol.stdout-clean",
        "An out-of-process plugin writes nothing but protocol messages on stdout.",
        needs=[ISOLATED],
    ),
)

#: Codes that fit a failure of the backup system itself.
BACKEND_DOWN_CODES = frozenset(
    {BackupPluginError.BACKEND.value, BackupPluginError.CONNECTION.value, "TIMEOUT"}
)
#: The Cloud Provider Proxy's polling operations (judged by ``polling.failure-raises``).
POLL_OPS = frozenset({Operation.LIST_RESULTS.value, Operation.GET_EXPIRED_RESULTS.value})


def judge_backend_down(sink: Sink, rule_id: str, rec: CallRecord) -> None:
    """A call made while the backup system was down must not return normally."""
    sink.exercise(rule_id)
    if rec.outcome == "ok":
        sink.fail(
            rule_id,
            f"{rec.op} returned normally while the backup system was down",
            expected="BackupPluginException (BACKEND, CONNECTION or TIMEOUT)",
            actual=f"returned {rec.evidence()['returned']!r}",
            at=rec.start,
            calls=[rec],
        )


def explain_no_outage(ctx: Context, rule_id: str) -> None:
    """Why a rule judged on calls made while the backup system was down went unexercised:
    the reason shown if no call of the run met an outage."""
    if ctx.outages.windows:
        why = "no plugin call it judges ran while the backup system was down"
    else:
        why = (
            "the backup system was never down in this run (the built-in `outage` scenario "
            "takes it down)"
        )
    ctx.sink.not_exercisable(rule_id, why)


class ErrorChecker(Checker):
    """Rules about every single call: exception types, return types, deadlines, codes."""

    rules = RULES

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        # Restores refused as not found / not restorable, judged at the end against what
        # the backup system had removed (a plugin's own backend shows it only then).
        self._refused_restores: list[CallRecord] = []

    def on_call(self, rec: CallRecord) -> None:
        """Judge one call."""
        sink = self.sink
        op = rec.op
        if op in (CONSTRUCTOR, VALIDATE):
            return
        down = self.ctx.outages.contains(rec.start)
        sink.exercise("errors.only-backup-plugin-exception")
        sink.exercise("errors.well-typed-returns")
        sink.exercise("errors.returns-within-deadline")
        if self.ctx.isolated:
            sink.exercise("errors.no-crash")
            sink.exercise("protocol.stdout-clean")
        if rec.outcome == "foreign-error":
            sink.fail(
                "errors.only-backup-plugin-exception",
                f"{op} raised a foreign exception: {rec.detail}",
                expected="only BackupPluginException (PluginConnectionError from connect)",
                actual=rec.detail,
                at=rec.start,
                calls=[rec],
            )
        elif rec.outcome == "bad-return":
            sink.fail(
                "errors.well-typed-returns",
                f"{op} returned the wrong type: {rec.detail}",
                actual=rec.detail,
                at=rec.start,
                calls=[rec],
            )
        elif rec.outcome == "indeterminate":
            sink.fail(
                "errors.returns-within-deadline",
                f"{op} did not return in time: {rec.detail}",
                at=rec.start,
                calls=[rec],
            )
        elif rec.outcome == "crash":
            sink.fail("errors.no-crash", f"{op}: {rec.detail}", at=rec.start, calls=[rec])
        for violation in rec.protocol_violations:
            sink.fail(
                "protocol.stdout-clean",
                f"non-protocol output on stdout during {op}: {violation[:200]!r}",
                at=rec.start,
                calls=[rec],
            )
        # Declared unsupported operations are never called by the platform.
        unsupported = self.ctx.unsupported
        if any(op == u.value for u in unsupported) and not rec.probe and rec.task is not None:
            sink.fail(
                "errors.unsupported-raises-unsupported",
                f"the platform called {op}, which the plugin declares unsupported",
                calls=[rec],
            )
        # A failing backend must surface as an error, from connect or from the operation.
        if down and op not in POLL_OPS:
            judge_backend_down(sink, "errors.backend-failure-raises", rec)
        if rec.outcome == "error" and rec.error_code is not None:
            if down:
                sink.exercise("errors.fitting-error-code")
                if rec.error_code not in BACKEND_DOWN_CODES:
                    sink.fail(
                        "errors.fitting-error-code",
                        f"{op} failed with {rec.error_code} while the backup system was down",
                        expected="BACKEND, CONNECTION or TIMEOUT",
                        actual=rec.error_code,
                        at=rec.start,
                        calls=[rec],
                    )
            elif not rec.probe and (rec.task is not None or rec.check):
                self._healthy_failure(rec)
        elif (
            rec.outcome == "ok"
            and not down
            and not rec.probe
            and (rec.task is not None or rec.check)
        ):
            sink.exercise("errors.healthy-backend-succeeds")

    def _healthy_failure(self, rec: CallRecord) -> None:
        """A platform-issued call failed while the backend was up: allowed only if fitting."""
        sink = self.sink
        sink.exercise("errors.healthy-backend-succeeds")
        op, code = rec.op, rec.error_code
        if code == BackupPluginError.UNSUPPORTED.value:
            # Replication on demand may be unsupported; everything else must be declared.
            if op == Operation.EXECUTE_BACKUP.value and rec.args[1].replication:
                return
            sink.fail(
                "errors.unsupported-raises-unsupported",
                f"{op} raised UNSUPPORTED but the plugin does not declare it unsupported",
                calls=[rec],
                at=rec.start,
            )
            return
        if op == Operation.EXECUTE_RESTORE.value and code in (
            BackupPluginError.BACKUP_NOT_RESTORABLE.value,
            BackupPluginError.BACKUP_NOT_FOUND.value,
        ):
            held = self.world.platform.results.by_id.get(rec.args[1])
            expiry = held.expiration_date if held is not None else None
            if expiry is not None and expiry <= (rec.now or expiry):
                return  # it expired since the platform last looked
            self._refused_restores.append(rec)
            return
        self._unfitting_failure(rec)

    def _unfitting_failure(self, rec: CallRecord) -> None:
        op, code = rec.op, rec.error_code
        self.sink.fail(
            "errors.healthy-backend-succeeds",
            f"{op} failed with {code} while the backup system was up and the request was valid: "
            f"{rec.detail}",
            expected="success",
            actual=f"{code}: {rec.detail}",
            at=rec.start,
            calls=[rec],
        )

    def ground_truth(self, end: EndOfRun) -> None:
        """A restore refused because the backup system had removed the backup is right,
        whatever its date said; one of a backup still held is not."""
        explain_no_outage(self.ctx, "errors.backend-failure-raises")
        removals = self.ctx.removals
        for rec in self._refused_restores:
            now_s = self.world.clock.seconds(rec.now) if rec.now else rec.start
            if removals.state_at(rec.args[1], now_s) == "live":
                self._unfitting_failure(rec)

    def probe(self, end: EndOfRun) -> Gen:
        """Each operation the plugin declares unsupported, called directly: UNSUPPORTED."""
        sink = self.sink
        if not self.ctx.unsupported:
            sink.not_exercisable(
                "errors.unsupported-raises-unsupported",
                "the plugin declares nothing unsupported",
                declared=True,
            )
            return
        deployed = self.ctx.deployed_vms()
        if not deployed:
            return
        i = deployed[0]
        info = self.world.fleet.info(i)
        schedule = self.ctx.platform.vm_schedule.get(info.uuid)
        empty = BackupSchedule()
        args: dict[Operation, tuple[Any, ...]] = {
            Operation.APPLY_SCHEDULE: (info, schedule or empty),
            Operation.APPLY_NEW_SCHEDULE: (info, schedule or empty, schedule or empty),
            Operation.REMOVE_SCHEDULE: (info,),
            Operation.EXECUTE_BACKUP: (info, OnDemandBackupOptions()),
            Operation.EXECUTE_RESTORE: (info, f"bpcert-probe-{self.world.seed}"),
        }
        for op in sorted(self.ctx.unsupported, key=lambda o: o.value):
            if op in args:
                rec = yield from self.ctx.probe_vm(i, op, args[op])
            elif op is Operation.LIST_RESULTS:
                rec = yield from self.ctx.cpp_call(
                    self.ctx.platform.instances["cpp"], op, (None, frozenset())
                )
            else:
                rec = yield from self.ctx.cpp_call(self.ctx.platform.instances["cpp"], op, ([],))
            if rec is None:
                continue
            sink.exercise("errors.unsupported-raises-unsupported")
            if rec.outcome != "error" or rec.error_code != BackupPluginError.UNSUPPORTED.value:
                sink.fail(
                    "errors.unsupported-raises-unsupported",
                    f"{op.value} is declared unsupported but did not raise UNSUPPORTED "
                    f"({rec.outcome} {rec.error_code or ''})",
                    calls=[rec],
                )
