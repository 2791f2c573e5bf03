"""How the judge follows a plugin's own backend as the run goes (contract.md §4a).

With the fake backup system the judge knows at any instant what was removed
(:class:`~conformance.rules.observations.Removals`), and judges each answer about a removal
(``get_expired_results``, ``is_backup_expired``) as it comes. A backend of the plugin's own
shows its removals only in its full listings, so such an answer waits
(:class:`WaitingAnswers`): after the check it belongs to, the judge takes a full listing
(a probe, ``check`` 0 in the trace), learns from it what was removed, and judges the waiting
answers by it. A backup that listing still shows was live when the plugin answered; one that
had left an earlier listing was gone. What lies between two listings is not judged
*(modelled: the removal instant is known to within a check)*. Deterministic: the listings
are events of the simulation.
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.rules.base import Checker, Gen
from simulator.platform.invoker import CallRecord

__all__ = ["WaitingAnswers"]


class WaitingAnswers:
    """One checker's answers about removals that wait for a full listing after them.

    ``judge`` judges one answer by what :class:`~conformance.rules.observations.Removals`
    knows when it is called. Call :meth:`hold` for an answer of a plugin with its own
    backend, :meth:`after_check` at the end of every periodic check, and :meth:`judge_until`
    with ``inf`` once the end-of-run listing has been learnt.
    """

    def __init__(self, checker: Checker, judge: Callable[[CallRecord], None]) -> None:
        self._checker = checker
        self._judge = judge
        self._waiting: list[CallRecord] = []
        # Whether a mid-run full listing is under way (one at a time).
        self._listing = False

    def hold(self, rec: CallRecord) -> None:
        """Keep ``rec`` until a listing after it says what was removed."""
        self._waiting.append(rec)

    def after_check(self) -> None:
        """A check ended: take a full listing if an answer waits (probes on, listing
        supported), or judge at once if the plugin has turned to the fake backup system."""
        if not self._waiting:
            return
        ctx = self._checker.ctx
        if ctx.removals.knows_now:
            self.judge_until(float("inf"))
        elif ctx.probes and ctx.supported(ctx.listing_op) and not self._listing:
            self._listing = True
            ctx.world.env.process(self._learn())

    def _learn(self) -> Gen:
        """One mid-run full listing: the removals it shows, then the answers before it."""
        ctx = self._checker.ctx
        try:
            rec = yield from ctx.full_listing()
            if rec.ok:
                ctx.removals.learn_from_listing(rec.result, rec.start, ctx.observations)
                self.judge_until(rec.start)
        except Exception as exc:  # noqa: BLE001 - a simpy process must not take the run down
            message = (
                f"bpcert's checker {type(self._checker).__name__} failed on a mid-run full "
                f"listing and could not judge it: {type(exc).__name__}: {exc}"
            )
            for rule in self._checker.rules:
                ctx.sink.error(rule.id, message[:400])
        finally:
            self._listing = False

    def judge_until(self, until: float) -> None:
        """Judge the waiting answers given at or before ``until``; keep the later ones."""
        keep = []
        for rec in self._waiting:
            if rec.start <= until:
                self._judge(rec)
            else:
                keep.append(rec)
        self._waiting = keep
