"""Online checkers: they watch a world's plugin calls and checks as the run goes.

Checkers work black-box on any plugin: they see only what the platform sees (the
calls, their arguments and returns, and the platform's own state), plus the scenario's
declared faults. Rules that need the fake backup system's ground truth are in
:mod:`conformance.rules.audit`. Memory stays bounded by the results seen, stored compactly;
nothing here keeps a plugin's return values beyond the call that produced them.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conformance.findings import Sink
from simulator.backend.schedule import occurrences, periods
from simulator.contract import (
    BackupPluginError,
    BackupResult,
    BackupSchedule,
    Operation,
    RestoreResult,
    ResultState,
)
from simulator.platform.core import CheckRecord
from simulator.platform.invoker import CONSTRUCTOR, VALIDATE, CallRecord
from simulator.world import World

__all__ = [
    "BACKEND_DOWN_CODES",
    "CallChecker",
    "OnDemandChecker",
    "PollChecker",
    "ScheduleChecker",
    "Seen",
]

_TYPE_TOKEN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
#: Codes that fit a failure of the backup system itself.
BACKEND_DOWN_CODES = frozenset(
    {BackupPluginError.BACKEND.value, BackupPluginError.CONNECTION.value, "TIMEOUT"}
)
_VF_OPS = frozenset(
    {
        Operation.APPLY_SCHEDULE.value,
        Operation.APPLY_NEW_SCHEDULE.value,
        Operation.REMOVE_SCHEDULE.value,
        Operation.EXECUTE_BACKUP.value,
        Operation.EXECUTE_RESTORE.value,
    }
)
_POLL_OPS = frozenset({Operation.LIST_RESULTS.value, Operation.GET_EXPIRED_RESULTS.value})
_STATE_RANK = {
    ResultState.IN_PROGRESS: 0,
    ResultState.DONE: 1,
    ResultState.FAILED: 1,
    ResultState.UNKNOWN: 1,
}


class Outages:
    """The scenario's declared backup-system outage windows, in simulated seconds."""

    def __init__(self, world: World) -> None:
        # The world's own list: outages declared during the run are seen too.
        self.windows = world.outages

    def contains(self, t: float) -> bool:
        """True when the backup system is down at ``t``."""
        return any(a <= t < b for a, b in self.windows)

    def overlaps(self, a: float, b: float) -> bool:
        """True when [a, b] touches an outage."""
        return any(a < wb and b >= wa for wa, wb in self.windows)


@dataclass(slots=True)
class Seen:
    """What the platform has been told about one result, across all answers."""

    vm: str
    type: str
    on_demand: bool
    state: ResultState
    creation_s: float
    finish_s: float | None
    expiration_s: float | None
    first_seq: int
    final_seen: bool = False
    polls: list[int] = field(default_factory=list)


class CallChecker:
    """Rules about every single call: exception types, return types, deadlines, ..."""

    def __init__(self, sink: Sink, world: World, *, isolated: bool) -> None:
        self.sink = sink
        self.world = world
        self.outages = Outages(world)
        self.isolated = isolated
        self.plugin = world.plugin_class
        self.unsupported = frozenset(getattr(self.plugin, "unsupported_operations", ()))
        self.default_properties = world.scenario.platform.properties.mode == "default"

    def attach(self, world: World) -> None:
        """Register on the world's invoker."""
        world.invoker.observers.append(self.on_call)
        self.static_checks()

    def static_checks(self) -> None:
        """Rules that need only the plugin class."""
        sink = self.sink
        meta = getattr(self.plugin, "metadata", None)
        sink.exercise("startup.metadata-well-formed")
        problems = []
        if meta is None:
            problems.append("metadata is missing")
        else:
            if not _TYPE_TOKEN.match(meta.type or ""):
                problems.append(
                    f"type {meta.type!r} is not a lower-case token such as 'veeam10' or 'rubrik'"
                )
            if not (meta.version or "").strip():
                problems.append("version is empty")
            if not meta.friendly_name.strip():
                problems.append("friendly_name is empty")
            if not meta.supported_versions or not all(v.strip() for v in meta.supported_versions):
                problems.append(
                    f"supported_versions {list(meta.supported_versions)!r} must list at least "
                    "one non-empty Abiquo version"
                )
        for problem in problems:
            sink.fail(
                "startup.metadata-well-formed",
                f"plugin metadata: {problem}",
                expected="a non-empty type token, a version and at least one supported version",
                actual=repr(meta),
            )

    def on_call(self, rec: CallRecord) -> None:
        """Judge one call."""
        sink = self.sink
        op = rec.op
        if op in (CONSTRUCTOR, VALIDATE):
            self._lifecycle(rec)
            return
        down = self.outages.contains(rec.start)
        sink.exercise("errors.only-backup-plugin-exception")
        sink.exercise("errors.well-typed-returns")
        sink.exercise("errors.returns-within-deadline")
        if self.isolated:
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
        # Connections.
        sink.exercise("connections.disconnect-does-not-fail")
        if rec.disconnect.startswith("failed"):
            sink.fail(
                "connections.disconnect-does-not-fail",
                f"disconnect() after {op} raised {rec.disconnect.split(':', 1)[1]}",
                at=rec.start,
                calls=[rec],
            )
        if rec.connect.startswith("failed"):
            sink.exercise("connections.connect-failure-typed")
            exc_type = rec.connect.split(":", 1)[1]
            if exc_type != "PluginConnectionError":
                sink.fail(
                    "connections.connect-failure-typed",
                    f"connect() failed with {exc_type}, not PluginConnectionError: {rec.detail}",
                    expected="PluginConnectionError",
                    actual=exc_type,
                    at=rec.start,
                    calls=[rec],
                )
            if not down:
                sink.exercise("startup.connection-constraints-honoured")
                sink.fail(
                    "startup.connection-constraints-honoured",
                    "connect() failed with the connection data the plugin's metadata asks for, "
                    f"while the backup system was up: {rec.detail}",
                    at=rec.start,
                    calls=[rec],
                )
        elif rec.connect == "ok":
            sink.exercise("startup.connection-constraints-honoured")
        # Declared unsupported operations are never called by the platform.
        if any(op == u.value for u in self.unsupported) and not rec.probe and rec.task is not None:
            sink.fail(
                "errors.unsupported-raises-unsupported",
                f"the platform called {op}, which the plugin declares unsupported",
                calls=[rec],
            )
        # A failing backend must surface as an error, from connect or from the operation.
        if down:
            rule = "polling.failure-raises" if op in _POLL_OPS else "errors.backend-failure-raises"
            sink.exercise(rule)
            if rec.outcome == "ok":
                sink.fail(
                    rule,
                    f"{op} returned normally while the backup system was down",
                    expected="BackupPluginException (BACKEND, CONNECTION or TIMEOUT)",
                    actual=f"returned {rec.evidence()['returned']!r}",
                    at=rec.start,
                    calls=[rec],
                )
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
        sink.fail(
            "errors.healthy-backend-succeeds",
            f"{op} failed with {code} while the backup system was up and the request was valid: "
            f"{rec.detail}",
            expected="success",
            actual=f"{code}: {rec.detail}",
            at=rec.start,
            calls=[rec],
        )

    def _lifecycle(self, rec: CallRecord) -> None:
        sink = self.sink
        if self.world.platform.ready.triggered:
            return  # the audit's own probes judge what they build
        if rec.op == CONSTRUCTOR and rec.outcome != "ok":
            sink.fail(
                "startup.validate-passes-with-complete-properties",
                f"building the {rec.component} instance failed: {rec.detail}",
                calls=[rec],
            )
            return
        if rec.op != VALIDATE:
            return
        if self.default_properties:
            sink.exercise("startup.validate-passes-with-complete-properties")
            if rec.outcome != "ok":
                sink.fail(
                    "startup.validate-passes-with-complete-properties",
                    f"validate_configuration failed on the {rec.component} with the complete "
                    f"example properties: {rec.detail}",
                    expected="returns normally",
                    actual=rec.detail,
                    calls=[rec],
                )
        else:
            sink.exercise("startup.validate-raises-configuration-error")
            if rec.outcome == "ok" or rec.error_code == "CONFIGURATION":
                return
            sink.fail(
                "startup.validate-raises-configuration-error",
                f"validate_configuration raised {rec.detail} instead of ConfigurationError",
                expected="ConfigurationError",
                actual=rec.detail,
                calls=[rec],
            )


class PollChecker:
    """Rules about the periodic check: every answer, across answers, and expiry."""

    def __init__(self, sink: Sink, world: World) -> None:
        self.sink = sink
        self.world = world
        self.clock = world.clock
        self.outages = Outages(world)
        self.delay = world.settings.check_delay_s
        self.seen: dict[str, Seen] = {}
        self.restores: dict[str, tuple[ResultState, float, float | None]] = {}
        # Successful polls: (window start, plugin's now), both in simulated seconds.
        self.poll_windows: list[tuple[float | None, float]] = []
        self.reported_expired: dict[str, int] = {}
        self.asked_expired = 0

    def attach(self, world: World) -> None:
        """Register on the invoker and the platform."""
        world.invoker.observers.append(self.on_call)
        world.platform.hooks.check_end.append(self.on_check)

    def _s(self, instant: datetime | None) -> float | None:
        return None if instant is None else self.clock.seconds(instant)

    # ------------------------------------------------------------------ answers

    def observe_result(
        self, r: BackupResult, rec: CallRecord, poll: int | None, *, track: bool = True
    ) -> None:
        """Judge one result in an answer and, with ``track``, fold it into what the platform
        knows (the audit's own listings are judged but not tracked)."""
        sink = self.sink
        now = rec.now
        creation_s = self.clock.seconds(r.creation_date)
        finish_s = self._s(r.finish_date)
        sink.exercise("polling.dates-well-formed")
        sink.exercise("polling.sizes-non-negative")
        problems = []
        if now is not None and r.creation_date > now:
            problems.append(f"creation_date {r.creation_date.isoformat()} is after now")
        if r.finish_date is not None:
            if r.finish_date < r.creation_date:
                problems.append("finish_date is before creation_date")
            if now is not None and r.finish_date > now:
                problems.append(f"finish_date {r.finish_date.isoformat()} is after now")
        elif r.state in (ResultState.DONE, ResultState.FAILED):
            problems.append(f"a {r.state.value} result has no finish_date")
        if r.expiration_date is not None and r.expiration_date <= r.creation_date:
            problems.append("expiration_date is not after creation_date")
        for rs in r.restores:
            if rs.finish_date is not None and rs.finish_date < rs.creation_date:
                problems.append(f"restore {rs.provider_id}: finish_date before creation_date")
            if now is not None and rs.creation_date > now:
                problems.append(f"restore {rs.provider_id}: creation_date after now")
        for problem in problems:
            sink.fail(
                "polling.dates-well-formed",
                f"result {r.provider_id}: {problem}",
                actual=r.model_dump_json(),
                at=rec.start,
                calls=[rec],
            )
        if r.size_bytes < 0:
            sink.fail(
                "polling.sizes-non-negative",
                f"result {r.provider_id} has size_bytes {r.size_bytes}",
                at=rec.start,
                calls=[rec],
            )
        if not r.provider_id:
            sink.fail(
                "polling.states-move-forward",
                "a result has an empty provider_id, so the platform cannot track it",
                calls=[rec],
            )
        if not track:
            return
        seen = self.seen.get(r.provider_id)
        if seen is None:
            seen = Seen(
                vm=r.vm_uuid,
                type=r.type.value,
                on_demand=r.on_demand,
                state=r.state,
                creation_s=creation_s,
                finish_s=finish_s,
                expiration_s=self._s(r.expiration_date),
                first_seq=rec.seq,
            )
            self.seen[r.provider_id] = seen
        else:
            sink.exercise("polling.states-move-forward")
            changes = []
            went_back = _STATE_RANK[r.state] < _STATE_RANK[seen.state]
            if (seen.state.is_final and r.state != seen.state) or went_back:
                changes.append(f"state {seen.state.value} -> {r.state.value}")
            if abs(seen.creation_s - creation_s) > 1e-6:
                changes.append("creation_date changed")
            if seen.state.is_final and seen.finish_s is not None and finish_s != seen.finish_s:
                changes.append("finish_date of a final result changed")
            for change in changes:
                sink.fail(
                    "polling.states-move-forward",
                    f"result {r.provider_id}: {change}",
                    at=rec.start,
                    calls=[rec],
                )
            if not changes:
                seen.state = r.state
                seen.finish_s = finish_s
                seen.expiration_s = self._s(r.expiration_date)
        if poll is not None:
            if not seen.polls or seen.polls[-1] != poll:
                seen.polls.append(poll)
            if r.state.is_final:
                seen.final_seen = True
        for rs in r.restores:
            self._observe_restore(rs, rec)

    def _observe_restore(self, rs: RestoreResult, rec: CallRecord) -> None:
        before = self.restores.get(rs.provider_id)
        finish_s = self._s(rs.finish_date)
        if before is not None:
            self.sink.exercise("polling.states-move-forward")
            state = before[0]
            if state.is_final and rs.state != state:
                self.sink.fail(
                    "polling.states-move-forward",
                    f"restore {rs.provider_id}: state {state.value} -> {rs.state.value}",
                    at=rec.start,
                    calls=[rec],
                )
                return
        self.restores[rs.provider_id] = (rs.state, self.clock.seconds(rs.creation_date), finish_s)

    def on_call(self, rec: CallRecord) -> None:
        """Judge the answers of the CPP's calls (and of the VF's on-demand calls)."""
        if rec.outcome != "ok":
            return
        if rec.op == Operation.EXECUTE_BACKUP.value and isinstance(rec.result, BackupResult):
            self.observe_result(rec.result, rec, None)
        elif rec.probe:
            # The audit's own listings: each answer is judged, but it is not a poll.
            if rec.op == Operation.LIST_RESULTS.value:
                self._judge_answer(rec)
        elif rec.op == Operation.LIST_RESULTS.value and rec.check:
            self._answer(rec)
        elif rec.op == Operation.GET_EXPIRED_RESULTS.value and rec.check:
            self._expired(rec, rec.args[0], rec.result)

    def _answer(self, rec: CallRecord) -> None:
        sink = self.sink
        poll = len(self.poll_windows)
        window, asked = rec.args
        self.poll_windows.append(
            (self._s(window), self.clock.seconds(rec.now) if rec.now else rec.start)
        )
        sink.exercise("polling.unique-ids-per-answer")
        ids: dict[str, BackupResult] = {}
        restore_parents: dict[str, str] = {}
        for r in rec.result:
            if r.provider_id in ids:
                sink.fail(
                    "polling.unique-ids-per-answer",
                    f"provider id {r.provider_id!r} appears twice in one answer",
                    at=rec.start,
                    calls=[rec],
                )
            ids[r.provider_id] = r
            for rs in r.restores:
                restore_parents[rs.provider_id] = r.provider_id
            self.observe_result(r, rec, poll)
        if asked:
            sink.exercise("polling.in-progress-answered")
        for pid in sorted(asked):
            if pid not in ids and pid not in restore_parents:
                sink.fail(
                    "polling.in-progress-answered",
                    f"list_results was asked about {pid!r} and did not answer it",
                    expected=f"a result for {pid} (UNKNOWN if the backup system lost it)",
                    actual="absent from the answer",
                    at=rec.start,
                    calls=[rec],
                )

    def _judge_answer(self, rec: CallRecord) -> None:
        """Per-answer rules only: unique ids and well-formed results."""
        ids: set[str] = set()
        self.sink.exercise("polling.unique-ids-per-answer")
        for r in rec.result:
            if r.provider_id in ids:
                self.sink.fail(
                    "polling.unique-ids-per-answer",
                    f"provider id {r.provider_id!r} appears twice in one answer",
                    at=rec.start,
                    calls=[rec],
                )
            ids.add(r.provider_id)
            self.observe_result(r, rec, None, track=False)

    def _expired(self, rec: CallRecord, asked: list[str], answer: list[str]) -> None:
        sink = self.sink
        sink.exercise("expiry.subset-of-asked")
        asked_set = set(asked)
        seen_ids: set[str] = set()
        for pid in answer:
            if pid not in asked_set:
                sink.fail(
                    "expiry.subset-of-asked",
                    f"get_expired_results returned {pid!r}, which it was not asked about",
                    at=rec.start,
                    calls=[rec],
                )
            if pid in seen_ids:
                sink.fail(
                    "expiry.subset-of-asked",
                    f"get_expired_results returned {pid!r} twice",
                    at=rec.start,
                    calls=[rec],
                )
            seen_ids.add(pid)
            self.reported_expired.setdefault(pid, rec.seq)
        now_s = self.clock.seconds(rec.now) if rec.now else rec.start
        for pid in asked:
            seen = self.seen.get(pid)
            if seen is None or seen.expiration_s is None:
                continue
            if seen.expiration_s <= now_s:
                sink.exercise("expiry.reported-when-due")
                if pid not in seen_ids:
                    sink.fail(
                        "expiry.reported-when-due",
                        f"{pid} expired at {self.clock.at(seen.expiration_s).isoformat()} "
                        "(its own expiration_date) but get_expired_results did not report it",
                        at=rec.start,
                        calls=[rec],
                    )
            elif pid in seen_ids:
                sink.exercise("expiry.live-never-reported")
                sink.fail(
                    "expiry.live-never-reported",
                    f"{pid} was reported expired before its expiration_date "
                    f"{self.clock.at(seen.expiration_s).isoformat()}",
                    at=rec.start,
                    calls=[rec],
                )

    def on_check(self, check: CheckRecord) -> None:
        """A check must fit in the check interval (only a latency model that follows the
        plugin, measured or sampled, can tell)."""
        if check.list_call is None or check.list_call.outcome != "ok":
            return
        if self.world.latency.mode == "fixed":
            self.sink.not_exercisable(
                "polling.fits-interval",
                "simulated call durations are fixed in these scenarios; run `bpcert load` "
                "(measured latency) to judge how long a check takes",
            )
            return
        self.sink.exercise("polling.fits-interval")
        duration = check.end - check.start
        if duration > self.delay:
            self.sink.fail(
                "polling.fits-interval",
                f"check {check.id} took {duration:.1f} s, longer than the check interval of "
                f"{self.delay:.0f} s ({check.results} results, {check.in_progress} asked)",
                expected=f"<= {self.delay:.0f} s",
                actual=f"{duration:.1f} s",
                at=check.start,
                calls=[check.list_call, check.expired_call],
            )

    # ------------------------------------------------------------- end-of-run

    def audit_listing(self, listing: list[BackupResult], rec: CallRecord) -> None:
        """Compare a full listing taken at the end with everything the polls returned."""
        sink = self.sink
        if not self.poll_windows:
            sink.not_exercisable("polling.window-complete", "no successful check ran")
            return
        starts = [w[1] for w in self.poll_windows]
        last_poll_now = starts[-1]
        for r in listing:
            pid = r.provider_id
            seen = self.seen.get(pid)
            creation_s = self.clock.seconds(r.creation_date)
            finish_s = self._s(r.finish_date)
            # Window completeness: every successful poll whose window covers the creation
            # (or the turn to final) must have returned the result.
            instants = [creation_s]
            if r.state.is_final and finish_s is not None:
                instants.append(finish_s)
            for rs in r.restores:
                instants.append(self.clock.seconds(rs.creation_date))
                if rs.state.is_final and rs.finish_date is not None:
                    instants.append(self.clock.seconds(rs.finish_date))
            for t in instants:
                for p in self._covering_polls(t, starts):
                    sink.exercise("polling.window-complete")
                    if seen is None or p not in seen.polls:
                        window = self.poll_windows[p][0]
                        sink.fail(
                            "polling.window-complete",
                            f"result {pid} (created {r.creation_date.isoformat()}, state "
                            f"{r.state.value}) changed at {self.clock.at(t).isoformat()}, "
                            f"inside the window of check #{p + 1} "
                            f"[{'-' if window is None else self.clock.at(window).isoformat()}, "
                            f"{self.clock.at(self.poll_windows[p][1]).isoformat()}], "
                            "but that check's answer did not include it",
                            at=t,
                            calls=[rec],
                        )
                        break
            # No lost results: final at the last poll means the platform saw it final.
            if r.state.is_final and finish_s is not None and finish_s <= last_poll_now:
                sink.exercise("polling.no-lost-results")
                if seen is None or not seen.final_seen:
                    sink.fail(
                        "polling.no-lost-results",
                        f"result {pid} of VM {r.vm_uuid} became {r.state.value} at "
                        f"{r.finish_date.isoformat() if r.finish_date else '?'}, before the "
                        f"last check at {self.clock.at(last_poll_now).isoformat()}, but no "
                        "poll ever returned it as final",
                        at=finish_s,
                        calls=[rec],
                    )

    def _covering_polls(self, t: float, starts: list[float]) -> list[int]:
        """Successful polls whose window [last_check_date, now] contains ``t``."""
        first = bisect_left(starts, t)
        out = []
        for p in range(first, min(first + 2, len(starts))):
            window, now = self.poll_windows[p]
            if (window is None or window <= t) and t <= now:
                out.append(p)
        return out


# ------------------------------------------------------------------ on demand


class OnDemandChecker:
    """Rules about execute_backup and execute_restore as the Virtual Factory calls them."""

    def __init__(self, sink: Sink, world: World, polls: PollChecker) -> None:
        self.sink = sink
        self.world = world
        self.polls = polls
        self.on_demand: dict[str, CallRecord] = {}
        #: Restore id the plugin returned -> (backup id the platform asked for, the call).
        self.restores: dict[str, tuple[str, CallRecord]] = {}

    def attach(self, world: World) -> None:
        """Register on the invoker."""
        world.invoker.observers.append(self.on_call)

    def on_call(self, rec: CallRecord) -> None:
        """Judge the results of on-demand backups and restores."""
        if rec.outcome != "ok":
            return
        if rec.op == Operation.EXECUTE_BACKUP.value:
            self._backup(rec)
        elif rec.op == Operation.EXECUTE_RESTORE.value:
            self._restore(rec)

    def _backup(self, rec: CallRecord) -> None:
        sink = self.sink
        rule = "on-demand.backup-result-well-formed"
        sink.exercise(rule)
        r: BackupResult = rec.result
        vm, options = rec.args
        problems = []
        if not r.provider_id.strip():
            problems.append("the provider id is empty")
        elif r.provider_id in self.on_demand or (
            r.provider_id in self.polls.seen and self.polls.seen[r.provider_id].first_seq < rec.seq
        ):
            problems.append(f"provider id {r.provider_id!r} is not new")
        if r.vm_uuid != vm.uuid:
            problems.append(f"vm_uuid is {r.vm_uuid!r}, not the VM backed up ({vm.uuid})")
        if r.state not in (ResultState.IN_PROGRESS, ResultState.DONE):
            problems.append(f"state is {r.state.value}, expected IN_PROGRESS or DONE")
        if not r.on_demand:
            problems.append("on_demand is not set")
        if r.replication != options.replication:
            problems.append(
                f"replication is {r.replication} but {options.replication} was asked "
                "(raise UNSUPPORTED if replication cannot be done)"
            )
        for problem in problems:
            sink.fail(rule, f"execute_backup: {problem}", at=rec.start, calls=[rec])
        if r.provider_id:
            self.on_demand.setdefault(r.provider_id, rec)

    def _restore(self, rec: CallRecord) -> None:
        sink = self.sink
        rule = "on-demand.restore-points-at-backup"
        sink.exercise(rule)
        r: RestoreResult = rec.result
        _, backup_id = rec.args
        problems = []
        if r.backup_provider_id != backup_id:
            problems.append(f"backup_provider_id is {r.backup_provider_id!r}, not {backup_id!r}")
        if not r.provider_id.strip():
            problems.append("the restore's provider id is empty")
        elif r.provider_id == backup_id:
            problems.append("the restore reuses the backup's provider id")
        if r.state not in (ResultState.IN_PROGRESS, ResultState.DONE):
            problems.append(f"state is {r.state.value}, expected IN_PROGRESS or DONE")
        for problem in problems:
            sink.fail(rule, f"execute_restore: {problem}", at=rec.start, calls=[rec])
        if r.provider_id:
            self.restores.setdefault(r.provider_id, (backup_id, rec))

    def audit(self, settle_s: float) -> None:
        """Every on-demand backup started ``settle_s`` before the last check must have been
        seen DONE or FAILED through list_results."""
        sink = self.sink
        rule = "on-demand.backup-reaches-final-state"
        last_poll = self.polls.poll_windows[-1][1] if self.polls.poll_windows else None
        for pid, rec in self.on_demand.items():
            if last_poll is None or rec.start + settle_s > last_poll:
                continue
            sink.exercise(rule)
            seen = self.polls.seen.get(pid)
            done_or_failed = seen is not None and seen.state in (
                ResultState.DONE,
                ResultState.FAILED,
            )
            if seen is None or not seen.final_seen or not done_or_failed:
                state = seen.state.value if seen else "never listed"
                sink.fail(
                    rule,
                    f"on-demand backup {pid} started at {rec.start:.0f} s never reached DONE "
                    f"or FAILED through list_results by the last check ({state})",
                    at=rec.start,
                    calls=[rec],
                )
        if not self.on_demand:
            sink.not_exercisable(rule, "no on-demand backup succeeded in this run")


# ------------------------------------------------------------------ schedules


@dataclass(slots=True)
class _Segment:
    start: float
    schedule: BackupSchedule | None
    origin: str  # apply | new | remove | repeat | uncertain
    previous: BackupSchedule | None
    call: CallRecord


class ScheduleChecker:
    """Do scheduled backups appear when, and only when, the applied schedule says?"""

    def __init__(self, sink: Sink, world: World, polls: PollChecker) -> None:
        self.sink = sink
        self.world = world
        self.polls = polls
        self.clock = world.clock
        self.tolerance = world.scenario.platform.tolerance
        self.outages = Outages(world)
        self.segments: dict[str, list[_Segment]] = {}

    def attach(self, world: World) -> None:
        """Register on the invoker."""
        world.invoker.observers.append(self.on_call)

    def on_call(self, rec: CallRecord) -> None:
        """Follow each VM's applied schedule from the Virtual Factory's calls."""
        op = rec.op
        if rec.component != "virtualfactory" or op not in (
            Operation.APPLY_SCHEDULE.value,
            Operation.APPLY_NEW_SCHEDULE.value,
            Operation.REMOVE_SCHEDULE.value,
        ):
            return
        vm = rec.args[0].uuid
        segs = self.segments.setdefault(vm, [])
        current = segs[-1].schedule if segs else None
        if rec.outcome == "error":
            return  # refused: the VM's schedule is unchanged
        if rec.outcome != "ok":
            segs.append(_Segment(rec.start, None, "uncertain", current, rec))
            return
        if op == Operation.APPLY_SCHEDULE.value:
            schedule: BackupSchedule | None = rec.args[1]
            origin = "repeat" if (segs and segs[-1].schedule == schedule) else "apply"
        elif op == Operation.APPLY_NEW_SCHEDULE.value:
            schedule = rec.args[2]
            origin = "repeat" if (segs and segs[-1].schedule == schedule) else "new"
        else:
            schedule, origin = None, "remove"
        if origin == "repeat":
            segs.append(_Segment(rec.start, schedule, "repeat", current, rec))
            return
        if schedule is not None and not schedule.policies:
            schedule = None
        segs.append(_Segment(rec.start, schedule, origin, current, rec))

    # ------------------------------------------------------------------ audit

    def audit(self, end_s: float, listing: list[BackupResult] | None = None) -> None:
        """Match scheduled results (polled, or in the end-of-run ``listing``) against each
        VM's schedule segments."""
        by_vm: dict[str, list[tuple[float, str, str]]] = {}
        for pid, seen in self.polls.seen.items():
            if not seen.on_demand:
                by_vm.setdefault(seen.vm, []).append((seen.creation_s, seen.type, pid))
        for r in listing or ():
            if not r.on_demand and r.provider_id not in self.polls.seen:
                by_vm.setdefault(r.vm_uuid, []).append(
                    (self.clock.seconds(r.creation_date), r.type.value, r.provider_id)
                )
        for results in by_vm.values():
            results.sort()
        vms = sorted(set(self.segments) | set(by_vm))
        for vm in vms:
            self._audit_vm(vm, self.segments.get(vm, []), by_vm.get(vm, []), end_s)

    def _windows(self, segs: list[_Segment], end_s: float) -> list[tuple[float, float, _Segment]]:
        out = []
        for i, seg in enumerate(segs):
            b = segs[i + 1].start if i + 1 < len(segs) else end_s
            out.append((seg.start, min(b, end_s), seg))
        return out

    def _audit_vm(
        self,
        vm: str,
        segs: list[_Segment],
        results: list[tuple[float, str, str]],
        end_s: float,
    ) -> None:
        sink = self.sink
        tol = self.tolerance
        windows = self._windows(segs, end_s)
        consumed: set[str] = set()
        creations = [r[0] for r in results]
        matched_occurrence: dict[tuple[str, float], list[str]] = {}

        def take(type_: str, lo: float, hi: float) -> str | None:
            i = bisect_left(creations, lo)
            j = bisect_right(creations, hi)
            for k in range(i, j):
                _, t, pid = results[k]
                if t == type_ and pid not in consumed:
                    consumed.add(pid)
                    return pid
            return None

        # 1. Every expected occurrence produced a backup. Each expectation is a window
        # [lo, hi] for a backup of one type; matching windows to backups by earliest window
        # end, each taking the earliest free backup inside it, is optimal, so a timeless
        # configuration's wide window never steals a timed occurrence's backup.
        expectations: list[tuple[float, float, str, str, Any, float | None]] = []
        for a, b, seg in windows:
            if seg.schedule is None:
                continue
            previous_configs = set()
            if seg.origin == "new" and seg.previous is not None:
                previous_configs = {(p.code, c) for p, c in seg.previous.configurations()}
            for policy, config in seg.schedule.configurations():
                added_or_changed = seg.origin == "new" and (policy.code, config) not in (
                    previous_configs
                )
                rule = (
                    "schedules.new-schedule-replaces-old"
                    if added_or_changed
                    else "schedules.backups-at-scheduled-times"
                )
                if seg.origin == "repeat":
                    sink.exercise("schedules.idempotent")
                start, stop = self.clock.at(a), self.clock.at(b)
                type_ = config.type.value
                if config.time is None:
                    for p_start, p_end in periods(config, start, stop):
                        ps, pe = self.clock.seconds(p_start), self.clock.seconds(p_end)
                        if ps < a or pe > b or self.outages.overlaps(ps - tol, pe):
                            continue
                        message = (
                            f"VM {vm}: no {type_} backup in the period {p_start.isoformat()} .. "
                            f"{p_end.isoformat()} of policy {policy.code}'s "
                            f"{config.subtype.value} configuration without time"
                        )
                        expectations.append((pe + tol, ps, type_, rule, (message, seg), None))
                    continue
                for occ in occurrences(config, start, stop):
                    o = self.clock.seconds(occ)
                    if o <= a or o + tol > b or self.outages.overlaps(o - tol, o + tol):
                        continue
                    message = (
                        f"VM {vm}: policy {policy.code} {type_} {config.subtype.value} "
                        f"'{config.time}' should have fired at {occ.isoformat()} but no "
                        f"backup was created within {tol / 60:.0f} min of it"
                    )
                    expectations.append((o + tol, o, type_, rule, (message, seg), o))
        expectations.sort(key=lambda e: (e[0], e[1], e[2]))
        for hi, lo, type_, rule, (message, seg), occurrence in expectations:
            sink.exercise(rule)
            pid = take(type_, lo, hi)
            if pid is None:
                sink.fail(
                    rule,
                    message,
                    expected=f"a {type_} backup created in [{self.clock.at(lo).isoformat()}, "
                    f"{self.clock.at(hi).isoformat()}]",
                    actual="none listed",
                    at=lo,
                    calls=[seg.call],
                )
            elif occurrence is not None:
                matched_occurrence.setdefault((type_, occurrence), []).append(pid)
        # 2. Every scheduled backup belongs to an occurrence of a schedule then active.
        for c, type_, pid in results:
            if pid in consumed:
                continue
            verdict = self._explain(c, type_, windows, matched_occurrence)
            if verdict is None:
                continue
            rule, message = verdict
            sink.fail(
                rule,
                f"VM {vm}: scheduled {type_} backup {pid} created at "
                f"{self.clock.at(c).isoformat()} {message}",
                at=c,
                calls=[w[2].call for w in windows if w[0] <= c][-1:],
            )

    def _explain(
        self,
        c: float,
        type_: str,
        windows: list[tuple[float, float, _Segment]],
        matched: dict[tuple[str, float], list[str]],
    ) -> tuple[str, str] | None:
        """None if the backup at ``c`` is explained by an active schedule, else (rule, why)."""
        tol = self.tolerance
        duplicate_of: tuple[str, float] | None = None
        for a, b, seg in windows:
            if seg.schedule is None or seg.origin == "uncertain":
                if seg.origin == "uncertain" and a <= c:
                    return None  # an indeterminate call: the platform cannot know
                continue
            for _, config in seg.schedule.configurations():
                if config.type.value != type_:
                    continue
                if config.time is None:
                    if a - tol <= c <= b + tol:
                        return None
                    continue
                lo = self.clock.at(max(a, c - tol) - 1e-6)
                hi = self.clock.at(min(b, c) + 1e-6)
                for occ in occurrences(config, lo, hi):
                    o = self.clock.seconds(occ)
                    if o <= c <= o + tol:
                        if not matched.get((type_, o)):
                            return None
                        duplicate_of = (type_, o)
        if duplicate_of is not None:
            self.sink.exercise("schedules.idempotent")
            return (
                "schedules.idempotent",
                f"duplicates backup {matched[duplicate_of][0]} of the same occurrence "
                f"{self.clock.at(duplicate_of[1]).isoformat()}",
            )
        active = [w for w in windows if w[0] <= c]
        if not active:
            return (
                "schedules.backups-at-scheduled-times",
                "but no schedule had been applied to the VM",
            )
        a, b, seg = active[-1]
        if seg.origin == "remove":
            self.sink.exercise("schedules.removed-schedule-stops")
            return (
                "schedules.removed-schedule-stops",
                f"after remove_schedule at {self.clock.at(a).isoformat()}",
            )
        if seg.origin == "new":
            return (
                "schedules.new-schedule-replaces-old",
                f"matches no configuration of the schedule applied by apply_new_schedule at "
                f"{self.clock.at(a).isoformat()} (an old configuration still firing?)",
            )
        return (
            "schedules.backups-at-scheduled-times",
            "matches no occurrence of the applied schedule",
        )

    def removal_exercised(self, end_s: float) -> None:
        """Mark removal/replacement rules exercised where the old schedule would have fired."""
        for segs in self.segments.values():
            for i, seg in enumerate(segs):
                if seg.origin not in ("remove", "new") or seg.previous is None:
                    continue
                b = segs[i + 1].start if i + 1 < len(segs) else end_s
                for _, config in seg.previous.configurations():
                    if config.time is None:
                        continue
                    if occurrences(config, self.clock.at(seg.start), self.clock.at(b)):
                        rule = (
                            "schedules.removed-schedule-stops"
                            if seg.origin == "remove"
                            else "schedules.new-schedule-replaces-old"
                        )
                        self.sink.exercise(rule)
                        break
