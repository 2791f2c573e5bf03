"""Per-id polling: what the API's periodic check of ``abiquo-4.7`` and ``abiquo-6.0`` is told.

Online, the checker judges every answer of the platform's per-id check
(:mod:`simulator.platform.per_id_check`): each listing against the fake backup system's
truth (every result created at or after ``start``), each ``get_backup_result`` and
``get_restore_result`` against the id asked and the truth, each ``is_backup_expired``
against the truth (for a plugin with its own backend, by the full listing after its check:
:mod:`conformance.rules.own_backend`) and against its earlier answers, and every call made
while the backup system was down. At the end, ``audit`` compares the full listing with
what the checks saw, and ``probe`` asks at the exact boundary of a window, about ids the
backup system never had, and about a live backup's expiry.

**Fairness.** A listing is judged only for results created at or after its ``start``:
results created before it, which the platform never asks for again, are the platform's
choice (``PlatformSettings.start_date_from``), not the plugin's fault, and
``no-lost-results`` does not count them either.
"""

from __future__ import annotations

from datetime import datetime

from conformance.rules.base import FAKE_BACKEND, Checker, Context, EndOfRun, Gen, Rule, declare
from conformance.rules.errors import explain_no_outage, judge_backend_down
from conformance.rules.own_backend import WaitingAnswers
from simulator.contract import BackupResult, Operation, RestoreResult, ResultState
from simulator.platform.core import CheckRecord
from simulator.platform.invoker import CallRecord

__all__ = ["RULES", "PerIdChecker"]

_O = Operation
_CAPABILITY = "per-id-polling"
_PER_ID_OPS = frozenset(
    op.value
    for op in (
        _O.LIST_NEW_BACKUP_RESULTS,
        _O.LIST_NEW_RESTORE_RESULTS,
        _O.GET_BACKUP_RESULT,
        _O.GET_RESTORE_RESULT,
        _O.IS_BACKUP_EXPIRED,
    )
)

RULES: tuple[Rule, ...] = (
    declare(
        "per-id-polling.new-results-complete",
        "list_new_backup_results(start) and list_new_restore_results(start) return every "
        "result created at or after start (all of them when start is None).",
        [_O.LIST_NEW_BACKUP_RESULTS, _O.LIST_NEW_RESTORE_RESULTS],
        [FAKE_BACKEND],
        _CAPABILITY,
    ),
    declare(
        "per-id-polling.no-lost-results",
        "Across checks no result is missed: whatever a full listing shows as final, the "
        "platform has been told is final (results created before a listing's start, which "
        "the platform never asked for, excepted).",
        [_O.LIST_NEW_BACKUP_RESULTS, _O.GET_BACKUP_RESULT],
        (),
        _CAPABILITY,
    ),
    declare(
        "per-id-polling.result-current-state",
        "get_backup_result(id) and get_restore_result(id) return the current state of that "
        "id, None only when the backup system has lost it, and never another id's result.",
        [_O.GET_BACKUP_RESULT, _O.GET_RESTORE_RESULT],
        (),
        _CAPABILITY,
    ),
    declare(
        "per-id-polling.expired-when-removed",
        "is_backup_expired(id) is true once the backup system has removed the backup, never "
        "while it can still be restored; once true, it stays true.",
        [_O.IS_BACKUP_EXPIRED],
        (),
        _CAPABILITY,
    ),
    declare(
        "per-id-polling.failure-raises",
        "A backup-system failure raises BackupPluginException from every per-id method; it "
        "never answers 'nothing new', None or false as if nothing had happened.",
        [_O.LIST_NEW_BACKUP_RESULTS],
        [FAKE_BACKEND],
        _CAPABILITY,
    ),
)

_NEW = "per-id-polling.new-results-complete"
_LOST = "per-id-polling.no-lost-results"
_STATE = "per-id-polling.result-current-state"
_EXPIRED = "per-id-polling.expired-when-removed"
_DOWN = "per-id-polling.failure-raises"


class PerIdChecker(Checker):
    """The per-id methods: complete windows, current states, honest expiry, raised failures."""

    rules = RULES

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.clock = self.world.clock
        #: Successful listings: (start in seconds or None, the plugin's now in seconds).
        self.listings: list[tuple[float | None, float]] = []
        #: Ids ``is_backup_expired`` answered true, with the call.
        self.expired: dict[str, CallRecord] = {}
        #: ``is_backup_expired`` answers of a plugin with its own backend, judged by the
        #: full listing after their check.
        self._waiting = WaitingAnswers(self, self._expiry_by_listings)

    def _applies(self) -> bool:
        return self.world.profile.results_check == "per-id-polling"

    def _truth_known(self) -> bool:
        """Whether the plugin talks to the fake backup system (so far), whose truth judges."""
        return self.world.backup_system.sessions_opened_total > 0

    def _s(self, instant: datetime | None) -> float | None:
        return None if instant is None else self.clock.seconds(instant)

    # ------------------------------------------------------------------ online

    def on_check(self, check: CheckRecord) -> None:
        """A plugin's own backend: the full listing after a check whose answer waits."""
        if self._applies():
            self._waiting.after_check()

    def on_call(self, rec: CallRecord) -> None:
        """Judge the per-id calls of the platform's checks, and of the audit's probes."""
        if rec.op not in _PER_ID_OPS or not self._applies():
            return
        if not rec.probe and self.ctx.outages.contains(rec.start):
            judge_backend_down(self.sink, _DOWN, rec)
            return
        if rec.outcome != "ok":
            return
        op = rec.op
        if op == _O.LIST_NEW_BACKUP_RESULTS.value:
            self._listing(rec, backups=True)
        elif op == _O.LIST_NEW_RESTORE_RESULTS.value:
            self._listing(rec, backups=False)
        elif op in (_O.GET_BACKUP_RESULT.value, _O.GET_RESTORE_RESULT.value):
            self._current_state(rec)
        else:
            self._expiry_answer(rec)

    def _listing(self, rec: CallRecord, *, backups: bool) -> None:
        (start,) = rec.args
        now = rec.now
        if backups and rec.check and not rec.probe:
            self.listings.append((self._s(start), self.clock.seconds(now) if now else rec.start))
        if not self._truth_known() or now is None:
            return
        self.sink.exercise(_NEW)
        listed = {r.provider_id for r in rec.result}
        system = self.world.backup_system
        missing: list[str] = []
        if backups:
            for truth in system.truth_backups(created_from=start):
                # One created at the call's very instant may have come after the plugin
                # read: the next window holds it.
                if truth.creation_date >= now or system.is_lost(truth.provider_id):
                    continue
                if start is None and truth.expiration_date <= now:
                    continue  # removed already: a full listing need not hold it
                if truth.provider_id not in listed:
                    missing.append(truth.provider_id)
        else:
            for restore in system.truth_restores():
                created = restore.creation_date
                if system.is_lost(restore.backup_provider_id):
                    continue
                in_window = (start is None or created >= start) and created < now
                if in_window and restore.provider_id not in listed:
                    missing.append(restore.provider_id)
        if missing:
            what = "backup" if backups else "restore"
            self.sink.fail(
                _NEW,
                f"{rec.op}(start={start.isoformat() if start else None}) left out "
                f"{len(missing)} {what}(s) created at or after start: {', '.join(missing[:5])}",
                expected=f"every {what} the backup system created at or after start",
                actual=f"{len(listed)} listed, {len(missing)} missing",
                at=rec.start,
                calls=[rec],
            )

    def _current_state(self, rec: CallRecord) -> None:
        (asked,) = rec.args
        answer: BackupResult | RestoreResult | None = rec.result
        sink = self.sink
        sink.exercise(_STATE)
        if answer is not None and answer.provider_id != asked:
            sink.fail(
                _STATE,
                f"{rec.op}({asked!r}) answered the result of {answer.provider_id!r}",
                expected=f"the result of {asked!r}, or None",
                actual=answer.provider_id,
                at=rec.start,
                calls=[rec],
            )
            return
        if not self._truth_known() or rec.now is None:
            return
        expected = self._truth_state(rec.op, asked, rec.now)
        if expected is None:  # the backup system does not know it (or lost it)
            if answer is not None and answer.state is not ResultState.UNKNOWN:
                sink.fail(
                    _STATE,
                    f"{rec.op}({asked!r}) answered {answer.state.value} for an id the backup "
                    "system does not know (or lost)",
                    expected="None (or UNKNOWN)",
                    actual=answer.state.value,
                    at=rec.start,
                    calls=[rec],
                )
            return
        got = "None" if answer is None else answer.state.value
        if got != expected.value:
            sink.fail(
                _STATE,
                f"{rec.op}({asked!r}) answered {got}, but the backup system has it "
                f"{expected.value}",
                expected=expected.value,
                actual=got,
                at=rec.start,
                calls=[rec],
            )

    def _truth_state(self, op: str, provider_id: str, now: datetime) -> ResultState | None:
        """The state the backup system has ``provider_id`` in at ``now``; None if unknown."""
        system = self.world.backup_system
        if op == _O.GET_BACKUP_RESULT.value:
            truth = system.truth_backup(provider_id)
            if truth is None or system.is_lost(provider_id):
                return None
            if truth.planned_finish_date > now:
                return ResultState.IN_PROGRESS
            return truth.state
        for restore in system.truth_restores():
            if restore.provider_id == provider_id:
                if system.is_lost(restore.backup_provider_id):
                    return None
                if restore.planned_finish_date > now:
                    return ResultState.IN_PROGRESS
                return restore.state
        return None

    def _expiry_answer(self, rec: CallRecord) -> None:
        (asked,) = rec.args
        answer = rec.result
        sink = self.sink
        sink.exercise(_EXPIRED)
        before = self.expired.get(asked)
        if answer:
            self.expired.setdefault(asked, rec)
        elif before is not None:
            sink.fail(
                _EXPIRED,
                f"is_backup_expired({asked!r}) answered false after answering true",
                expected="true: an expired backup stays expired",
                actual="false",
                at=rec.start,
                calls=[before, rec],
            )
            return
        if rec.now is None:
            return
        if not self._truth_known():
            self._waiting.hold(rec)
            return
        system = self.world.backup_system
        truth = system.truth_backup(asked)
        if truth is None:
            return  # unknown to the system (or purged after expiry): either answer is safe
        lost_s = system.lost_at(asked)
        lost = lost_s is not None and lost_s <= self.clock.seconds(rec.now)
        removed = truth.expiration_date <= rec.now or lost
        if bool(answer) != removed:
            state = "removed" if removed else "still restorable"
            if lost and lost_s is not None:
                state = f"removed: the backup system lost it at {self.clock.at(lost_s).isoformat()}"
            sink.fail(
                _EXPIRED,
                f"is_backup_expired({asked!r}) answered {str(bool(answer)).lower()}, but the "
                f"backup is {state} (it expires at {truth.expiration_date.isoformat()})",
                expected=str(removed).lower(),
                actual=str(bool(answer)).lower(),
                at=rec.start,
                calls=[rec],
            )

    def _expiry_by_listings(self, rec: CallRecord) -> None:
        """A plugin's own backend: judge an is_backup_expired answer by the full listings,
        the one after it showing the backup live, or one before it no longer showing it."""
        (asked,) = rec.args
        removals = self.ctx.removals
        state = removals.state_at(asked, self.clock.seconds(rec.now)) if rec.now else None
        if state is None or bool(rec.result) == (state == "gone"):
            return
        if state == "gone":
            why = f"the backup {removals.describe_removal(asked)}"
        else:
            why = "the plugin's full listing after the call still shows the backup"
        self.sink.fail(
            _EXPIRED,
            f"is_backup_expired({asked!r}) answered {str(bool(rec.result)).lower()}, but {why}",
            expected=str(state == "gone").lower(),
            actual=str(bool(rec.result)).lower(),
            at=rec.start,
            calls=[rec],
        )

    # ------------------------------------------------------------------ the end

    def ground_truth(self, end: EndOfRun) -> None:
        """The answers of the end-of-run probes, by what the listings showed; why the
        backend-failure rule went unexercised, if no call met an outage."""
        self._waiting.judge_until(float("inf"))
        explain_no_outage(self.ctx, _DOWN)

    def audit(self, end: EndOfRun) -> Gen:
        """The answers still waiting, by the end-of-run listing; whatever that listing
        shows as final, the platform was told is final."""
        self._waiting.judge_until(float("inf"))
        if not self._applies() or end.listing is None or end.listing_call is None:
            return
        yield from ()
        seen = self.observed.results
        done_listing = [s for _, s in self.listings]
        for r in end.listing:
            if r.state not in (ResultState.DONE, ResultState.FAILED) or r.finish_date is None:
                continue
            finish_s = self.clock.seconds(r.finish_date)
            # Only a result a later check could have learnt about is due.
            if not any(now > finish_s for now in done_listing):
                continue
            self.sink.exercise(_LOST)
            held = seen.get(r.provider_id)
            if held is not None and held.state.is_final:
                continue
            creation_s = self.clock.seconds(r.creation_date)
            if held is None and not self._covered(creation_s):
                continue  # created before every later start: the platform's choice
            self.sink.fail(
                _LOST,
                f"result {r.provider_id} is {r.state.value} since "
                f"{r.finish_date.isoformat()}, but no check was told it is final",
                expected="a listing or get_backup_result answer with its final state",
                actual="never final" if held is not None else "never listed",
                at=end.at,
                calls=[end.listing_call],
            )

    def _covered(self, creation_s: float) -> bool:
        """Whether the first listing made after ``creation_s`` had a start at or before it."""
        for start, now in self.listings:
            if now >= creation_s:
                return start is None or start <= creation_s
        return False

    def probe(self, end: EndOfRun) -> Gen:
        """The window's exact boundary, ids the system never had, and a live backup's expiry."""
        if not self._applies():
            return
        ctx = self.ctx
        listing = end.listing or []
        if listing and ctx.supported(_O.LIST_NEW_BACKUP_RESULTS):
            boundary = max(listing, key=lambda r: (r.creation_date, r.provider_id))
            yield from ctx.cpp_call(
                ctx.results_instance(), _O.LIST_NEW_BACKUP_RESULTS, (boundary.creation_date,)
            )
        never = f"bk-bpcert-never-{self.world.seed}"
        if ctx.supported(_O.GET_BACKUP_RESULT):
            yield from ctx.cpp_call(ctx.results_instance(), _O.GET_BACKUP_RESULT, (never,))
        restores = [rs for r in listing for rs in r.restores]
        if restores and ctx.supported(_O.GET_BACKUP_RESULT):
            # A restore id is no backup id: answering its parent backup is another id's result.
            yield from ctx.cpp_call(
                ctx.results_instance(), _O.GET_BACKUP_RESULT, (restores[0].provider_id,)
            )
        if not ctx.supported(_O.IS_BACKUP_EXPIRED):
            return
        now = self.world.clock.now()
        live = [
            r
            for r in listing
            if r.state is ResultState.DONE
            and r.expiration_date is not None
            and r.expiration_date > now
        ]
        # The soonest to expire: an early "expired" shows there first.
        live.sort(key=lambda r: (r.expiration_date, r.provider_id))
        for r in live[:3]:
            yield from ctx.cpp_call(ctx.results_instance(), _O.IS_BACKUP_EXPIRED, (r.provider_id,))
        for provider_id in sorted(self.expired)[:3]:
            yield from ctx.cpp_call(ctx.results_instance(), _O.IS_BACKUP_EXPIRED, (provider_id,))
        # Backups the platform was told are DONE that the backup system lost since (a
        # scenario's lose_backup): removed, so expired, whatever their expiration date says.
        lost = [
            pid
            for pid, seen in sorted(self.observed.results.items())
            if seen.state is ResultState.DONE and ctx.removals.lost(pid)
        ]
        for provider_id in lost[:3]:
            yield from ctx.cpp_call(ctx.results_instance(), _O.IS_BACKUP_EXPIRED, (provider_id,))
        if not self._truth_known() and ctx.supported(ctx.listing_op):
            # A plugin's own backend: a backup still listed after the asking was live when
            # it was asked about (its answers are judged last, in ground_truth).
            again = yield from ctx.full_listing()
            if again.ok:
                ctx.removals.learn_from_listing(again.result, again.start, self.observed)
