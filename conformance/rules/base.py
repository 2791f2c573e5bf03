"""What every capability module builds on: a rule's declaration, the checker hooks, and the
context one world's checkers share.

A capability module (``startup``, ``connections``, ...) declares its rules with
:func:`declare` and judges them in one :class:`Checker` subclass. The registry
(:mod:`conformance.rules.registry`) lists the modules; :class:`~conformance.rules.checking.Checkers`
builds one checker per capability for a world and calls the hooks below in this order:

1. ``before_run``: before the simulation starts (rules that need only the plugin class,
   processes that probe mid-run);
2. ``on_call`` for every plugin call and ``on_check`` for every periodic check, as the
   run goes;
3. at the end, once the platform has drained: ``audit`` after the full listing (judging
   what the run saw; read-only), then ``probe`` (direct calls that change things, like
   csi-sanity's), then ``ground_truth`` (what the fake backup system knows);
   ``without_plugins`` instead of all three when a component never loaded its plugin.

A hook that raises gives the checker's ``rules`` an ``error`` verdict naming the checker,
the hook and the call it was judging, and the run goes on
(:class:`~conformance.rules.checking.Checkers`). ``docs/architecture.md`` ("Adding a rule")
walks through a new rule and its mutant.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import simpy

from conformance.findings import Sink
from conformance.rules.observations import Observations, Outages, Removals
from simulator.contract import BackupResult, Operation
from simulator.platform.core import CheckRecord, Task
from simulator.platform.invoker import CallRecord
from simulator.profiles import ContractProfile
from simulator.world import World

__all__ = [
    "AUDIT_CHECK_ID",
    "FAKE_BACKEND",
    "ISOLATED",
    "MAX_DRAIN_S",
    "NEEDS",
    "Checker",
    "Context",
    "EndOfRun",
    "Gen",
    "Rule",
    "date_offset_cause",
    "declare",
]

#: A rule that needs the fake backup system's ground truth.
FAKE_BACKEND = "fake-backend"
#: A rule that applies only to a plugin in a process of its own.
ISOLATED = "isolated"
#: Every need a rule may declare, and the reason its rule is skipped when a run lacks it.
NEEDS: dict[str, str] = {
    FAKE_BACKEND: (
        "needs the fake backup system's ground truth, and the plugin does not use the "
        "simulated backend"
    ),
    ISOLATED: "applies only to out-of-process plugins (use --isolation process or exec:)",
}
#: The ``check`` number audit calls carry in the trace (real checks count from 1).
AUDIT_CHECK_ID = 0
#: How long the audit waits for the platform to drain, or for a probe's VM lock.
MAX_DRAIN_S = 6 * 3600.0

#: A simpy process body: what the end-of-run hooks return.
Gen = Generator[simpy.Event, Any, Any]


@dataclass(frozen=True)
class Rule:
    """One rule: a stable kebab-case id, a spec sentence, and what checking it needs.

    An ``advisory`` rule is judged and reported like any other, but never decides the
    verdict: its findings are advice (``expiry.expiration-date-advice``: a date for billing).
    ``capability`` is the contract-profile capability the rule belongs to
    (:data:`simulator.profiles.CAPABILITIES`), ``None`` for a rule of every profile: a
    rule of another profile's capability does not apply to a run, and is not listed.
    """

    id: str
    category: str
    statement: str
    needs_operations: frozenset[Operation] = frozenset()
    needs: frozenset[str] = frozenset()
    advisory: bool = False
    capability: str | None = None


def declare(
    id: str,
    statement: str,
    ops: Iterable[Operation] = (),
    needs: Iterable[str] = (),
    capability: str | None = None,
    *,
    advisory: bool = False,
) -> Rule:
    """A rule whose category is its id's first part; ``ops`` are the operations it needs."""
    return Rule(
        id, id.split(".")[0], statement, frozenset(ops), frozenset(needs), advisory, capability
    )


@dataclass(frozen=True)
class EndOfRun:
    """What the end-of-run hooks are given: the full listing taken once the platform drained."""

    #: The full listing's answer; None when it failed or list_results is unsupported.
    listing: list[BackupResult] | None
    #: The listing call itself; None when list_results is unsupported.
    listing_call: CallRecord | None
    #: Where the run's observation ends: the listing's start, or the audit's start.
    at: float


def date_offset_cause(offset_s: float) -> str:
    """The cause of findings whose dates are ``offset_s`` seconds off the backup system's."""
    how = "later" if offset_s > 0 else "earlier"
    return (
        f"the plugin's dates are {timedelta(seconds=abs(offset_s))} {how} than the backup "
        "system's record of the same backups (a time zone read as UTC, or a clock of its own)"
    )


class Context:
    """One world's checkers share this: the world, the sink, the observations, and the
    helpers the probes call the plugin through."""

    def __init__(self, world: World, sink: Sink, *, isolated: bool, probes: bool) -> None:
        self.world = world
        self.sink = sink
        self.isolated = isolated
        #: Whether the direct probes run (mid-run repeats and end-of-run ``probe`` hooks).
        self.probes = probes
        self.observations = Observations()
        self.outages = Outages(world)
        self.removals = Removals(world)
        self.unsupported = frozenset(getattr(world.plugin_class, "unsupported_operations", ()))

    @property
    def platform(self) -> Any:
        """The world's platform."""
        return self.world.platform

    def date_cause(self, provider_id: str, reported_s: float | None = None) -> str | None:
        """The cause of a finding about ``provider_id`` when the plugin's dates are off.

        ``reported_s`` is the creation date the plugin reported (simulated seconds;
        default: the last one the polls saw). With the fake backup system, a creation
        date that differs from the system's record by an offset is a date bug (a time
        zone read as UTC, a clock of its own), and every finding it causes, whatever the
        rule, says so with the same words; None when the dates agree or the truth is
        unknown.
        """
        system = self.world.backup_system
        if not system.sessions_opened_total:
            return None
        if reported_s is None:
            reported_s = self.observations.reported_creation_s(provider_id)
            if reported_s is None:
                return None
        truth = system.truth_backup(provider_id)
        if truth is None:
            return None
        offset = reported_s - self.world.clock.seconds(truth.creation_date)
        return date_offset_cause(offset) if abs(offset) >= 1e-6 else None

    def supported(self, *ops: Operation) -> bool:
        """True when the plugin declares none of ``ops`` unsupported."""
        return not any(op in self.unsupported for op in ops)

    @property
    def profile(self) -> ContractProfile:
        """The contract profile the world drives the plugin as."""
        return self.world.profile

    @property
    def listing_op(self) -> Operation:
        """The operation of a full listing in this profile: ``listResults`` (4.0.4) or
        ``listNewBackupResults`` (from 4.7 on)."""
        if self.profile.results_check == "list-results":
            return Operation.LIST_RESULTS
        return Operation.LIST_NEW_BACKUP_RESULTS

    def results_instance(self) -> Any:
        """The instance of the component that runs the results check (CPP, or API from 4.7)."""
        return self.platform.instances[self.profile.results_component]

    def full_listing(self, instance: Any = None) -> Gen:
        """A probe listing of every result, as this profile's results check lists them:
        ``list_results(None, {})`` or ``list_new_backup_results(None)``."""
        target = self.results_instance() if instance is None else instance
        op = self.listing_op
        args: tuple[Any, ...] = (None, frozenset()) if op is Operation.LIST_RESULTS else (None,)
        return (yield from self.cpp_call(target, op, args))

    def cpp_call(self, instance: Any, op: Operation, args: tuple[Any, ...]) -> Gen:
        """One probe call as the results check makes it (the Cloud Provider Proxy, or the
        API from 4.7 on), on ``instance``."""
        return (
            yield from self.world.invoker.call(
                self.profile.results_component,
                instance,
                op,
                None,
                args,
                pool=self.platform.cpp_pool,
                check=AUDIT_CHECK_ID,
                probe=True,
            )
        )

    def probe_vm(self, vm_index: int, op: Operation, args: tuple[Any, ...]) -> Gen:
        """One plugin call under the VM's lock; None if the VM stays locked too long."""
        task: Task = self.platform.submit_probe(vm_index, op, args)
        ended = self.platform.when_ended(task)
        yield ended | self.world.env.timeout(MAX_DRAIN_S)
        return task.record if ended.triggered else None

    def deployed_vms(self) -> list[int]:
        """Deployed VMs with no task and no backup lock: a probe on them runs at once."""
        fleet = self.world.fleet
        platform = self.platform
        return [
            i
            for i in range(min(fleet.size, 5000))
            if fleet.is_deployed(i) and not platform.vm_busy(fleet.uuid(i))
        ]

    def vm_index(self, vm_uuid: str) -> int | None:
        """The fleet index of ``vm_uuid``, or None for a VM the fleet does not know."""
        try:
            return int(self.world.fleet.index_of(vm_uuid))
        except KeyError:
            return None


class Checker:
    """One capability's checks on one world. Every hook does nothing unless overridden.

    ``rules`` are the rules the checker serves, its capability module's ``RULES``: a hook
    that raises gives them an ``error`` verdict.
    """

    rules: ClassVar[tuple[Rule, ...]] = ()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.world = ctx.world
        self.sink = ctx.sink
        self.observed = ctx.observations

    def before_run(self) -> None:
        """Before the simulation starts."""

    def on_call(self, rec: CallRecord) -> None:
        """Judge one plugin call (the platform's, or a probe's: ``rec.probe``)."""

    def on_check(self, check: CheckRecord) -> None:
        """Judge one periodic check as a whole."""

    def audit(self, end: EndOfRun) -> Gen:
        """After the full listing: judge what the run saw (read-only calls only)."""
        yield from ()

    def probe(self, end: EndOfRun) -> Gen:
        """Direct probes that change things, when probes are on."""
        yield from ()

    def ground_truth(self, end: EndOfRun) -> None:
        """Last: judge what the fake backup system knows."""

    def without_plugins(self) -> Gen:
        """Instead of the three end-of-run hooks, when a component never loaded its plugin."""
        yield from ()
