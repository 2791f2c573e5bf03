"""Every capability's checker on one world, driven hook by hook.

The runner and the property suite attach one :class:`Checkers` to each world::

    checkers = Checkers(world, sink, isolated=False)
    world.observe(checkers)      # registers the hooks; the end-of-run audit is a finisher
    world.run()
    checkers.uses_fake_backend   # whether the fake backup system's rules could be judged

The platform alone never exercises some rules: it never restores an unknown backup (the
API refuses first), never asks about a live result's expiry. Like csi-sanity, the
checkers' ``probe`` hooks call the plugin directly, through the same invoker (so every
probe is a traced, classified call) and, for calls about a VM, under that VM's lock
(``PROBE`` tasks), so the platform's invariants hold.

Checkers never raise into the run. A hook that fails (a plugin answer that takes a checker
down a path nobody foresaw, or a bug in bpcert) gives every rule its checker serves an
``error`` verdict naming the checker, the hook and the call or check it was judging, and the
run goes on with the next checker and the next call.
"""

from __future__ import annotations

from conformance.findings import Sink
from conformance.rules import registry
from conformance.rules.base import FAKE_BACKEND, MAX_DRAIN_S, Checker, Context, EndOfRun, Gen
from simulator.contract import BackupResult
from simulator.platform.core import CheckRecord
from simulator.platform.invoker import CallRecord
from simulator.world import World

__all__ = ["Checkers"]


class Checkers:
    """One checker per capability (:data:`~conformance.rules.registry.CHECKERS`) on a world."""

    def __init__(self, world: World, sink: Sink, *, isolated: bool, probes: bool = True) -> None:
        self.world = world
        self.sink = sink
        self.ctx = Context(world, sink, isolated=isolated, probes=probes)
        self.checkers: tuple[Checker, ...] = tuple(cls(self.ctx) for cls in registry.CHECKERS)
        # Only the checkers that override a per-call hook are called for every call.
        self._on_call = [c for c in self.checkers if type(c).on_call is not Checker.on_call]
        self._on_check = [c for c in self.checkers if type(c).on_check is not Checker.on_check]

    @property
    def uses_fake_backend(self) -> bool:
        """Whether the plugin opened a session on the fake backup system (known at the end)."""
        return self.ctx.observations.uses_fake_backend

    def attach(self, world: World) -> None:
        """Register the per-call and per-check hooks and the end-of-run audit."""
        world.invoker.observers.append(self.on_call)
        world.platform.hooks.check_end.append(self.on_check)
        for checker in self.checkers:
            self._guard(checker, "before_run", "the plugin class")
        world.finishers.append(self._finish)

    def on_call(self, rec: CallRecord) -> None:
        """Hand one plugin call to every checker that judges calls."""
        for checker in self._on_call:
            try:
                checker.on_call(rec)
            except Exception as exc:  # noqa: BLE001 - never stops the run; its rules get an error
                self._checker_failed(checker, "on_call", _call_label(rec), exc)

    def on_check(self, check: CheckRecord) -> None:
        """Hand one periodic check to every checker that judges checks."""
        for checker in self._on_check:
            try:
                checker.on_check(check)
            except Exception as exc:  # noqa: BLE001 - as in on_call
                self._checker_failed(checker, "on_check", f"check #{check.id}", exc)

    def _guard(self, checker: Checker, hook: str, what: str, *args: EndOfRun) -> None:
        """Run the plain hook ``hook`` of ``checker``; a failure becomes an error verdict."""
        try:
            getattr(checker, hook)(*args)
        except Exception as exc:  # noqa: BLE001 - as in on_call
            self._checker_failed(checker, hook, what, exc)

    def _guarded(self, checker: Checker, hook: str, *args: EndOfRun) -> Gen:
        """Run the process hook ``hook`` of ``checker``; a failure becomes an error verdict."""
        try:
            yield from getattr(checker, hook)(*args)
        except Exception as exc:  # noqa: BLE001 - as in on_call
            self._checker_failed(checker, hook, "the end of the run", exc)

    def _checker_failed(self, checker: Checker, hook: str, what: str, exc: Exception) -> None:
        message = (
            f"bpcert's checker {type(checker).__name__}.{hook} failed on {what} and could not "
            f"judge it: {type(exc).__name__}: {_text(exc)}"
        )
        for rule in checker.rules:
            self.sink.error(rule.id, message)

    # ------------------------------------------------------------------ the end

    def _finish(self, world: World) -> None:
        world.platform.quiesce()
        process = world.env.process(self._audit())
        world.env.run(until=process)

    def _audit(self) -> Gen:
        ctx = self.ctx
        platform = ctx.platform
        env = self.world.env
        # Let queued tasks and a running check finish first, so that audit calls never
        # run beside the platform's own; a VM locked for good (a backup that never ends)
        # must not stall the audit, so the wait is bounded.
        # The periodic check goes on meanwhile: it is what releases the VMs locked by a
        # backup in progress.
        waited = 0.0
        while (platform.vm_tasks_pending or platform.checking) and waited < MAX_DRAIN_S:
            yield env.timeout(10.0)
            waited += 10.0
        platform.stop_checks()
        while platform.checking and waited < 2 * MAX_DRAIN_S:
            yield env.timeout(10.0)
            waited += 10.0
        observed = ctx.observations
        observed.uses_fake_backend = self.world.backup_system.sessions_opened_total > 0
        if not observed.uses_fake_backend:
            for rule in registry.RULES:
                if FAKE_BACKEND in rule.needs:
                    self.sink.not_exercisable(
                        rule.id,
                        "the plugin never opened a session on the fake backup system "
                        f"({FAKE_BACKEND})",
                        declared=True,
                    )
        if not (platform.plugin_loaded("cpp") and platform.plugin_loaded("virtualfactory")):
            for checker in self.checkers:
                yield from self._guarded(checker, "without_plugins")
            return
        listing_call = None
        if ctx.supported(ctx.listing_op):
            listing_call = yield from ctx.full_listing()
        now = float(env.now)
        listing: list[BackupResult] | None = (
            list(listing_call.result) if listing_call is not None and listing_call.ok else None
        )
        end = EndOfRun(listing, listing_call, now if listing_call is None else listing_call.start)
        if listing is not None:
            ctx.removals.learn_from_listing(listing, end.at, ctx.observations)
        for checker in self.checkers:
            yield from self._guarded(checker, "audit", end)
        if ctx.probes:
            for checker in self.checkers:
                yield from self._guarded(checker, "probe", end)
        for checker in self.checkers:
            self._guard(checker, "ground_truth", "the end of the run", end)


def _call_label(rec: CallRecord) -> str:
    """A call as a finding names it: its trace seq, component, operation and instant."""
    return f"call #{rec.seq} ({rec.component} {rec.op} at {rec.start:.0f} s)"


def _text(exc: Exception) -> str:
    """An exception's message, even when its ``__str__`` fails (a plugin's own object may)."""
    try:
        return str(exc)[:300]
    except Exception:  # noqa: BLE001 - a broken message must not fail again
        return "(its message cannot be shown)"
