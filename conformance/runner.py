"""Run scenarios against a plugin, evaluate every rule, and build the report.

This is the library entry point behind ``bpcert run``, ``bpcert check`` and the
pytest plugin::

    import conformance
    report = conformance.run("reference")          # or "my.module:MyPlugin", or a class
    assert report.verdict == "conformant", report.rules_with("fail")
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from conformance.exit_codes import ExitCode
from conformance.findings import MAX_FINDINGS_PER_RULE, Sink, shared_causes
from conformance.plugin_properties import (
    hands_the_file_as_is,
    refuse_file_the_plugin_refused,
    refuse_incomplete_file,
)
from conformance.replay import ReplayFlags, check_replay, run_replay
from conformance.rules import FAKE_BACKEND, ISOLATED, RULES, Rule
from conformance.rules.base import NEEDS
from conformance.rules.checking import Checkers
from conformance.rules.registry import rules_for
from conformance.selection import checked_selection
from conformance.summary import plugin_info, scenario_summary
from conformance.usage import UsageError, write_properties
from reports.model import (
    IN_PROCESS_NOTE,
    NOT_EXERCISED,
    Finding,
    RuleResult,
    RunReport,
    ScenarioSummary,
    Verdict,
)
from simulator.bridge.loader import (
    Isolation,
    LoadedPlugin,
    component_classes,
    load_plugin,
    validate_plugin_class,
)
from simulator.interrupts import HarnessInterrupt, PluginStoppedAnswering, RunDeadline
from simulator.platform.invoker import MAX_CONSECUTIVE_MISSES
from simulator.profiles import ContractProfile, ProfileError, declared_profiles, select_profile
from simulator.scenario import Scenario, ScenarioError, load_scenario
from simulator.trace import TraceLevel
from simulator.world import World

__all__ = [
    "DEFAULT_SCENARIOS",
    "NOT_EXERCISED",
    "ScenarioRun",
    "evaluate_rules",
    "not_exercised",
    "profile_of",
    "resolve_plugin",
    "run",
    "run_scenario",
]

#: How many rule ids the note of an incomplete run names; the rule table has them all.
_NOTE_IDS = 12

#: What ``bpcert check`` runs by default: every part of the contract, the backup system's
#: out-of-band changes (``policy-sync``: an administrator's; ``lost-backups``: lost ones),
#: and (``retention``) a month of simulated time, so that a plugin's own retention of up
#: to 30 days runs out.
DEFAULT_SCENARIOS: tuple[str, ...] = (
    "smoke",
    "lifecycle",
    "on-demand",
    "outage",
    "misconfigured",
    "policy-sync",
    "lost-backups",
    "retention",
)


@dataclass
class ScenarioRun:
    """One scenario run: the world after the run, its findings and its summary."""

    world: World
    sink: Sink
    summary: ScenarioSummary
    checkers: Checkers
    #: Why the scenario stopped before its end (None: it ran to its end).
    stopped: str | None = None
    #: What stopped it: a method that stopped answering (the run goes on), the run's
    #: ``--max-wall`` or an interrupt (the run stops).
    stopped_by: PluginStoppedAnswering | RunDeadline | HarnessInterrupt | None = None


@dataclass
class _Merged:
    findings: list[Finding] = field(default_factory=list)
    total: int = 0
    exercised: bool = False
    declared: bool = False
    reasons: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_total: int = 0


def resolve_plugin(
    plugin: str | type | LoadedPlugin,
    *,
    isolation: Isolation = "in-process",
    call_timeout_s: float = 10.0,
) -> LoadedPlugin:
    """A :class:`LoadedPlugin` from a spec, a class, or an already loaded plugin."""
    if isinstance(plugin, LoadedPlugin):
        return plugin
    if isinstance(plugin, str):
        return load_plugin(plugin, isolation=isolation, call_timeout_s=call_timeout_s)
    spec = f"{plugin.__module__}:{plugin.__qualname__}"
    validate_plugin_class(plugin, spec)
    return LoadedPlugin(spec, plugin, "in-process")


def run_scenario(
    scenario: Scenario | str | Path,
    plugin: LoadedPlugin,
    *,
    seed: int | None = None,
    trace_path: Path | None = None,
    trace_level: TraceLevel = "full",
    trace_wall_time: bool = False,
    properties: Mapping[str, str] | None = None,
    call_timeout_s: float = 10.0,
    probes: bool = True,
    run_dir: Path | None = None,
    progress: Callable[[float], None] | None = None,
    scenario_label: str | Path | None = None,
    replay_flags: ReplayFlags | None = None,
    unanswered: Iterable[str] = (),
    profile: str | None = None,
) -> ScenarioRun:
    """Run one scenario with every checker attached; return its findings and summary.

    ``scenario_label`` is how the replay names the scenario (its name or its file);
    ``replay_flags`` the flags the replay carries (by default the plugin's spec and
    isolation and ``call_timeout_s``). ``unanswered`` are the methods that stopped
    answering in an earlier world of the run: one more miss of one stops this world.

    A world stopped early (:class:`~simulator.interrupts.PluginStoppedAnswering`, the
    run's deadline, an interrupt) skips its end-of-run audit; every rule it had not
    exercised then gets the reason in :attr:`ScenarioRun.stopped`.
    """
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    world = World(
        loaded,
        plugin.plugin_class,
        trace_path=trace_path,
        trace_level=trace_level,
        trace_wall_time=trace_wall_time,
        properties=properties,
        call_timeout_s=call_timeout_s,
        seed=seed,
        component_classes=component_classes(plugin),
        profile=profile,
    )
    label = scenario_label or loaded.name
    flags = replay_flags or ReplayFlags.of(plugin, call_timeout_s=call_timeout_s)
    sink = Sink(scenario=loaded.name, replay=run_replay(label, flags, world.seed))
    checkers = Checkers(world, sink, isolated=plugin.isolation == "process", probes=probes)
    world.observe(checkers)
    for op in unanswered:
        world.invoker.misses[op] = MAX_CONSECUTIVE_MISSES - 1
    stopped_by: PluginStoppedAnswering | RunDeadline | HarnessInterrupt | None = None
    try:
        world.run(progress=progress)
    except (PluginStoppedAnswering, RunDeadline, HarnessInterrupt) as exc:
        stopped_by = exc
    summary = scenario_summary(world, trace_path, run_dir)
    if stopped_by is None:
        return ScenarioRun(world, sink, summary, checkers)
    stopped = f"{stopped_by} in scenario {loaded.name}"
    for rule in RULES:
        if rule.id not in sink.exercised:
            sink.not_exercisable(rule.id, f"{NOT_EXERCISED}: {stopped}")
    return ScenarioRun(world, sink, summary, checkers, stopped, stopped_by)


def _one_backup_manager(scenario: Scenario, ref: Scenario | str | Path) -> None:
    """Refuse a scenario with a backup manager per datacenter: conformance runs simulate one."""
    fleet = scenario.fleet
    if fleet.manager_per_datacenter:
        label = scenario.name if isinstance(ref, Scenario) else str(ref)
        raise ScenarioError(
            label,
            f"a conformance run simulates one backup manager, and this scenario gives each "
            f"of its {fleet.datacenters} datacenters one; a load run simulates it, a world "
            f"per datacenter (bpcert load --scenario {label}), or set backup_managers: one",
            field="fleet.backup_managers",
        )


def _skip_reason(
    rule: Rule, plugin: LoadedPlugin, met: frozenset[str], profile: ContractProfile | None
) -> str | None:
    """Why ``rule`` is skipped whatever happened in the run: a declared need not met.

    The operations a rule needs are read as ``profile`` calls them, so an operation of an
    older generation that a plugin declares unsupported skips nothing in a newer one.
    """
    unsupported = frozenset(getattr(plugin.plugin_class, "unsupported_operations", ()))
    needed = rule.needs_operations if profile is None else profile.as_called(rule.needs_operations)
    missing = sorted(op.value for op in needed if op in unsupported)
    if missing:
        return f"needs {', '.join(missing)}, which the plugin declares unsupported"
    for need in sorted(rule.needs):
        if need not in met:
            return NEEDS[need]
    return None


def _checker_errors(m: _Merged) -> str | None:
    """The first checker failure on a rule, and how many more there were."""
    if not m.error_total:
        return None
    more = m.error_total - 1
    return m.errors[0] + (f" (and {more} more checker failure(s))" if more else "")


def evaluate_rules(
    rules: Sequence[Rule],
    sinks: Iterable[Sink],
    plugin: LoadedPlugin,
    used_fake_backend: bool,
    profile: ContractProfile | None = None,
) -> list[RuleResult]:
    """A verdict per rule from the findings of every world, under ``profile`` (None: the
    operations a rule needs are taken as written)."""
    met = {FAKE_BACKEND} if used_fake_backend else set()
    if plugin.isolation == "process":
        met.add(ISOLATED)
    merged: dict[str, _Merged] = {r.id: _Merged() for r in rules}
    for sink in sinks:
        for rule_id, m in merged.items():
            m.exercised |= rule_id in sink.exercised
            m.declared |= rule_id in sink.declared
            m.total += sink.totals.get(rule_id, 0)
            for f in sink.findings.get(rule_id, ()):
                if len(m.findings) < MAX_FINDINGS_PER_RULE:
                    m.findings.append(f)
            reason = sink.not_applicable.get(rule_id)
            if reason and reason not in m.reasons:
                m.reasons.append(reason)
            m.error_total += sink.error_totals.get(rule_id, 0)
            m.errors.extend(f"[{sink.scenario}] {e}" for e in sink.errors.get(rule_id, ()))
    results = []
    for rule in rules:
        m = merged[rule.id]
        reason = _skip_reason(rule, plugin, frozenset(met), profile)
        why: str | None
        if reason is not None:
            status, why = "skip", reason
        elif m.total:
            status, why = "fail", _checker_errors(m)
        elif m.error_total:
            # A checker failed while judging it: a pass cannot be trusted.
            status, why = "error", _checker_errors(m)
        elif m.exercised:
            status, why = "pass", None
        elif m.declared:
            status, why = "skip", "; ".join(m.reasons)
        else:
            # Nothing explains it: not a pass, and the run cannot be called complete.
            status = "skip"
            why = "; ".join(m.reasons) or "no scenario run created a situation that could fail it"
            if not why.startswith(f"{NOT_EXERCISED}:"):
                why = f"{NOT_EXERCISED}: {why}"
        results.append(
            RuleResult(
                id=rule.id,
                statement=rule.statement,
                category=rule.category,
                status=status,
                reason=why,
                findings=m.findings if status == "fail" else [],
                findings_total=m.total if status == "fail" else 0,
                advisory=rule.advisory,
            )
        )
    return results


def not_exercised(results: Iterable[RuleResult]) -> list[RuleResult]:
    """The rules no run exercised, with no declaration explaining why (their reason starts
    with :data:`NOT_EXERCISED`): they are never passes, and a required one (not advisory)
    makes a check ``incomplete`` (:func:`run`)."""
    return [r for r in results if r.not_exercised]


def _unexercised_note(
    missing: Sequence[RuleResult], kind: str, total: int, verdict: Verdict
) -> list[str]:
    """The note naming each required rule no run exercised (the rule table says why)."""
    if not missing:
        return []
    shown = ", ".join(r.id for r in missing[:_NOTE_IDS])
    if len(missing) > _NOTE_IDS:
        shown += f" and {len(missing) - _NOTE_IDS} more"
    if kind == "run":
        return [
            f"{NOT_EXERCISED} in this scenario ({len(missing)} of the {total} required rules, "
            f"each with why in the rule table; a run of one scenario neither passes them nor "
            f"holds them against the plugin, `bpcert check` runs the scenarios that exercise "
            f"every rule): {shown}"
        ]
    # A failed or stopped check is not called incomplete here: its verdict says more.
    head = "incomplete: " if verdict == "incomplete" else ""
    return [
        f"{head}{len(missing)} required rule(s) could not be exercised, each with why in "
        f"the rule table; none counts as a pass: {shown}"
    ]


def run(
    plugin: str | type | LoadedPlugin,
    *,
    scenarios: Sequence[str | Path | Scenario] = DEFAULT_SCENARIOS,
    rules: Iterable[str] = (),
    skip: Iterable[str] = (),
    examples: int = 0,
    seed: int | None = None,
    out: Path | None = None,
    isolation: Isolation = "in-process",
    properties: Mapping[str, str] | None = None,
    properties_file: str | Path | None = None,
    call_timeout_s: float = 10.0,
    kind: str = "check",
    progress: Callable[[str, float, float], None] | None = None,
    extra_sinks: Callable[[LoadedPlugin, int | None], list[Sink]] | None = None,
    trace_level: TraceLevel = "full",
    trace_wall_time: bool = False,
    max_wall_s: float | None = None,
    profile: str | None = None,
) -> RunReport:
    """Run ``scenarios`` (and ``examples`` property-based examples) and judge every rule.

    Writes each scenario's trace under ``out/<scenario>/trace.jsonl`` when ``out`` is
    given; the caller writes the report files. ``properties_file`` is the file
    ``properties`` were read from, for the replay lines; properties given without one
    are written to ``out/plugin.properties`` so that the replays can name it.

    ``max_wall_s`` bounds the run's wall time: when it is reached, the world running
    stops where it is, no other runs, and the verdict is ``incomplete`` (unless a rule
    already failed). An interrupt (SIGINT, SIGTERM) stops the run the same way, with the
    verdict ``interrupted``. Either way the report holds what ran.

    ``profile`` is the contract profile to run (default: the newest the plugin
    declares); only its rules are judged. An unknown profile, or one the plugin does not
    declare, is a :class:`~conformance.usage.UsageError`.
    """
    started = datetime.now(UTC)
    rules, skip = list(rules), list(skip)
    loaded = resolve_plugin(plugin, isolation=isolation, call_timeout_s=call_timeout_s)
    chosen = profile_of(loaded, profile)
    applicable = {r.id for r in rules_for(chosen)}
    selected = [r for r in checked_selection(rules, skip) if r.id in applicable]
    if properties is not None and properties_file is None and out is not None:
        properties_file = write_properties(properties, out / "plugin.properties")
    flags = ReplayFlags.of(
        loaded, properties=properties_file, call_timeout_s=call_timeout_s, profile=profile
    )
    properties_label = properties_file or "(the properties given)"
    if properties is not None:
        refuse_incomplete_file(loaded, properties_label, properties)
    runs: list[ScenarioRun] = []
    loaded_scenarios = [
        ref if isinstance(ref, Scenario) else load_scenario(ref) for ref in scenarios
    ]
    labels = [
        ref if isinstance(ref, str | Path) else scenario.name
        for ref, scenario in zip(scenarios, loaded_scenarios, strict=True)
    ]
    for ref, scenario in zip(scenarios, loaded_scenarios, strict=True):
        _one_backup_manager(scenario, ref)
    deadline = None if max_wall_s is None else time.monotonic() + max_wall_s
    unanswered: list[str] = []
    stopped_run: ScenarioRun | None = None
    cut: str | None = None  # why --max-wall kept the next scenario from starting
    for label, scenario in zip(labels, loaded_scenarios, strict=True):
        if _past(deadline):
            cut = f"--max-wall {max_wall_s:g} s reached before scenario {scenario.name}"
            break
        trace = None
        if out is not None:
            # One scenario writes its trace at the top of the run directory.
            folder = out / scenario.name if len(scenarios) > 1 else out
            trace = folder / "trace.jsonl"

        def tick(t: float, name: str = scenario.name, total: float = scenario.duration) -> None:
            if progress is not None:
                progress(name, t, total)
            if max_wall_s is not None and _past(deadline):
                raise RunDeadline(max_wall_s)

        runs.append(
            run_scenario(
                scenario,
                loaded,
                seed=seed,
                trace_path=trace,
                properties=properties,
                call_timeout_s=call_timeout_s,
                run_dir=out,
                progress=tick,
                scenario_label=label,
                replay_flags=flags,
                trace_level=trace_level,
                trace_wall_time=trace_wall_time,
                unanswered=unanswered,
                profile=chosen.id,
            )
        )
        stopped_by = runs[-1].stopped_by
        if isinstance(stopped_by, PluginStoppedAnswering):
            unanswered.append(stopped_by.op)
        elif stopped_by is not None:
            stopped_run = runs[-1]
            break
        if properties is not None and hands_the_file_as_is(scenario):
            refuse_file_the_plugin_refused(loaded, properties_label, properties, runs[-1].sink)
    sinks = [r.sink for r in runs]
    notes = [f"stopped: {r.stopped}" for r in runs if r.stopped]
    if cut is not None:
        notes.append(f"stopped: {cut}")
    not_run = [s.name for s in loaded_scenarios[len(runs) :]]
    if not_run:
        notes.append(f"scenarios not run: {', '.join(not_run)}")
    interrupted: HarnessInterrupt | None = None
    if examples and extra_sinks is not None:
        if stopped_run is not None or unanswered or _past(deadline):
            if stopped_run is not None:
                why = f"the run stopped ({stopped_run.stopped})"
            elif unanswered:
                why = f"the plugin stopped answering {', '.join(unanswered)}"
            else:
                why = f"--max-wall {max_wall_s:g} s reached"
            notes.append(f"the property-based examples were not run: {why}")
        else:
            try:
                sinks.extend(extra_sinks(loaded, seed))
            except HarnessInterrupt as exc:
                interrupted = exc
                notes.append(f"stopped: {exc} in the property-based examples")
    used_fake = any(r.checkers.uses_fake_backend for r in runs)
    results = evaluate_rules(selected, sinks, loaded, used_fake, chosen)
    failed = any(r.status == "fail" and not r.advisory for r in results)
    errored = any(r.status == "error" for r in results)
    # A required rule that no run exercised, with no declaration saying why, leaves a check
    # incomplete; `bpcert run` judges one scenario, which is never meant to exercise every
    # rule: it names them, and its verdict says `completed` instead of `conformant`.
    missing = [r for r in not_exercised(results) if not r.advisory]
    verdict, code = _verdict(
        failed,
        errored,
        stopped_run,
        bool(notes) or (bool(missing) and kind != "run"),
        interrupted,
        partial=bool(missing),
    )
    required = sum(not r.advisory for r in results)
    notes.extend(_unexercised_note(missing, kind, required, verdict))
    if loaded.isolation == "in-process":
        notes.append(IN_PROCESS_NOTE)
    wall = (datetime.now(UTC) - started).total_seconds()
    first_seed = runs[0].world.seed if runs else (seed or 0)
    # What was asked for, also when the run stopped before some of it ran.
    names = [s.name for s in loaded_scenarios]
    if kind == "run" and len(labels) == 1:
        replay = run_replay(labels[0], flags, seed)
    else:
        replay = check_replay(
            flags,
            scenarios=None if tuple(names) == DEFAULT_SCENARIOS else labels,
            rules=rules,
            skip=skip,
            examples=examples,
            seed=seed,
        )
    return RunReport(
        kind=kind,
        run_id=run_id(kind, loaded, names, seed),
        created_at=started.isoformat(timespec="seconds"),
        wall_seconds=wall,
        plugin=plugin_info(loaded),
        profile=chosen.id,
        seed=first_seed,
        replay=replay,
        verdict=verdict,
        exit_code=int(code),
        rules=results,
        causes=shared_causes(results, sinks),
        scenarios=[r.summary for r in runs],
        notes=notes,
    )


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _verdict(
    failed: bool,
    errored: bool,
    stopped_run: ScenarioRun | None,
    incomplete: bool,
    interrupted: HarnessInterrupt | None = None,
    *,
    partial: bool = False,
) -> tuple[Verdict, ExitCode]:
    """The verdict of a run: interrupted, non-conformant, error, incomplete, completed or
    conformant.

    ``incomplete``: the run stopped early, or a check left a required rule unexercised;
    ``partial``: a ``bpcert run`` left some unexercised (``completed``, exit 0: one
    scenario is a slice of the contract; ``conformant`` means every rule ran and passed).
    """
    if interrupted is not None or (
        stopped_run is not None and isinstance(stopped_run.stopped_by, HarnessInterrupt)
    ):
        return "interrupted", ExitCode.INTERRUPTED
    if failed:
        return "non-conformant", ExitCode.FINDINGS
    if errored:
        return "error", ExitCode.HARNESS_ERROR
    if incomplete:
        return "incomplete", ExitCode.INCOMPLETE
    if partial:
        return "completed", ExitCode.OK
    return "conformant", ExitCode.OK


def profile_of(plugin: LoadedPlugin, requested: str | None) -> ContractProfile:
    """The contract profile a run of ``plugin`` uses: ``requested``, or the newest one both
    the plugin and the harness speak. A usage error names what would be accepted."""
    try:
        return select_profile(declared_profiles(plugin.plugin_class), requested)
    except ProfileError as exc:
        raise UsageError(f"plugin {plugin.spec!r}: {exc}") from None


def run_id(kind: str, plugin: LoadedPlugin, names: list[str], seed: int | None) -> str:
    """A deterministic, filesystem-safe id for a run directory."""
    meta = plugin.metadata
    who = meta.type if meta is not None else plugin.spec
    what = names[0] if kind == "run" and len(names) == 1 else kind
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in f"{what}-{who}")
    return f"{safe}-seed{seed}" if seed is not None else safe
