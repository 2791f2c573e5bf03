"""The property-based suite: the reference passes, broken plugins fail with a replayable file."""

from __future__ import annotations

import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from conformance.findings import Sink
from conformance.properties.stateful import (
    EXAMPLE_SCENARIO,
    FAILURE_FILE,
    FAILURE_SCENARIO,
    Example,
    PropertyOutcome,
    Step,
    property_sinks,
    run_property_suite,
)
from conformance.replay import display_path
from conformance.runner import resolve_plugin, run_scenario
from simulator.bridge.loader import LoadedPlugin
from simulator.contract import (
    BackupConfiguration,
    BackupPolicy,
    BackupResult,
    BackupSchedule,
    BackupType,
    Connection,
    Periodicity,
    VirtualMachineInfo,
)
from simulator.platform.workload import shift_configuration
from simulator.reference import ReferencePlugin
from simulator.scenario import FleetSpec, PolicySpec, Scenario, dump_scenario, load_scenario

# ------------------------------------------------------------ broken plugins


class RemoveScheduleDoesNothing(ReferencePlugin):
    """Broken on purpose: undeploy leaves the VM's jobs running in the backup system."""

    def remove_schedule(self, connection: Connection, vm: VirtualMachineInfo) -> None:
        return None


class DropsResultsAtTheWindowEdge(ReferencePlugin):
    """Broken on purpose: treats the polling window as exclusive of last_check_date."""

    contract_profiles = ("abiquo-4.0.4",)  # list_results is the 4.0.4 profile's

    def list_results(
        self,
        connection: Connection,
        last_check_date: datetime | None,
        in_progress_result_provider_ids: frozenset[str],
    ) -> list[BackupResult]:
        results = super().list_results(connection, last_check_date, in_progress_result_provider_ids)
        asked = in_progress_result_provider_ids
        return [r for r in results if r.provider_id in asked or r.creation_date != last_check_date]


class RaisesForeignExceptions(ReferencePlugin):
    """Broken on purpose: a schedule call raises something other than BackupPluginException."""

    def apply_schedule(self, connection: Connection, vm: VirtualMachineInfo, schedule: Any) -> None:
        if schedule.policies:
            raise RuntimeError("boom")
        super().apply_schedule(connection, vm, schedule)


def _plugin(cls: type) -> LoadedPlugin:
    return resolve_plugin(cls)


@pytest.fixture(scope="module")
def remove_failure(tmp_path_factory: pytest.TempPathFactory) -> tuple[PropertyOutcome, Path]:
    out = tmp_path_factory.mktemp("remove")
    outcome = run_property_suite(
        _plugin(RemoveScheduleDoesNothing), examples=10, seed=1, out=out, shrink_budget=12
    )
    return outcome, out


# ----------------------------------------------------------------- reference


def test_the_reference_plugin_breaks_no_rule() -> None:
    outcome = run_property_suite(_plugin(ReferencePlugin), examples=8, seed=4, out=None)
    assert outcome.failure is None, outcome.failure and outcome.failure.sink.findings
    assert outcome.examples_run >= 8
    [sink] = outcome.sinks
    assert sink.scenario == EXAMPLE_SCENARIO
    assert sink.totals == {} and sink.findings == {}
    # The property runs count as exercising the rules they reached.
    for rule_id in (
        "errors.only-backup-plugin-exception",
        "polling.unique-ids-per-answer",
        "polling.window-complete",
        "schedules.backups-at-scheduled-times",
        "connections.closed-after-use",
    ):
        assert rule_id in sink.exercised


def test_property_sinks_is_empty_without_examples_and_refuses_negative_counts() -> None:
    plugin = _plugin(ReferencePlugin)
    assert property_sinks(plugin, 0, 1, None) == []
    with pytest.raises(ValueError, match="examples must be 0 or more"):
        property_sinks(plugin, -1, 1, None)


def test_property_sinks_for_a_passing_plugin_is_one_exercise_only_sink(tmp_path: Path) -> None:
    sinks = property_sinks(_plugin(ReferencePlugin), 2, 7, tmp_path)
    assert [s.totals for s in sinks] == [{}]
    assert sinks[0].exercised
    assert not (tmp_path / FAILURE_FILE).exists()


# ------------------------------------------------------------ broken plugins


def test_a_broken_plugin_yields_findings_and_a_replayable_scenario(
    remove_failure: tuple[PropertyOutcome, Path],
) -> None:
    outcome, out = remove_failure
    rule_id = "schedules.removed-schedule-stops"
    failure = outcome.failure
    assert failure is not None
    assert rule_id in failure.sink.totals
    # The minimal example undeploys a VM it deployed with a schedule.
    actions = [s.action for s in failure.steps]
    assert "undeploy" in actions
    assert any(s.action in ("deploy", "redeploy") for s in failure.steps)
    # The sinks: the passing examples' exercise-only sink, then the failure's.
    passing, failing = outcome.sinks
    assert passing.totals == {} and failing.scenario == FAILURE_SCENARIO
    path = out / FAILURE_FILE
    assert outcome.scenario_file == path and path.is_file()
    replay = outcome.replay
    assert replay is not None and failing.replay == replay
    spec = _plugin(RemoveScheduleDoesNothing).spec
    assert shlex.split(replay)[1:] == ["run", display_path(path), "--plugin", spec]
    for finding in failing.findings[rule_id]:
        assert finding.replay == replay and finding.scenario == FAILURE_SCENARIO
    # The file is the example: same seed, fleet, actions at the same instants.
    scenario = load_scenario(path)
    assert scenario == failure.to_scenario(description=scenario.description)
    assert scenario.seed == failure.base.seed and scenario.fleet == failure.base.fleet
    assert [(e.at, e.action, e.vm) for e in scenario.workload.timeline] == [
        (s.at, s.action, s.vm) for s in failure.steps
    ]
    assert "# Replay: " + replay in path.read_text()
    # ... and replaying it finds the same violation again.
    assert outcome.reproduced is not None and rule_id in outcome.reproduced
    again = run_scenario(path, _plugin(RemoveScheduleDoesNothing))
    assert rule_id in again.sink.totals


def test_the_same_seed_gives_the_same_result(
    remove_failure: tuple[PropertyOutcome, Path], tmp_path: Path
) -> None:
    first, _ = remove_failure
    second = run_property_suite(
        _plugin(RemoveScheduleDoesNothing), examples=10, seed=1, out=tmp_path, shrink_budget=12
    )
    assert first.failure is not None and second.failure is not None
    assert first.examples_run == second.examples_run
    assert first.failure.steps == second.failure.steps

    def body(path: Path | None) -> list[str]:
        assert path is not None
        return [line for line in path.read_text().splitlines() if not line.startswith("#")]

    assert body(first.scenario_file) == body(second.scenario_file)

    def messages(outcome: PropertyOutcome) -> dict[str, list[str]]:
        sink = outcome.sinks[-1]
        return {r: [f.message for f in fs] for r, fs in sink.findings.items()}

    assert messages(first) == messages(second)
    assert first.sinks[0].exercised == second.sinks[0].exercised


def test_a_window_that_drops_its_edge_is_found(tmp_path: Path) -> None:
    outcome = run_property_suite(
        _plugin(DropsResultsAtTheWindowEdge),
        examples=3,
        seed=2,
        out=tmp_path,
        shrink_budget=3,
        verify_replay=False,
    )
    assert outcome.failure is not None
    assert "polling.window-complete" in outcome.failure.sink.totals
    assert outcome.reproduced is None  # not verified on request


def test_a_plugin_failure_never_raises_it_becomes_findings(tmp_path: Path) -> None:
    outcome = run_property_suite(
        _plugin(RaisesForeignExceptions), examples=10, seed=5, out=tmp_path, shrink_budget=8
    )
    assert len(outcome.sinks) == 2
    assert "errors.only-backup-plugin-exception" in outcome.sinks[1].totals
    assert (tmp_path / FAILURE_FILE).is_file()
    # Shrinking stops after its budget: the first failure plus at most 8 more examples.
    assert outcome.first_failure_at is not None
    assert outcome.examples_run <= outcome.first_failure_at + 8


# ------------------------------------------------------- writing an example


def _config(subtype: Periodicity, time: str) -> BackupConfiguration:
    return BackupConfiguration(type=BackupType.COMPLETE, subtype=subtype, time=time)


def test_a_changed_configuration_becomes_an_extra_policy_with_a_derived_code() -> None:
    p0 = PolicySpec(
        code="P0",
        name="Nightly",
        retention=2 * 86400.0,
        configurations=(_config(Periodicity.DAILY, "23:00:00 +0000"),),
    )
    p1 = PolicySpec(code="P1", name="Hourly", configurations=(_config(Periodicity.HOURLY, "6"),))
    base = Scenario(
        name=EXAMPLE_SCENARIO,
        seed=42,
        duration=365 * 86400.0,
        fleet=FleetSpec(vms=3, deployed_at_start=0),
        policies=(p0, p1),
    )
    original = p0.to_policy()
    moved = BackupPolicy(
        code="P0",
        name="Nightly",
        configurations=(shift_configuration(original.configurations[0], 2),),
    )
    example = Example(
        index=1,
        base=base,
        sink=Sink(scenario=EXAMPLE_SCENARIO),
        steps=[
            Step(60.5, "deploy", 0, BackupSchedule(policies=(original, p1.to_policy()))),
            Step(180.5, "reconfigure", 0, BackupSchedule(policies=(moved, p1.to_policy()))),
            Step(300.5, "reconfigure", 0, BackupSchedule(policies=(original,))),
            Step(420.5, "reconfigure", 0, BackupSchedule(policies=(moved,))),
            Step(540.5, "undeploy", 0),
            Step(660.5, "redeploy", 0),
            Step(780.5, "backup_now", 1, replication=True),
        ],
        outages=[(200.5, 800.5)],
        end_s=90000.5,
    )
    scenario = example.to_scenario()
    assert [p.code for p in scenario.policies] == ["P0", "P1", "P0-changed-1"]
    derived = scenario.policy("P0-changed-1")
    assert derived.retention == p0.retention
    assert derived.configurations[0].time == "01:00:00 +0000"
    timeline = scenario.workload.timeline
    assert [e.policies for e in timeline] == [
        ("P0", "P1"),
        ("P0-changed-1", "P1"),
        ("P0",),
        ("P0-changed-1",),  # the same variant keeps its code
        None,
        None,
        None,
    ]
    assert timeline[-1].replication is True
    assert [(o.start, o.end) for o in scenario.faults.outages] == [(200.5, 800.5)]
    assert scenario.duration == 90000.5 and scenario.seed == 42
    # What the suite writes loads back to the same scenario.
    from simulator.scenario import load_scenario_text

    assert load_scenario_text(dump_scenario(scenario, comment="x\ny")) == scenario


def test_an_unfinished_example_cannot_be_written() -> None:
    base = Scenario(name="x", duration=10.0, fleet=FleetSpec(vms=1))
    with pytest.raises(ValueError, match="has not finished"):
        Example(1, base, Sink(scenario="x")).to_scenario()
