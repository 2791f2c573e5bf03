"""Expiry: what ``get_expired_results`` reports.

Online, the checker judges each answer of the periodic check against the expiration dates
the polls returned. At the end (``probe``) it asks again about ids reported expired before,
about live results and about results past their date.
"""

from __future__ import annotations

from conformance.rules.base import Checker, Context, EndOfRun, Gen, Rule, declare
from simulator.contract import Operation, ResultState
from simulator.platform.invoker import CallRecord

__all__ = ["RULES", "ExpiryChecker"]

_O = Operation

RULES: tuple[Rule, ...] = (
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
        "A backup past its expiration date is reported expired within one check.",
        [_O.GET_EXPIRED_RESULTS, _O.LIST_RESULTS],
    ),
    declare(
        "expiry.live-never-reported",
        "A backup that has not reached its expiration date is never reported expired.",
        [_O.GET_EXPIRED_RESULTS, _O.LIST_RESULTS],
    ),
)


class ExpiryChecker(Checker):
    """get_expired_results: a subset of the asked ids, sticky, on time and never early."""

    rules = RULES

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.clock = self.world.clock

    def on_call(self, rec: CallRecord) -> None:
        """Judge the periodic check's get_expired_results answers."""
        is_expired_call = rec.op == Operation.GET_EXPIRED_RESULTS.value
        if is_expired_call and rec.outcome == "ok" and not rec.probe and rec.check:
            self._expired(rec, rec.args[0], rec.result)

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
            self.observed.reported_expired.setdefault(pid, rec.seq)
        now_s = self.clock.seconds(rec.now) if rec.now else rec.start
        for pid in asked:
            seen = self.observed.results.get(pid)
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

    def probe(self, end: EndOfRun) -> Gen:
        """Ask about earlier expired ids, live results and results past their date."""
        listing = end.listing
        if not self.ctx.supported(Operation.GET_EXPIRED_RESULTS):
            return
        sink = self.sink
        cpp = self.ctx.platform.instances["cpp"]
        now = self.world.clock.now()
        sticky = sorted(self.observed.reported_expired)[:50]
        live = []
        due = []
        for r in listing or []:
            if r.state is not ResultState.DONE or r.expiration_date is None:
                continue
            if r.expiration_date > now + (self.world.clock.at(3600) - self.world.clock.at(0)):
                live.append(r.provider_id)
            elif r.expiration_date <= now:
                due.append(r.provider_id)
        asked = sticky + sorted(live)[:50] + sorted(due)[:50]
        if not asked:
            sink.not_exercisable("expiry.sticky", "no result expired during the run")
            return
        rec = yield from self.ctx.cpp_call(cpp, Operation.GET_EXPIRED_RESULTS, (asked,))
        if not rec.ok:
            return
        answered = set(rec.result)
        for pid in sticky:
            sink.exercise("expiry.sticky")
            if pid not in answered:
                sink.fail(
                    "expiry.sticky",
                    f"{pid} was reported expired earlier but is no longer reported expired",
                    calls=[rec],
                )
        for pid in live:
            sink.exercise("expiry.live-never-reported")
            if pid in answered:
                sink.fail(
                    "expiry.live-never-reported",
                    f"{pid} is reported expired although its expiration_date is more than an "
                    "hour away",
                    calls=[rec],
                )
        for pid in due:
            sink.exercise("expiry.reported-when-due")
            if pid not in answered:
                sink.fail(
                    "expiry.reported-when-due",
                    f"{pid} is past its expiration_date but get_expired_results does not report it",
                    calls=[rec],
                )
