"""A backup manager per datacenter: the split into worlds, and load runs that merge them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.exit_codes import ExitCode
from conformance.load import (
    LoadJob,
    LoadResult,
    build_load_scenario,
    default_datacenters,
    run_load_scenario,
    sweep_jobs,
)
from reports.model import load_report
from simulator.reference import ReferencePlugin
from simulator.scenario import (
    Scenario,
    datacenter_seed,
    load_scenario,
    load_scenario_text,
    split_by_datacenter,
)
from simulator.world import World

_TEN_VMS = """
name: three-dcs
seed: 9
duration: 1d
fleet:
  vms: 10
  datacenters: 3
  backup_managers: per-datacenter
  deployed_at_start: 7
platform:
  vdcs: 4
workload:
  rates: {deploy: 30, backup_now: 6}
  timeline:
    - {at: 1h, action: backup_now, vm: 0}
    - {at: 2h, action: backup_now, vm: 4}
    - {at: 3h, action: power_off, vm: 8}
"""


def _three_dcs() -> Scenario:
    return load_scenario_text(_TEN_VMS, "three-dcs.yaml")


def test_split_deals_vms_round_robin_and_shares_out_the_workload() -> None:
    parts = split_by_datacenter(_three_dcs())
    assert [p.name for p in parts] == ["three-dcs-dc1", "three-dcs-dc2", "three-dcs-dc3"]
    # VM i is VM i // 3 of datacenter i % 3.
    assert [p.fleet.vms for p in parts] == [4, 3, 3]
    # The first 7 VMs (0..6) are deployed: 0, 3, 6 | 1, 4 | 2, 5.
    assert [p.fleet.deployed_at_start for p in parts] == [3, 2, 2]
    assert [[(e.vm, e.action) for e in p.workload.timeline] for p in parts] == [
        [(0, "backup_now")],
        [(1, "backup_now")],
        [(2, "power_off")],
    ]
    assert [p.workload.rates.deploy for p in parts] == pytest.approx([12.0, 9.0, 9.0])
    assert sum(p.workload.rates.backup_now for p in parts) == pytest.approx(6.0)
    assert [p.platform.vdcs for p in parts] == [2, 1, 1]
    for p in parts:
        assert (p.fleet.datacenters, p.fleet.backup_managers) == (1, "one")
        assert p.duration == 86400.0 and p.policies == _three_dcs().policies
    assert [p.seed for p in parts] == [datacenter_seed(9, k) for k in range(3)]
    assert len({p.seed for p in parts}) == 3
    assert split_by_datacenter(_three_dcs()) == parts  # the same split every time


def test_split_leaves_one_backup_manager_alone() -> None:
    one = _three_dcs().model_copy(
        update={"fleet": _three_dcs().fleet.model_copy(update={"backup_managers": "one"})}
    )
    assert split_by_datacenter(one) == [one]
    smoke = load_scenario("smoke")
    assert split_by_datacenter(smoke) == [smoke]


def test_split_refuses_more_datacenters_than_vms() -> None:
    s = _three_dcs()
    tiny = s.model_copy(
        update={"fleet": s.fleet.model_copy(update={"vms": 2, "deployed_at_start": 2})}
    )
    with pytest.raises(ValueError, match="2 VMs cannot fill 3 datacenters"):
        split_by_datacenter(tiny)


def test_one_world_refuses_several_backup_managers() -> None:
    with pytest.raises(ValueError, match="split_by_datacenter"):
        World(_three_dcs(), ReferencePlugin)


def test_a_conformance_run_of_a_per_datacenter_scenario_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "load-m", "--quiet", "--out", str(tmp_path / "run")])
    assert code == ExitCode.USAGE
    err = " ".join(capsys.readouterr().err.split())
    assert "fleet.backup_managers" in err and "4 datacenters" in err
    assert not (tmp_path / "run" / "report.json").exists()


def test_the_load_profiles_give_each_datacenter_a_backup_manager() -> None:
    for name, dcs in (("load-m", 4), ("load-l", 10)):
        fleet = load_scenario(name).fleet
        assert (fleet.datacenters, fleet.backup_managers) == (dcs, "per-datacenter")


def test_bpcert_load_spreads_vms_at_load_m_density() -> None:
    assert [default_datacenters(n) for n in (1, 25_000, 25_001, 100_000)] == [1, 1, 2, 4]
    big = build_load_scenario(100_000, 1)
    assert (big.fleet.datacenters, big.fleet.backup_managers) == (4, "per-datacenter")
    small = build_load_scenario(300, 1)
    assert (small.fleet.datacenters, small.fleet.backup_managers) == (1, "one")
    assert build_load_scenario(300, 1, datacenters=3).fleet.datacenters == 3
    # A sweep measures one backup manager's growth, whatever the fleet size.
    assert {j.datacenters for j in sweep_jobs("reference", vms=[10, 100_000])} == {1}


def _comparable(result: LoadResult) -> dict[str, Any]:
    """The merged result without what measures this machine (wall time, memory)."""
    summary = result.summary.model_dump(mode="json")
    summary.pop("wall_seconds")
    for op in summary["operations"]:
        op.pop("wall_ms")
    return {
        "summary": summary,
        "checks": result.checks,
        "overruns": result.overruns,
        "p95": result.check_p95_s,
        "events": result.sim_events,
        "backups": result.backups_taken,
        "freshness": result.freshness_s.to_dict(),
        "queue": result.queue_wait_s.to_dict(),
    }


def test_a_load_run_merges_its_datacenters_whatever_the_workers() -> None:
    job = LoadJob(plugin="reference", vms=600, days=1, seed=4, latency="fixed", datacenters=2)
    scenario = job.scenario()
    here = run_load_scenario(scenario, job, workers=0)
    pooled = run_load_scenario(scenario, job, workers=2)
    assert here.datacenters == pooled.datacenters == 2
    assert _comparable(here) == _comparable(pooled)
    # The merge adds up what each datacenter's world measured alone.
    alone = [run_load_scenario(part, job) for part in split_by_datacenter(scenario)]
    assert [a.datacenters for a in alone] == [1, 1]
    assert here.summary.vms == 600 == sum(a.summary.vms for a in alone)
    assert here.checks == sum(a.checks for a in alone) == len(here.summary.checks)
    assert here.backups_taken == sum(a.backups_taken for a in alone) > 0
    assert here.sim_events == sum(a.sim_events for a in alone)
    assert here.freshness_s.count == sum(a.freshness_s.count for a in alone)
    assert here.summary.results_seen == sum(a.summary.results_seen for a in alone)
    calls = {op.op: op.calls for op in here.summary.operations}
    for op in ("applySchedule", "listNewBackupResults", "getBackupResult"):  # abiquo-6.0
        assert calls[op] == sum(o.calls for a in alone for o in a.summary.operations if o.op == op)
    starts = [c.start for c in here.summary.checks]
    assert starts == sorted(starts)
    assert len(here.memory_by_day_mb) == 1 and here.memory_by_day_mb[0] > 0


def test_bpcert_load_with_datacenters_writes_a_trace_for_each(tmp_path: Path) -> None:
    out = tmp_path / "load"
    args = ["load", "--vms", "200", "--days", "0.5", "--datacenters", "2", "--workers", "0"]
    args += ["--profile", "abiquo-4.0.4"]  # the listResults metrics checked below
    assert main([*args, "--latency", "fixed", "--out", str(out), "--quiet"]) == 0
    report = load_report(out / "report.json")
    assert "--datacenters 2" in report.replay
    (summary,) = report.scenarios
    assert summary.vms == 200 and summary.checks_total > 0
    assert summary.trace_file == "trace-dc1.jsonl, trace-dc2.jsonl"
    assert not (out / "trace.jsonl").exists()
    for k in (1, 2):
        lines = (out / f"trace-dc{k}.jsonl").read_text().splitlines()
        assert any(json.loads(line)["kind"] == "call" for line in lines)
    assert any("datacenters: 2" in note for note in report.notes)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vms", "10", "--datacenters", "0"], "--datacenters must be a whole number >= 1"),
        (["--vms", "10", "--datacenters", "11"], "must not exceed --vms (10)"),
        (["--vms", "10", "--workers", "-1"], "--workers must be 0"),
    ],
)
def test_bad_datacenter_arguments_are_usage_errors(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["load", *args, "--out", str(tmp_path), "--quiet"]) == ExitCode.USAGE
    assert message in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "report.json").exists()


def test_a_datacenter_process_that_dies_is_a_clear_harness_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["load", "--plugin", "tests.plugins.process_exit:ExitsInListResults"]
    args += ["--vms", "20", "--days", "0.1", "--datacenters", "2", "--workers", "2"]
    assert main([*args, "--out", str(tmp_path), "--quiet"]) == ExitCode.HARNESS_ERROR
    err = " ".join(capsys.readouterr().err.split())
    assert "a process simulating a datacenter ended abruptly" in err
    assert "--isolation process" in err and "Traceback" not in err
    assert not (tmp_path / "report.json").exists()


def test_the_idle_core_hook_runs_once_when_a_cpu_has_no_datacenter_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = LoadJob(plugin="reference", vms=600, days=0.25, seed=4, latency="fixed", datacenters=3)
    scenario = job.scenario()
    seen: list[str] = []

    def progress(t: float) -> None:
        seen.append("done")

    # Two CPUs, two workers, three datacenters: both CPUs are busy until one finishes.
    monkeypatch.setattr("conformance.load.run.os.cpu_count", lambda: 2)
    run_load_scenario(
        scenario, job, workers=2, progress=progress, on_idle_core=lambda: seen.append("idle")
    )
    # The first to end frees a CPU for the third; the second to end leaves one idle.
    assert seen == ["done", "done", "idle", "done"]
    # More CPUs than workers: one is idle from the start.
    seen.clear()
    monkeypatch.setattr("conformance.load.run.os.cpu_count", lambda: 4)
    run_load_scenario(
        scenario, job, workers=2, progress=progress, on_idle_core=lambda: seen.append("idle")
    )
    assert seen[0] == "idle" and seen.count("idle") == 1 and seen.count("done") == 3
