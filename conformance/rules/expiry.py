"""Expiry: what ``get_expired_results`` reports, judged against the backup system's truth.

A result is *gone* when the backup system has removed it (contract.md §4a): its retention
ran out (by time or by restore-point count) or the system lost it. The plugin's own
``expiration_date`` is advice, never the judge. Who knows what is gone
(:class:`~conformance.rules.observations.Removals`): with the fake backup system, its
ground truth; with a plugin's own backend, the full listings (a backup that has left the
full listing is gone).

Online, the checker judges each answer of the periodic check: an asked id that is gone
must be reported (so "reported expired" follows "gone" within the first check that asks
after the removal), and an id that is still held must not be. With the fake backup
system an answer is judged as it comes; with a plugin's own backend it waits for the full
listing after its check, which says what was removed
(:mod:`conformance.rules.own_backend`). At the end (``probe``) it
asks about every id reported expired before, every gone id and every live one, in
batches of :data:`PROBE_BATCH` until each is covered (at most :data:`PROBE_MAX_IDS`, a
deterministic sample beyond that, said so in the evidence), and judges only the ids it
asked. The advisory ``expiry.expiration-date-advice`` compares the plugin's
``expiration_date`` with the removal, for billing.
"""

from __future__ import annotations

from dataclasses import replace

from conformance.rules.base import Checker, Context, EndOfRun, Gen, Rule, declare
from conformance.rules.own_backend import WaitingAnswers
from simulator.contract import BackupResult, Operation, ResultState
from simulator.platform.core import CheckRecord
from simulator.platform.invoker import CallRecord

__all__ = ["PROBE_BATCH", "PROBE_MAX_IDS", "RULES", "ExpiryChecker"]

_O = Operation

#: Ids per get_expired_results call of the end-of-run probe.
PROBE_BATCH = 500
#: Ids the end-of-run probe asks about at most; beyond, an even sample (said so).
PROBE_MAX_IDS = 20_000

#: Why the expiry rules went unexercised when the backup system removed nothing.
_NOTHING_REMOVED = (
    "the backup system removed no backup during the run; the retention scenario lasts 32 "
    "days, so a retention longer than 30 days has to be lowered for the run through the "
    "plugin's properties (--properties)"
)

_RULES: tuple[Rule, ...] = (
    declare(
        "expiry.subset-of-asked",
        "get_expired_results returns a subset of the ids it was given, without duplicates.",
        [_O.GET_EXPIRED_RESULTS],
    ),
    declare(
        "expiry.sticky",
        "Once an id is reported expired, it stays expired.",
        [_O.GET_EXPIRED_RESULTS],
    ),
    declare(
        "expiry.reported-when-due",
        "A backup the backup system has removed (its retention ran out, or it was lost) is "
        "reported expired by the first check that asks about it.",
        [_O.GET_EXPIRED_RESULTS, _O.LIST_RESULTS],
    ),
    declare(
        "expiry.live-never-reported",
        "A backup the backup system still holds is never reported expired, whatever its "
        "expiration_date says.",
        [_O.GET_EXPIRED_RESULTS, _O.LIST_RESULTS],
    ),
    declare(
        "expiry.expiration-date-advice",
        "A reported expiration_date is when the backup system removes the backup, within "
        "one check interval (advice for billing: it never decides the verdict).",
        [_O.LIST_RESULTS],
        advisory=True,
    ),
)

#: ``getExpiredResults`` exists only in ``abiquo-4.0.4``: so do these rules (from 4.7 on,
#: ``is_backup_expired`` is judged by :mod:`conformance.rules.per_id_polling`).
RULES: tuple[Rule, ...] = tuple(replace(r, capability="list-results") for r in _RULES)


class ExpiryChecker(Checker):
    """get_expired_results: a subset of the asked ids, sticky, on time and never early."""

    rules = RULES

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.clock = self.world.clock
        self.removals = ctx.removals
        #: The periodic check's answers of a plugin with its own backend, judged by the
        #: full listing after their check.
        self._waiting = WaitingAnswers(self, self._judge_later)

    def on_call(self, rec: CallRecord) -> None:
        """Judge the periodic check's get_expired_results answers."""
        is_expired_call = rec.op == Operation.GET_EXPIRED_RESULTS.value
        if is_expired_call and rec.outcome == "ok" and not rec.probe and rec.check:
            answer = self._subset(rec, rec.args[0], rec.result)
            for pid in answer:
                self.observed.reported_expired.setdefault(pid, rec.seq)
            if self.removals.knows_now:
                self._judge(rec, rec.args[0], answer)
            else:
                self._waiting.hold(rec)

    def on_check(self, check: CheckRecord) -> None:
        """A plugin's own backend: the full listing after a check whose answer waits."""
        self._waiting.after_check()

    def _judge_later(self, rec: CallRecord) -> None:
        """Judge a waiting answer by what the listings have shown since."""
        self._judge(rec, rec.args[0], set(rec.result))

    def _subset(self, rec: CallRecord, asked: list[str], answer: list[str]) -> set[str]:
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
        return seen_ids

    def _plugin_now(self, rec: CallRecord) -> float:
        return self.clock.seconds(rec.now) if rec.now else rec.start

    def _judge(
        self, rec: CallRecord, asked: list[str], answer: set[str], *, note: str = ""
    ) -> None:
        """Judge every asked id against what the backup system held when the plugin ran."""
        sink = self.sink
        now_s = self._plugin_now(rec)
        for pid in asked:
            state = self.removals.state_at(pid, now_s)
            if state is None:
                continue  # a plugin's own backend, between two listings: cannot tell
            if state == "gone":
                sink.exercise("expiry.reported-when-due")
                if pid not in answer:
                    sink.fail(
                        "expiry.reported-when-due",
                        f"{pid} {self.removals.describe_removal(pid)} but get_expired_results "
                        f"did not report it{note}",
                        at=rec.start,
                        calls=[rec],
                    )
                continue
            sink.exercise("expiry.live-never-reported")
            if pid in answer:
                seen = self.observed.results.get(pid)
                date = (
                    f" (its expiration_date {self.clock.at(seen.expiration_s).isoformat()})"
                    if seen is not None and seen.expiration_s is not None
                    else ""
                )
                sink.fail(
                    "expiry.live-never-reported",
                    f"{pid} was reported expired while the backup system still holds it"
                    f"{date}{note}",
                    at=rec.start,
                    calls=[rec],
                )

    # ------------------------------------------------------------------ the end

    def audit(self, end: EndOfRun) -> Gen:
        """The answers still waiting, by the end-of-run listing; the advisory comparison
        of each expiration_date with the removal."""
        self._waiting.judge_until(float("inf"))
        self._advice()
        yield from ()

    def _advice(self) -> None:
        sink = self.sink
        rule = "expiry.expiration-date-advice"
        tolerance = self.world.platform.settings.check_delay_s
        dated = 0
        for pid, seen in sorted(self.observed.results.items()):
            if seen.state is not ResultState.DONE or seen.expiration_s is None:
                continue
            dated += 1
            removed = self.removals.removed_at(pid)
            if removed is None or self.removals.lost(pid):
                continue  # kept, or lost: no date could have told when
            sink.exercise(rule)
            if abs(removed - seen.expiration_s) > tolerance:
                sink.fail(
                    rule,
                    f"{pid} carried expiration_date {self.clock.at(seen.expiration_s).isoformat()}"
                    f" but the backup system removed it at {self.clock.at(removed).isoformat()}: "
                    "billing by the date would be wrong",
                    at=removed,
                )
        if not dated:
            sink.not_exercisable(
                rule,
                "no result carried an expiration_date (the contract allows none)",
                declared=True,
            )
        elif not self.removals.knows_now:
            sink.not_exercisable(
                rule,
                "the plugin has its own backend, whose removals are known only to within a "
                "full listing, too coarse to judge a date against",
                declared=True,
            )

    def probe(self, end: EndOfRun) -> Gen:
        """Ask about every earlier expired id, every gone id and every live one, in batches."""
        if not self.ctx.supported(Operation.GET_EXPIRED_RESULTS):
            return
        listing = end.listing
        if listing is None and not self.removals.knows_now:
            return
        sticky = sorted(self.observed.reported_expired)
        live, gone = self._live_and_gone(listing, end.at)
        if not gone and not sticky:
            for rule_id in ("expiry.reported-when-due", "expiry.sticky"):
                self.sink.not_exercisable(rule_id, _NOTHING_REMOVED)
        wanted = list(dict.fromkeys(sticky + gone + live))
        if not wanted:
            self.sink.not_exercisable("expiry.sticky", "no result reached DONE in this run")
            return
        asked, note = _sample(wanted)
        cpp = self.ctx.platform.instances["cpp"]
        answered: set[str] = set()
        calls: list[tuple[CallRecord, list[str]]] = []
        for i in range(0, len(asked), PROBE_BATCH):
            batch = asked[i : i + PROBE_BATCH]
            rec = yield from self.ctx.cpp_call(cpp, Operation.GET_EXPIRED_RESULTS, (batch,))
            if not rec.ok:
                return
            answer = self._subset(rec, batch, rec.result)
            answered |= answer
            calls.append((rec, batch))
        for pid in answered:
            self.observed.reported_expired.setdefault(pid, 0)
        if not self.removals.knows_now:
            # A plugin's own backend: what is live must still be listed after the asking.
            again = yield from self.ctx.cpp_call(cpp, Operation.LIST_RESULTS, (None, frozenset()))
            if not again.ok:
                return
            self.removals.learn_from_listing(again.result, again.start, self.observed)
        for rec, batch in calls:
            self._judge(rec, batch, answered & set(batch), note=note)
        self._sticky(sticky, answered, asked, calls[-1][0] if calls else None, note)

    def _live_and_gone(
        self, listing: list[BackupResult] | None, at: float
    ) -> tuple[list[str], list[str]]:
        """Live ids (DONE, still held at ``at``) and gone ids (DONE once, removed), sorted."""
        live: list[str] = []
        gone: list[str] = []
        done = {
            pid for pid, seen in self.observed.results.items() if seen.state is ResultState.DONE
        }
        for r in listing or ():
            if r.state is ResultState.DONE:
                done.add(r.provider_id)
        for pid in sorted(done):
            state = self.removals.state_at(pid, at)
            if state == "gone":
                gone.append(pid)
            elif state == "live":
                live.append(pid)
        return live, gone

    def _sticky(
        self,
        sticky: list[str],
        answered: set[str],
        asked: list[str],
        rec: CallRecord | None,
        note: str,
    ) -> None:
        asked_set = set(asked)
        for pid in sticky:
            if pid not in asked_set:
                continue
            self.sink.exercise("expiry.sticky")
            if pid not in answered:
                self.sink.fail(
                    "expiry.sticky",
                    f"{pid} was reported expired earlier but is no longer reported expired{note}",
                    calls=[rec],
                )


def _sample(wanted: list[str]) -> tuple[list[str], str]:
    """All of ``wanted`` up to :data:`PROBE_MAX_IDS`, else an even, deterministic sample."""
    if len(wanted) <= PROBE_MAX_IDS:
        return wanted, ""
    step = len(wanted) / PROBE_MAX_IDS
    sample = [wanted[int(i * step)] for i in range(PROBE_MAX_IDS)]
    return sample, (
        f" (the end-of-run probe asked an even sample of {PROBE_MAX_IDS} of the "
        f"{len(wanted)} ids it could judge)"
    )
