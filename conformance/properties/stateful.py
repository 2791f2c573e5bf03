"""The property-based suite: a Hypothesis state machine drives a plugin through the platform.

Each example is a small simulated world with every conformance checker attached, driven
by a Hypothesis state machine through user actions in their lifecycle phases, then run
one more simulated day for the end-of-run audit; no checker may find anything
(:mod:`conformance.properties.machine` describes the world and the actions).

A failing example is shrunk by Hypothesis, and the smallest one is written as a
scenario file whose timeline repeats the same actions at the same simulated instants,
so that ``bpcert run FILE --plugin SPEC`` replays it (see ``docs/stateful.md``)::

    sinks = property_sinks(load_plugin("reference"), examples=10, seed=1, out=Path("out"))

:func:`property_sinks` never raises on a plugin failure: failures become findings.
Its time is bounded: at most ``examples`` examples are generated, and shrinking stops
after a fixed number of further examples (:data:`SHRINK_BUDGET`).

This module is the suite: it runs the examples and sorts what they found. The record of
an example and its replay file are in :mod:`conformance.properties.examples`; the names
tests and callers use are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import HypothesisException
from hypothesis.stateful import run_state_machine_as_test

from conformance.findings import Sink
from conformance.properties.examples import (
    EXAMPLE_SCENARIO,
    FAILURE_FILE,
    FAILURE_SCENARIO,
    Example,
    Step,
    failure_sink,
    write_failure,
)
from conformance.properties.machine import Campaign, PropertyFailure, machine_factory
from simulator.bridge.loader import LoadedPlugin

__all__ = [
    "DEFAULT_SEED",
    "EXAMPLE_SCENARIO",
    "FAILURE_FILE",
    "FAILURE_SCENARIO",
    "SHRINK_BUDGET",
    "STEP_COUNT",
    "Example",
    "PropertyFailure",
    "PropertyOutcome",
    "Step",
    "property_sinks",
    "run_property_suite",
]

#: The suite's seed when none is given, so that a plain run is reproducible too.
DEFAULT_SEED = 0
#: Steps per example, the initialisation included (Hypothesis ``stateful_step_count``).
STEP_COUNT = 15
#: Examples run to shrink a failure, after the one that first failed.
SHRINK_BUDGET = 60


@dataclass
class PropertyOutcome:
    """What :func:`run_property_suite` found.

    ``sinks`` is what :func:`property_sinks` returns and ``examples_run`` how many
    examples ran, shrinking included. When an example failed, ``first_failure_at`` is
    the number of the first one that did, ``failure`` the minimal one,
    ``scenario_file`` its replayable scenario, ``replay`` the command that replays it
    and ``reproduced`` the rule ids the replay found again (``None`` when the replay
    was not verified).
    """

    sinks: list[Sink]
    examples_run: int
    first_failure_at: int | None = None
    failure: Example | None = None
    scenario_file: Path | None = None
    replay: str | None = None
    reproduced: frozenset[str] | None = None


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def run_property_suite(
    plugin: LoadedPlugin,
    examples: int,
    seed: int | None,
    out: Path | None,
    *,
    shrink_budget: int = SHRINK_BUDGET,
    step_count: int = STEP_COUNT,
    verify_replay: bool = True,
    call_timeout_s: float = 10.0,
    profile: str | None = None,
) -> PropertyOutcome:
    """Run ``examples`` examples of the state machine against ``plugin``.

    The same ``seed`` (``None`` means :data:`DEFAULT_SEED`) gives the same examples and
    so the same verdicts. A failing example is shrunk for at most ``shrink_budget``
    further examples; the smallest is written to ``out/property-failure.yaml`` (a
    temporary directory when ``out`` is ``None``) and, with ``verify_replay``, replayed
    once to confirm that the file reproduces it. ``call_timeout_s`` is the wall time a
    plugin call may take before it is indeterminate (``--call-timeout``).

    Raises :class:`ValueError` for a negative ``examples`` or a ``step_count`` below 2.
    A plugin failure never raises: it becomes findings.
    """
    if examples < 0:
        raise ValueError(f"examples must be 0 or more, got {examples}")
    if step_count < 2:
        raise ValueError(
            f"step_count must be at least 2 (the world and one action), got {step_count}"
        )
    if examples == 0:
        return PropertyOutcome(sinks=[], examples_run=0)
    suite_seed = DEFAULT_SEED if seed is None else seed
    campaign = Campaign(plugin, shrink_budget, call_timeout_s, profile)
    factory = hypothesis_seed(suite_seed)(machine_factory(campaign))
    config = settings(
        max_examples=examples,
        stateful_step_count=step_count,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    try:
        run_state_machine_as_test(cast(Any, factory), settings=config)
    except Exception as exc:  # sorted below: findings, Hypothesis, or a harness bug
        for leaf in _leaves(exc):
            if not isinstance(leaf, PropertyFailure | HypothesisException):
                raise leaf from exc
    passing = campaign.checker_errors
    passing.exercised = set(campaign.exercised)
    passing.not_applicable = dict(campaign.not_applicable)
    failure = campaign.minimal_failure()
    if failure is None:
        return PropertyOutcome(sinks=[passing], examples_run=campaign.executions)
    path, replay, reproduced = write_failure(
        failure, plugin, suite_seed, out, verify_replay, call_timeout_s, profile
    )
    return PropertyOutcome(
        sinks=[passing, failure_sink(failure, replay, reproduced, path)],
        examples_run=campaign.executions,
        first_failure_at=campaign.first_failure,
        failure=failure,
        scenario_file=path,
        replay=replay,
        reproduced=reproduced,
    )


def property_sinks(
    plugin: LoadedPlugin,
    examples: int,
    seed: int | None,
    out: Path | None,
    *,
    call_timeout_s: float = 10.0,
    profile: str | None = None,
) -> list[Sink]:
    """Findings of ``examples`` property-based examples (``bpcert check --examples``).

    One exercise-only sink for the passing examples, so that the rules they exercised
    count as exercised; plus, when an example failed, the sink of the minimal failing
    example, whose findings carry the ``bpcert run <file> --plugin <spec>`` command that
    replays it. See :func:`run_property_suite`.
    """
    outcome = run_property_suite(
        plugin, examples, seed, out, call_timeout_s=call_timeout_s, profile=profile
    )
    return outcome.sinks
