"""``bpcert load --scenario``: a built-in scenario or a YAML file, run as a load run."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml

from conformance.cli import main
from conformance.load import LoadError, LoadJob, scenario_for_load
from reports.model import load_report
from simulator.scenario import load_scenario


def _small_load_m(path: Path, vms: int = 80) -> Path:
    """load-m's shape (a backup manager per datacenter) on a few VMs for six hours."""
    data = load_scenario("load-m").model_dump(mode="json")
    scale = vms / data["fleet"]["vms"]
    data["name"] = "small-load-m"
    data["duration"] = "6h"
    data["fleet"]["vms"] = vms
    data["fleet"]["datacenters"] = 2
    data["fleet"]["hypervisors_per_datacenter"] = 2
    data["fleet"]["deployed_at_start"] = vms - 4
    data["workload"]["rates"] = {k: v * scale for k, v in data["workload"]["rates"].items()}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_scenario_with_a_manager_per_datacenter_runs_as_a_load_run_and_replays(
    tmp_path: Path,
) -> None:
    scenario = _small_load_m(tmp_path / "small.yaml")
    out = tmp_path / "first"
    args = ["load", "--scenario", str(scenario), "--check-delay", "300", "--seed", "5"]
    args += ["--profile", "abiquo-4.0.4"]  # the listResults trace checked below
    assert main([*args, "--workers", "0", "--out", str(out), "--quiet"]) == 0

    report = load_report(out / "report.json")
    assert report.kind == "load" and report.seed == 5
    load = report.load
    assert load is not None
    # The scenario's fleet and duration, the check delay given on the command line.
    assert (load.vms, load.days, load.check_delay_s) == (80, 0.25, 300.0)
    assert load.datacenters == 2
    (summary,) = report.scenarios
    assert summary.name == "small-load-m"
    assert summary.checks_total > 0 and summary.backups_taken > 0
    # The scenario's latency (50 ms a call, fixed), not the template's measured one.
    assert "latency mode: fixed (reproducible)" in report.notes
    assert {op.latency_s.p95 for op in summary.operations if op.op != "<init>"} == {0.05}
    traces = sorted(p.name for p in out.glob("trace-dc*.jsonl"))
    assert traces == ["trace-dc1.jsonl", "trace-dc2.jsonl"]

    # The replay names the scenario and runs the same worlds again, byte for byte.
    replay = shlex.split(report.replay)
    assert Path(replay[0]).name == "bpcert" and replay[1] == "load" and "--scenario" in replay
    assert "--vms" not in replay and "--seed" in replay
    again = tmp_path / "again"
    words = replay[replay.index("load") :]
    assert main([*words, "--workers", "2", "--out", str(again), "--quiet"]) == 0
    for name in traces:
        assert (again / name).read_bytes() == (out / name).read_bytes()
        calls = [json.loads(line) for line in (out / name).read_text().splitlines()]
        assert any(r["kind"] == "call" and r["op"] == "listResults" for r in calls)


def test_a_job_for_a_scenario_runs_it_as_it_stands_unless_told_otherwise() -> None:
    built_in = load_scenario("load-m")
    job = LoadJob.for_scenario("load-m", plugin="reference")
    assert job.scenario() == built_in
    assert (job.vms, job.days, job.check_delay_s, job.latency) == (100_000, 30.0, 600.0, "fixed")

    changed = LoadJob.for_scenario("load-m", plugin="reference", days=2, seed=9)
    scenario = changed.scenario()
    assert (scenario.duration, scenario.seed, changed.days) == (2 * 86400.0, 9, 2.0)
    assert scenario.fleet == built_in.fleet and scenario.policies == built_in.policies
    assert scenario.platform == built_in.platform and scenario.latency == built_in.latency


def test_a_shorter_run_that_leaves_out_the_scenarios_own_events_is_refused() -> None:
    with pytest.raises(LoadError) as raised:
        scenario_for_load("outage", days=0.1)
    assert "ends after the scenario" in str(raised.value)
    assert "Value error" not in str(raised.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "load-m", "--vms", "10"], "not allowed with argument --scenario"),
        ([], "one of the arguments --vms --scenario is required"),
        (
            ["--scenario", "load-m", "--datacenters", "2", "--latency", "fixed"],
            "--datacenters, --latency shape the load template and cannot go with --scenario",
        ),
        (["--scenario", "load-m", "--policy-mix", "night:1"], "'load-m' sets it itself"),
        (["--scenario", "lod-m"], "did you mean 'load-m'?"),
        (["--scenario", "load-m", "--days", "-1"], "--days must be a positive number"),
        (["--scenario", "outage", "--days", "0.1"], "ends after the scenario"),
    ],
)
def test_a_bad_scenario_load_is_a_usage_error_that_writes_nothing(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    try:
        code = main(["load", *args, "--out", str(out), "--quiet"])
    except SystemExit as exit_:  # argparse's own errors leave with the usage exit code
        code = exit_.code
    assert code == 4
    assert message in " ".join(capsys.readouterr().err.split())
    assert not out.exists()


def test_a_malformed_scenario_file_names_its_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nseed: 1\nduration: 1d\nfleet:\n  vms: nope\n")
    out = tmp_path / "out"
    assert main(["load", "--scenario", str(bad), "--out", str(out), "--quiet"]) == 4
    err = " ".join(capsys.readouterr().err.split())
    assert f"{bad}:5:" in err and "fleet.vms" in err
    assert not out.exists()


def test_a_conformance_run_of_a_manager_per_datacenter_scenario_points_to_load(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["run", "load-m", "--out", str(tmp_path / "out"), "--quiet"]) == 4
    assert "bpcert load --scenario load-m" in " ".join(capsys.readouterr().err.split())
