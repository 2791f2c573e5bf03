"""Polling: what the Cloud Provider Proxy's periodic check is told.

Online, the checker judges every ``list_results`` answer (each result, each answer, and
across answers) and folds it into the shared :class:`~conformance.rules.observations.Observations`.
At the end (``audit``) a full listing is compared with everything the polls returned, and
direct probes (``probe``) ask about an id the backup system never had and about a result
created exactly at ``last_check_date``.

Kept whole: it is one capability, and every capability's rules, online check, audit and
probes live in one module so that a rule is one place to read (docs/architecture.md).
The checker is one state, what the polls returned, which the answers build and the audit
and the probes read; split, each half would reach into the other's.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from conformance.rules.base import (
    FAKE_BACKEND,
    MAX_DRAIN_S,
    Checker,
    Context,
    EndOfRun,
    Gen,
    Rule,
    declare,
)
from conformance.rules.errors import POLL_OPS, explain_no_outage, judge_backend_down
from conformance.rules.observations import Seen
from simulator.contract import (
    BackupResult,
    OnDemandBackupOptions,
    Operation,
    RestoreResult,
    ResultState,
)
from simulator.platform.core import CheckRecord
from simulator.platform.invoker import CallRecord

__all__ = ["RULES", "PollChecker"]

_O = Operation
#: How often the window probe asks about its backup until it is final.
_FOLLOW_S = 300.0

_RULES: tuple[Rule, ...] = (
    declare(
        "polling.window-complete",
        "list_results returns every result that turned final at or after last_check_date "
        "(inclusive); one still IN_PROGRESS need appear only as the answer to its asked id.",
        [_O.LIST_RESULTS],
    ),
    declare(
        "polling.in-progress-answered",
        "list_results answers every id it was asked about with its current state (a restore "
        "id with its parent backup).",
        [_O.LIST_RESULTS],
    ),
    declare(
        "polling.unknown-for-lost-ids",
        "An asked id the backup system does not know is answered with state UNKNOWN.",
        [_O.LIST_RESULTS],
    ),
    declare(
        "polling.no-lost-results",
        "No result is ever lost between polls: whatever a full listing shows as final at T, "
        "some poll covering T has returned as final.",
        [_O.LIST_RESULTS],
    ),
    declare(
        "polling.unique-ids-per-answer",
        "No provider id appears twice in one answer.",
        [_O.LIST_RESULTS],
    ),
    declare(
        "polling.states-move-forward",
        "States only move forward and a final result never changes again (state, creation "
        "and finish dates).",
        [_O.LIST_RESULTS],
    ),
    declare(
        "polling.dates-well-formed",
        "Dates are timezone-aware, with creation <= finish <= now, a finish date on every "
        "final result and expiration after creation.",
        [_O.LIST_RESULTS],
    ),
    declare(
        "polling.sizes-non-negative",
        "Sizes are at least 0.",
        [_O.LIST_RESULTS],
    ),
    declare(
        "polling.failure-raises",
        "A backup-system failure raises BackupPluginException from list_results and "
        "get_expired_results; it never returns an empty list as if nothing had happened.",
        [_O.LIST_RESULTS],
        [FAKE_BACKEND],
    ),
    declare(
        "polling.fits-interval",
        "A check (list_results plus get_expired_results) fits in the check interval at the "
        "scenario's fleet size.",
        [_O.LIST_RESULTS],
    ),
)

#: ``listResults`` exists only in ``abiquo-4.0.4``: so do these rules.
RULES: tuple[Rule, ...] = tuple(replace(r, capability="list-results") for r in _RULES)

_STATE_RANK = {
    ResultState.IN_PROGRESS: 0,
    ResultState.DONE: 1,
    ResultState.FAILED: 1,
    ResultState.UNKNOWN: 1,
}


def _after_now(field: str, instant: datetime, now: datetime) -> str:
    """``creation_date X is after now Y (ahead by 1:00:00)``: both instants and the offset.

    A whole-hour offset is the mark of a time-zone bug (a local time read as UTC).
    """
    ahead = instant - now
    return (
        f"{field} {instant.isoformat()} is after now {now.isoformat()}, the instant of "
        f"the call (ahead by {ahead})"
    )


@dataclass(frozen=True)
class _Entry:
    """One backup as the audit compares it with the polls: from a listing or the truth."""

    pid: str
    vm: str
    state: ResultState
    creation_s: float
    finish_s: float | None
    expiration_s: float | None
    #: (creation, finish when final) of each of its restores, in simulated seconds.
    restores: tuple[tuple[float, float | None], ...]
    #: When the backup system lost it, after it turned final (a scenario's lose_backup).
    lost_s: float | None = None

    @classmethod
    def of_result(cls, r: BackupResult, clock: Any) -> _Entry:
        """A listed result (a listing does not say when its results expire)."""
        return cls(
            pid=r.provider_id,
            vm=r.vm_uuid,
            state=r.state,
            creation_s=clock.seconds(r.creation_date),
            finish_s=clock.seconds(r.finish_date) if r.finish_date is not None else None,
            expiration_s=None,
            restores=tuple(
                (
                    clock.seconds(rs.creation_date),
                    clock.seconds(rs.finish_date)
                    if rs.state.is_final and rs.finish_date is not None
                    else None,
                )
                for rs in r.restores
            ),
        )

    def evidence(self, clock: Any) -> dict[str, Any]:
        """The entry as evidence: its id, VM, state and instants."""
        return {
            "provider_id": self.pid,
            "vm": self.vm,
            "state": self.state.value,
            "created": clock.at(self.creation_s).isoformat(),
            "finished": None if self.finish_s is None else clock.at(self.finish_s).isoformat(),
        }


class PollChecker(Checker):
    """Rules about the periodic check: every answer, across answers, and the full listing."""

    rules = RULES

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.clock = self.world.clock
        self.delay = self.world.settings.check_delay_s
        #: Restore id -> (state, creation, finish) as the polls last returned it.
        self.restore_states: dict[str, tuple[ResultState, float, float | None]] = {}

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
            late = _after_now("creation_date", r.creation_date, now)
            system = self.world.backup_system
            # Only a plugin on the fake backup system names its backups by its ids.
            truth = system.truth_backup(r.provider_id) if system.sessions_opened_total else None
            if truth is not None and truth.creation_date != r.creation_date:
                late += (
                    f"; the backup system created it at {truth.creation_date.isoformat()}, so "
                    f"the plugin's date is off by {r.creation_date - truth.creation_date}"
                )
            problems.append(late)
        if r.finish_date is not None:
            if r.finish_date < r.creation_date:
                problems.append("finish_date is before creation_date")
            if now is not None and r.finish_date > now:
                problems.append(_after_now("finish_date", r.finish_date, now))
        elif r.state in (ResultState.DONE, ResultState.FAILED):
            problems.append(f"a {r.state.value} result has no finish_date")
        if r.expiration_date is not None and r.expiration_date <= r.creation_date:
            problems.append("expiration_date is not after creation_date")
        for rs in r.restores:
            if rs.finish_date is not None and rs.finish_date < rs.creation_date:
                problems.append(f"restore {rs.provider_id}: finish_date before creation_date")
            if now is not None and rs.creation_date > now:
                late = _after_now("creation_date", rs.creation_date, now)
                problems.append(f"restore {rs.provider_id}: {late}")
        cause = self.ctx.date_cause(r.provider_id, creation_s) if problems else None
        for problem in problems:
            sink.fail(
                "polling.dates-well-formed",
                f"result {r.provider_id}: {problem}",
                actual=r.model_dump_json(),
                at=rec.start,
                calls=[rec],
                cause=cause,
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
        seen = self.observed.results.get(r.provider_id)
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
            self.observed.results[r.provider_id] = seen
        else:
            sink.exercise("polling.states-move-forward")
            changes = []
            went_back = _STATE_RANK[r.state] < _STATE_RANK[seen.state]
            if (seen.state.is_final and r.state != seen.state) or went_back:
                changes.append(f"state {seen.state.value} -> {r.state.value}")
            cause = None
            # An UNKNOWN answer is about an id the backup system does not know (any
            # more): its dates are placeholders, and only its state counts.
            if abs(seen.creation_s - creation_s) > 1e-6 and r.state is not ResultState.UNKNOWN:
                changes.append(
                    f"creation_date changed from {self.clock.at(seen.creation_s).isoformat()} "
                    f"to {r.creation_date.isoformat()}"
                )
                self.observed.changed_creation_s[r.provider_id] = creation_s
                cause = self.ctx.date_cause(r.provider_id, creation_s)
            if seen.state.is_final and seen.finish_s is not None and finish_s != seen.finish_s:
                changes.append("finish_date of a final result changed")
            for change in changes:
                sink.fail(
                    "polling.states-move-forward",
                    f"result {r.provider_id}: {change}",
                    at=rec.start,
                    calls=[rec],
                    cause=cause,
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
        before = self.restore_states.get(rs.provider_id)
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
        self.restore_states[rs.provider_id] = (
            rs.state,
            self.clock.seconds(rs.creation_date),
            finish_s,
        )

    def on_call(self, rec: CallRecord) -> None:
        """Judge the answers of the CPP's calls (and of the VF's on-demand calls)."""
        if rec.op in POLL_OPS and self.ctx.outages.contains(rec.start):
            judge_backend_down(self.sink, "polling.failure-raises", rec)
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
        elif rec.op == Operation.LIST_NEW_BACKUP_RESULTS.value and rec.check:
            self._new_results(rec)
        elif (
            rec.op == Operation.GET_BACKUP_RESULT.value
            and rec.check
            and isinstance(rec.result, BackupResult)
        ):
            self.observe_result(rec.result, rec, len(self.observed.poll_windows) - 1)

    def _new_results(self, rec: CallRecord) -> None:
        """From 4.7 on: fold a check's ``list_new_backup_results`` answer into what the
        platform knows, so that the other capabilities judge as they do in 4.0.4 (the
        per-id rules themselves are :mod:`conformance.rules.per_id_polling`'s)."""
        (start,) = rec.args
        poll = len(self.observed.poll_windows)
        self.observed.poll_windows.append(
            (self._s(start), self.clock.seconds(rec.now) if rec.now else rec.start)
        )
        for r in rec.result:
            self.observe_result(r, rec, poll)

    def _answer(self, rec: CallRecord) -> None:
        sink = self.sink
        poll = len(self.observed.poll_windows)
        window, asked = rec.args
        self.observed.poll_windows.append(
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
                declared=True,
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

    # ------------------------------------------------------------------ the end

    def ground_truth(self, end: EndOfRun) -> None:
        """Why the backend-failure rule went unexercised, if no call met an outage."""
        explain_no_outage(self.ctx, "polling.failure-raises")

    def audit(self, end: EndOfRun) -> Gen:
        """What the backup system holds against everything the polls returned.

        With the fake backup system that is its own record of every backup it took; for a
        backend the harness cannot see, the plugin's end-of-run full listing.
        """
        truth = self._truth_entries()
        if truth is not None:
            self._audit_entries(truth, end.listing_call, "the backup system's record")
        elif end.listing is not None and end.listing_call is not None:
            listed = [_Entry.of_result(r, self.clock) for r in end.listing]
            self._audit_entries(listed, end.listing_call, "the end-of-run full listing")
        else:
            self.sink.not_exercisable(
                "polling.no-lost-results", "the end-of-run full listing failed"
            )
        yield from ()

    def _truth_entries(self) -> list[_Entry] | None:
        """The fake backup system's backups, or None when the run cannot be judged by them.

        None without the fake backup system, and when the plugin reports ids that the
        backup system does not know (it names results its own way).
        """
        if not self.observed.uses_fake_backend:
            return None
        system = self.world.backup_system
        known = [pid for pid in self.observed.results if system.truth_backup(pid) is not None]
        if self.observed.results and not known:
            return None
        restores: dict[str, list[tuple[float, float | None]]] = {}
        for rs in system.truth_restores():
            finish = self.clock.seconds(rs.planned_finish_date) if rs.state.is_final else None
            restores.setdefault(rs.backup_provider_id, []).append(
                (self.clock.seconds(rs.creation_date), finish)
            )
        entries = []
        for t in system.truth_backups():
            finish_s = self.clock.seconds(t.planned_finish_date) if t.state.is_final else None
            expiration_s = self.clock.seconds(t.expiration_date)
            lost_s = system.lost_at(t.provider_id)
            if lost_s is not None:
                if finish_s is None or finish_s >= lost_s:
                    continue  # lost before it turned final: no poll could show it final
                expiration_s = min(expiration_s, lost_s)  # gone since: no poll need list it
            entries.append(
                _Entry(
                    pid=t.provider_id,
                    vm=t.vm_uuid,
                    state=t.state,
                    creation_s=self.clock.seconds(t.creation_date),
                    finish_s=finish_s,
                    expiration_s=expiration_s,
                    restores=tuple(restores.get(t.provider_id, ())),
                    lost_s=lost_s,
                )
            )
        return entries

    def probe(self, end: EndOfRun) -> Gen:
        """An id the backup system never had, and a result created at last_check_date."""
        yield from self._unknown_id_probe()
        yield from self._window_probe()

    def _audit_entries(self, entries: list[_Entry], rec: CallRecord | None, source: str) -> None:
        """Compare every backup ``source`` holds with everything the polls returned."""
        sink = self.sink
        if not self.observed.poll_windows:
            sink.not_exercisable("polling.window-complete", "no successful check ran")
            return
        starts = [w[1] for w in self.observed.poll_windows]
        last_poll_now = starts[-1]
        calls = [rec] if rec is not None else []
        for e in entries:
            seen = self.observed.results.get(e.pid)
            evidence = [{"source": source, **e.evidence(self.clock)}]
            # Window completeness, judged on final results (contract.md §4a: a listing need
            # not carry IN_PROGRESS ones, which the in-progress ids cover): every successful
            # poll whose window covers the turn to final must have returned the result.
            instants = []
            if e.state.is_final:
                instants.append(e.finish_s if e.finish_s is not None else e.creation_s)
            for _created, finished in e.restores:
                if finished is not None:
                    instants.append(finished)
            for t in instants:
                for p in self._covering_polls(t, starts):
                    if e.expiration_s is not None and e.expiration_s <= starts[p]:
                        continue  # expired by then: the plugin may leave it out
                    sink.exercise("polling.window-complete")
                    if seen is None or p not in seen.polls:
                        window = self.observed.poll_windows[p][0]
                        sink.fail(
                            "polling.window-complete",
                            f"result {e.pid} (created {self.clock.at(e.creation_s).isoformat()}, "
                            f"state {e.state.value} in {source}) changed at "
                            f"{self.clock.at(t).isoformat()}, inside the window of check "
                            f"#{p + 1} "
                            f"[{'-' if window is None else self.clock.at(window).isoformat()}, "
                            f"{self.clock.at(self.observed.poll_windows[p][1]).isoformat()}], "
                            "but that check's answer did not include it",
                            at=t,
                            calls=calls,
                            evidence=evidence,
                            cause=self.ctx.date_cause(e.pid),
                        )
                        break
            # No lost results: final at the last poll means the platform saw it final.
            if (
                e.state.is_final
                and e.finish_s is not None
                and e.finish_s <= last_poll_now
                and (e.lost_s is None or self._polled_between(e.finish_s, e.lost_s, starts))
            ):
                sink.exercise("polling.no-lost-results")
                if seen is None or not seen.final_seen:
                    sink.fail(
                        "polling.no-lost-results",
                        f"result {e.pid} of VM {e.vm} became {e.state.value} at "
                        f"{self.clock.at(e.finish_s).isoformat()} ({source}), before the "
                        f"last check at {self.clock.at(last_poll_now).isoformat()}, but no "
                        "poll ever returned it as final",
                        at=e.finish_s,
                        calls=calls,
                        evidence=evidence,
                        cause=self.ctx.date_cause(e.pid),
                    )

    def _polled_between(self, a: float, b: float, starts: list[float]) -> bool:
        """Whether a successful poll ran at an instant in [a, b): one that could tell a
        result final at ``a`` and lost at ``b``."""
        i = bisect_left(starts, a)
        return i < len(starts) and starts[i] < b

    def _covering_polls(self, t: float, starts: list[float]) -> list[int]:
        """Successful polls whose window [last_check_date, now] contains ``t``."""
        first = bisect_left(starts, t)
        out = []
        for p in range(first, min(first + 2, len(starts))):
            window, now = self.observed.poll_windows[p]
            if (window is None or window <= t) and t <= now:
                out.append(p)
        return out

    def _unknown_id_probe(self) -> Gen:
        if not self.ctx.supported(Operation.LIST_RESULTS):
            return
        cpp = self.ctx.platform.instances["cpp"]
        lost = f"bpcert-lost-{self.world.seed}"
        rec = yield from self.ctx.cpp_call(
            cpp, Operation.LIST_RESULTS, (self.world.clock.now(), frozenset({lost}))
        )
        if not rec.ok:
            return
        self.sink.exercise("polling.unknown-for-lost-ids")
        self.sink.exercise("polling.in-progress-answered")
        answer = [r for r in rec.result if r.provider_id == lost]
        if not answer:
            self.sink.fail(
                "polling.in-progress-answered",
                f"list_results was asked about {lost!r} and did not answer it",
                expected=f"a result for {lost} (UNKNOWN: the backup system never had it)",
                actual="absent from the answer",
                calls=[rec],
            )
        if not answer or answer[0].state is not ResultState.UNKNOWN:
            got = answer[0].state.value if answer else "absent"
            self.sink.fail(
                "polling.unknown-for-lost-ids",
                f"list_results was asked about {lost!r}, which the backup system never had, and "
                f"answered {got}",
                expected="a result with that provider id and state UNKNOWN",
                actual=got,
                calls=[rec],
            )

    def _window_probe(self) -> Gen:
        """A result that turned final exactly at last_check_date must be listed (the window
        is inclusive). The probe's backup is followed by its id until it is final."""
        if not self.ctx.supported(Operation.EXECUTE_BACKUP, Operation.LIST_RESULTS):
            return
        vms = [
            i for i in self.ctx.deployed_vms() if not self.ctx.outages.contains(self.world.env.now)
        ]
        if not vms:
            return
        i = vms[0]
        info = self.world.fleet.info(i)
        made = yield from self.ctx.probe_vm(
            i, Operation.EXECUTE_BACKUP, (info, OnDemandBackupOptions())
        )
        if made is None or not made.ok:
            return
        result: BackupResult = made.result
        pid = result.provider_id
        cpp = self.ctx.platform.instances["cpp"]
        final = result if result.state.is_final else None
        waited = 0.0
        while final is None and waited < MAX_DRAIN_S:
            yield self.world.env.timeout(_FOLLOW_S)
            waited += _FOLLOW_S
            asked = yield from self.ctx.cpp_call(
                cpp, Operation.LIST_RESULTS, (result.creation_date, frozenset({pid}))
            )
            if not asked.ok:
                return
            final = next(
                (r for r in asked.result if r.provider_id == pid and r.state.is_final), None
            )
        if final is None:
            return
        # Final now, created at one edge and turned final at the other: a window starting
        # at either instant must return it.
        edges = {"created": final.creation_date}
        if final.finish_date is not None:
            edges[f"turned {final.state.value}"] = final.finish_date
        for what, since in edges.items():
            rec = yield from self.ctx.cpp_call(cpp, Operation.LIST_RESULTS, (since, frozenset()))
            if not rec.ok:
                return
            self.sink.exercise("polling.window-complete")
            if pid not in {r.provider_id for r in rec.result}:
                self.sink.fail(
                    "polling.window-complete",
                    f"backup {pid} {what} at {since.isoformat()}, exactly the last_check_date "
                    "asked, and is final, but list_results left it out (the window must be "
                    "inclusive)",
                    calls=[made, rec],
                    cause=self.ctx.date_cause(pid, self.clock.seconds(final.creation_date)),
                )
