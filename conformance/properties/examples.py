"""What one example of the property-based suite did, and the replay file of a failing one.

An :class:`Example` is the record the state machine (:mod:`conformance.properties.machine`)
keeps while it drives a plugin: the base scenario drawn for it, each user action as a
:class:`Step` at its simulated instant, the outages and the findings. A failing example
becomes a scenario whose timeline repeats those actions at the same instants
(:meth:`Example.to_scenario`); the minimal one is written to :data:`FAILURE_FILE` with a
comment naming its findings and the ``bpcert run`` command that replays it, replayed once
to confirm it, and its findings carry that command (:func:`write_failure`,
:func:`failure_sink`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from conformance.findings import Sink
from conformance.replay import ReplayFlags, run_replay
from conformance.runner import run_scenario
from simulator.bridge.loader import LoadedPlugin
from simulator.contract import BackupPolicy, BackupSchedule
from simulator.scenario import (
    Action,
    FaultsSpec,
    OutageSpec,
    PolicySpec,
    Scenario,
    TimelineEntry,
    WorkloadSpec,
    dump_scenario,
)

__all__ = [
    "EXAMPLE_SCENARIO",
    "FAILURE_FILE",
    "FAILURE_SCENARIO",
    "Example",
    "Step",
    "failure_sink",
    "write_failure",
]

#: Where the minimal failing example is written, under ``out``.
FAILURE_FILE = "property-failure.yaml"
#: The name of each example's world, and of the written failing scenario.
EXAMPLE_SCENARIO = "property-based"
FAILURE_SCENARIO = "property-failure"


@dataclass(frozen=True)
class Step:
    """One user action of an example, as the scenario timeline will replay it."""

    at: float
    action: Action
    vm: int
    schedule: BackupSchedule | None = None
    replication: bool = False


@dataclass
class Example:
    """What one example did: its base scenario, its actions, outages and findings."""

    index: int
    base: Scenario
    sink: Sink
    steps: list[Step] = field(default_factory=list)
    outages: list[tuple[float, float]] = field(default_factory=list)
    end_s: float | None = None

    @property
    def failed(self) -> bool:
        """True when a checker found a violation."""
        return bool(self.sink.totals)

    def to_scenario(self, *, name: str = FAILURE_SCENARIO, description: str = "") -> Scenario:
        """The scenario whose timeline repeats this example's actions at the same instants.

        Policies are named by code. A reconfigure that changed a configuration gave the
        VM a policy that is not one of the scenario's; it is added as an extra policy
        with a derived code (``P0-changed-1``), with the retention of its original.
        """
        if self.end_s is None:
            raise ValueError(f"example {self.index} has not finished, so it has no end")
        base = self.base
        codes: dict[BackupPolicy, str] = {p.to_policy(): p.code for p in base.policies}
        taken = {p.code for p in base.policies}
        extra: list[PolicySpec] = []

        def code_of(policy: BackupPolicy) -> str:
            known = codes.get(policy)
            if known is not None:
                return known
            original = base.policy(policy.code)
            n = 1
            while f"{policy.code}-changed-{n}" in taken:
                n += 1
            derived = f"{policy.code}-changed-{n}"
            taken.add(derived)
            codes[policy] = derived
            extra.append(
                PolicySpec(
                    code=derived,
                    name=policy.name,
                    description=policy.description,
                    replication=policy.replication,
                    retention=original.retention,
                    configurations=policy.configurations,
                )
            )
            return derived

        timeline = []
        for step in self.steps:
            policies = None
            if step.action in ("deploy", "reconfigure"):
                schedule = step.schedule or BackupSchedule()
                policies = tuple(code_of(p) for p in schedule.policies)
            timeline.append(
                TimelineEntry(
                    at=step.at,
                    action=step.action,
                    vm=step.vm,
                    policies=policies,
                    replication=step.replication,
                )
            )
        return Scenario(
            name=name,
            description=description,
            seed=base.seed,
            start=base.start,
            duration=self.end_s,
            fleet=base.fleet,
            policies=(*base.policies, *extra),
            platform=base.platform,
            backup_system=base.backup_system,
            latency=base.latency,
            workload=WorkloadSpec(timeline=tuple(timeline)),
            faults=FaultsSpec(
                outages=tuple(OutageSpec(start=a, duration=b - a) for a, b in self.outages)
            ),
        )


def _replay_command(
    path: Path, plugin: LoadedPlugin, call_timeout_s: float, profile: str | None = None
) -> str:
    # No --properties: the examples run with the plugin's example properties.
    flags = ReplayFlags.of(plugin, call_timeout_s=call_timeout_s, profile=profile)
    return run_replay(path, flags, None)


def _comment(
    example: Example,
    plugin: LoadedPlugin,
    seed: int,
    replay: str,
    reproduced: frozenset[str] | None,
) -> str:
    sink = example.sink
    lines = [
        "The minimal failing example of bpcert's property-based suite.",
        f"Plugin {plugin.spec}, suite seed {seed}, example {example.index}.",
        f"Replay: {replay}",
        "",
        "Findings:",
    ]
    for rule_id in sorted(sink.totals):
        first = sink.findings[rule_id][0].message if sink.findings.get(rule_id) else ""
        lines.append(f"  {rule_id} ({sink.totals[rule_id]}): {first}")
    if reproduced is not None:
        lost = sorted(set(sink.totals) - reproduced)
        lines.append("")
        if lost:
            lines.append(
                f"Replaying this file did not reproduce: {', '.join(lost)}. A reconfigure "
                "that changed a configuration replays as a policy with a derived code."
            )
        else:
            lines.append("Replaying this file reproduces every rule above.")
    return "\n".join(lines)


def write_failure(
    example: Example,
    plugin: LoadedPlugin,
    seed: int,
    out: Path | None,
    verify: bool,
    call_timeout_s: float,
    profile: str | None = None,
) -> tuple[Path, str, frozenset[str] | None]:
    """Write ``example`` as a replayable scenario to ``out`` (a temporary directory when
    ``None``); with ``verify``, replay it once. Returns the file, its replay command and
    the rules the replay found again (``None`` when not verified)."""
    directory = out if out is not None else Path(tempfile.mkdtemp(prefix="bpcert-property-"))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / FAILURE_FILE
    scenario = example.to_scenario(
        description=(
            f"Minimal failing example of the property-based suite for {plugin.spec} "
            f"(suite seed {seed})."
        )
    )
    replay = _replay_command(path, plugin, call_timeout_s, profile)
    # UTF-8 whatever the locale; a finding may quote a plugin's message, lone surrogates
    # and all, which is written as its escape rather than failing the suite.
    text = dump_scenario(scenario, comment=_comment(example, plugin, seed, replay, None))
    path.write_text(text, encoding="utf-8", errors="backslashreplace")
    reproduced: frozenset[str] | None = None
    if verify:
        again = run_scenario(path, plugin, call_timeout_s=call_timeout_s, profile=profile)
        reproduced = frozenset(again.sink.totals) & frozenset(example.sink.totals)
        text = dump_scenario(scenario, comment=_comment(example, plugin, seed, replay, reproduced))
        path.write_text(text, encoding="utf-8", errors="backslashreplace")
    return path, replay, reproduced


def failure_sink(
    example: Example, replay: str, reproduced: frozenset[str] | None, path: Path
) -> Sink:
    """The sink of the minimal failing example: its findings carry ``replay``, and a
    rule the replay did not reproduce says so."""
    source = example.sink
    sink = Sink(scenario=FAILURE_SCENARIO, replay=replay)
    sink.exercised = set(source.exercised)
    sink.not_applicable = dict(source.not_applicable)
    sink.totals = dict(source.totals)
    for rule_id, findings in source.findings.items():
        note = ""
        if reproduced is not None and rule_id not in reproduced:
            note = (
                f" (note: replaying {path} did not reproduce this rule; the property example "
                "changed a configuration in place, which a scenario can only replay as a "
                "policy with another code)"
            )
        sink.findings[rule_id] = [
            f.model_copy(
                update={"replay": replay, "scenario": FAILURE_SCENARIO, "message": f.message + note}
            )
            for f in findings
        ]
    return sink
