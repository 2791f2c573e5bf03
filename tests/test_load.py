"""``bpcert load`` and ``bpcert sweep``: metrics at fleet scale, the growth flag, usage errors."""

from __future__ import annotations

import json
import math
import platform
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.load import (
    GROWTH_LIMIT,
    NIGHT_POLICIES,
    LoadError,
    LoadJob,
    build_load_scenario,
    fit_growth,
    parse_policy_mix,
    run_load_job,
    run_sweep,
    sweep_jobs,
    sweep_run_report,
)
from reports.model import load_report
from reports.render import write_report
from simulator.platform.invoker import RunQueueClock

QUADRATIC = "conformance.selftest.slow_plugins:QuadraticListResults"


# ---------------------------------------------------------------------- bpcert load


def test_load_on_a_small_fleet_reports_every_metric(tmp_path: Path) -> None:
    out = tmp_path / "load"
    # The 4.0.4 profile: the metrics below are its listResults check's.
    args = ["load", "--vms", "300", "--days", "1", "--profile", "abiquo-4.0.4"]
    code = main([*args, "--out", str(out), "--quiet"])
    assert code == 0
    report = load_report(out / "report.json")
    assert report.kind == "load"
    assert report.verdict == "completed"
    load = report.load
    assert load is not None
    assert (load.vms, load.days, load.check_delay_s) == (300, 1.0, 600.0)
    assert load.overruns == 0 and not load.flagged
    (scenario,) = report.scenarios
    # One histogram sample per check; the night window brings results.
    assert load.results_per_check.count == scenario.checks_total == 143
    assert load.results_per_check.max is not None and load.results_per_check.max > 10
    assert load.freshness_p50_s is not None and load.freshness_p99_s is not None
    assert 0 < load.freshness_p50_s <= load.freshness_p99_s <= 600 + 1
    assert load.peak_memory_mb is not None and load.peak_memory_mb > 10
    assert load.vm_days_per_wall_s is not None and load.vm_days_per_wall_s > 0
    assert load.events_per_backup is not None and load.events_per_backup > 0
    assert scenario.backups_taken > 200
    ops = {op.op for op in scenario.operations}
    assert {"applySchedule", "listResults"} <= ops
    assert scenario.lock_wait_hist.count > 0 and scenario.queue_depth
    notes = "\n".join(report.notes)
    assert "queue wait p95" in notes and "listResults p95" in notes
    assert "not byte-reproducible" in notes
    # Measured latency: the trace holds wall times and no per-result lines.
    lines = [json.loads(x) for x in (out / "trace.jsonl").read_text().splitlines()]
    calls = [r for r in lines if r["kind"] == "call"]
    assert calls and all(r["wall_ms"] is not None for r in calls)
    assert not [r for r in lines if r["kind"] in ("event", "lock")]
    assert (out / "plots" / "load-results.png").is_file()
    assert (out / "report.html").is_file()


def test_a_load_run_reports_what_one_check_costs_in_calls_under_its_profile(
    tmp_path: Path,
) -> None:
    """Issue 20.9: abiquo-4.0.4's check is listResults, and getExpiredResults when a done
    result is due; from abiquo-4.7 it is two listings plus one call per result still in
    progress (the night window holds many), so a check costs more calls."""
    calls = {}
    for profile in ("abiquo-4.0.4", "abiquo-6.0"):
        out = tmp_path / profile
        args = ["load", "--vms", "300", "--days", "1", "--profile", profile, "--latency", "fixed"]
        assert main([*args, "--out", str(out), "--quiet"]) == 0
        report = load_report(out / "report.json")
        assert report.load is not None and report.profile == profile
        calls[profile] = report.load.calls_per_check
        assert calls[profile].count == report.scenarios[0].checks_total
        assert f"plugin calls per check ({profile}): mean" in "\n".join(report.notes)
    old, new = calls["abiquo-4.0.4"], calls["abiquo-6.0"]
    assert (old.min, old.max) == (1, 2)
    assert new.min is not None and new.min >= 2 and new.max is not None and new.max > 10


def test_fixed_latency_load_traces_are_byte_identical(tmp_path: Path) -> None:
    traces = []
    for name in ("a", "b"):
        trace = tmp_path / f"{name}.jsonl"
        job = LoadJob(
            plugin="reference",
            vms=60,
            days=0.5,
            seed=3,
            latency="fixed",
            trace_level="calls",
            trace_path=str(trace),
        )
        result = run_load_job(job)
        assert result.summary.checks_total > 0
        traces.append(trace.read_bytes())
    assert traces[0] == traces[1]
    assert b'"wall_ms":null' in traces[0]


def test_a_check_longer_than_its_interval_is_flagged_with_exit_code_1(tmp_path: Path) -> None:
    # Every measured wall second becomes 100,000 simulated seconds: a listResults of a
    # fraction of a millisecond takes longer than the 5 s check delay.
    out = tmp_path / "slow"
    args = ["load", "--vms", "40", "--days", "0.25", "--check-delay", "5"]
    args += ["--latency-factor", "100000", "--trace-level", "off", "--out", str(out), "--quiet"]
    assert main(args) == 1
    report = load_report(out / "report.json")
    assert report.exit_code == 1
    assert report.load is not None and report.load.flagged and report.load.overruns > 0
    assert "longer than the 5 s check interval" in (report.load.flag_reason or "")


def test_the_load_scenario_keeps_the_template_shape_at_any_size() -> None:
    scenario = build_load_scenario(
        1000, 2.5, check_delay_s=300, seed=7, policy_mix="night:1", latency="fixed"
    )
    assert scenario.fleet.vms == 1000 and scenario.fleet.deployed_at_start == 950
    assert scenario.duration == 2.5 * 86400 and scenario.seed == 7
    assert scenario.platform.check_delay == 300
    assert scenario.latency.mode == "fixed"
    # load-s has 5,000 VMs and 20 deploys a day: the rate per VM is kept.
    assert scenario.workload.rates.deploy == pytest.approx(4.0)
    assert [e.policies for e in scenario.fleet.policy_mix] == [(p,) for p in NIGHT_POLICIES]
    measured = build_load_scenario(10, 1)
    assert measured.latency.mode == "measured" and measured.latency.factor == 1.0


# ---------------------------------------------------------------------- sweeps


def test_a_sweep_flags_the_quadratic_plugin_and_not_the_reference(tmp_path: Path) -> None:
    # Fleet sizes 8x apart, a check an hour so that each check holds many results; run
    # here (no process pool) to keep the test fast.
    reports = {}
    for plugin in ("reference", QUADRATIC):
        jobs = sweep_jobs(plugin, vms=[200, 1600], check_delays=[3600], days=1.0)
        results = run_sweep(jobs)
        assert [r.job.vms for r in results] == [200, 1600]
        reports[plugin] = sweep_run_report(
            results, started=_now(), wall_s=1.0, replay="bpcert sweep ..."
        )
    ref = reports["reference"].load
    quad = reports[QUADRATIC].load
    assert ref is not None and quad is not None
    assert ref.growth_exponent is not None and quad.growth_exponent is not None
    assert ref.growth_exponent < GROWTH_LIMIT and not ref.flagged
    assert reports["reference"].exit_code == 0
    assert quad.growth_exponent > GROWTH_LIMIT and quad.flagged
    assert reports[QUADRATIC].exit_code == 1
    assert "worse than linearly" in (quad.flag_reason or "")
    assert [g.vms for g in quad.growth] == [200, 1600]
    paths = write_report(reports[QUADRATIC], tmp_path / "sweep")
    assert "plots/load-growth.png" in paths
    assert reports[QUADRATIC].kind == "sweep"


def test_sweep_command_runs_its_grid_on_a_process_pool(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", "--vms", "30,60", "--seeds", "5", "--days", "0.25", "--workers", "2"]
    # The 4.0.4 check makes two calls whatever the fleet; from 4.7 on it makes one per
    # result in progress, so its cost grows with the fleet.
    args += ["--latency", "fixed", "--profile", "abiquo-4.0.4", "--out", str(out), "--quiet"]
    code = main(args)
    report = load_report(out / "report.json")
    assert report.kind == "sweep" and report.exit_code == code
    assert report.load is not None
    # Two calls a check at 50 ms each: listResults and getExpiredResults (asked about the
    # done results held, contract.md §4).
    assert [(g.vms, g.check_cost_s) for g in report.load.growth] == [(30, 0.1), (60, 0.1)]
    assert report.load.growth_exponent == pytest.approx(0.0)  # fixed 50 ms calls
    assert sum("job vms=" in n for n in report.notes) == 2
    assert "--seeds 5" in report.replay
    # The growth of the jobs' own wall time: its exponent in the notes, and its plot.
    (wall,) = [n for n in report.notes if n.startswith("growth exponent of wall time")]
    assert wall.startswith("growth exponent of wall time at a 600 s check delay: ")
    float(wall.rsplit(": ", 1)[1])
    assert (out / "plots" / "sweep-wall-time.png").read_bytes().startswith(b"\x89PNG")


def test_fit_growth_is_the_log_log_slope() -> None:
    sizes = [100, 200, 400, 800]
    assert fit_growth((n, 3e-5 * n) for n in sizes) == pytest.approx(1.0)
    assert fit_growth((n, 1e-7 * n * n) for n in sizes) == pytest.approx(2.0)
    assert fit_growth([(100, 1.0), (100, 2.0)]) is None  # one size: no slope
    assert fit_growth([(100, 0.0), (200, 1.0)]) is None  # a zero cost is left out


def test_run_queue_clock_never_makes_a_measured_call_negative() -> None:
    clock = RunQueueClock()
    first = clock.read()
    if first is None:
        pytest.skip("no /proc/thread-self/schedstat on this system")
    second = clock.read()
    assert second is not None and second >= first >= 0


# ---------------------------------------------------------------------- --policy-mix


def test_policy_mix_spreads_night_over_the_window() -> None:
    mix = parse_policy_mix("night:0.9,night+hourly:0.1")
    assert len(mix) == 10
    assert math.isclose(sum(w for _, w in mix), 1.0)
    assert mix[0][0] == ("DAILY-2200",) and mix[0][1] == pytest.approx(0.18)
    assert mix[5][0] == ("DAILY-2200", "HOURLY-4") and mix[5][1] == pytest.approx(0.02)
    assert parse_policy_mix("DAILY-0100+hourly:3, none:1") == (
        (("DAILY-0100", "HOURLY-4"), 3.0),
        ((), 1.0),
    )


@pytest.mark.parametrize(
    ("mix", "message"),
    [
        ("", "--policy-mix is empty"),
        ("night", "is not TERM:WEIGHT"),
        ("night:lots", "'lots' is not a positive number"),
        ("night:0", "'0' is not a positive number"),
        ("night:1,,hourly:1", "has an empty entry"),
        ("nigth:1", "unknown group or policy 'nigth'; did you mean 'night'?"),
        ("none+hourly:1", "'none' means no backup at all"),
        ("night:1,night:2", "appears twice"),
        ("night+DAILY-2200:1", "policy DAILY-2200 appears twice in one term"),
    ],
)
def test_a_bad_policy_mix_is_a_usage_error(
    mix: str, message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(LoadError) as raised:
        parse_policy_mix(mix)
    assert message in str(raised.value)
    code = main(["load", "--vms", "10", "--policy-mix", mix, "--out", str(tmp_path), "--quiet"])
    assert code == 4
    err = capsys.readouterr().err
    assert message in " ".join(err.split())
    assert not (tmp_path / "report.json").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["load", "--vms", "0"],
        ["load", "--vms", "10", "--days", "0"],
        ["load", "--vms", "10", "--check-delay", "-1"],
        ["sweep", "--vms", "10,ten"],
        ["sweep", "--vms", "10", "--check-delays", "soon"],
        ["sweep", "--vms", "10", "--workers", "-1"],
    ],
)
def test_bad_load_arguments_are_usage_errors(args: list[str], tmp_path: Path) -> None:
    assert main([*args, "--out", str(tmp_path), "--quiet"]) == 4


def _now() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


def test_bench_section_judges_the_targets_and_names_a_killed_run(tmp_path: Path) -> None:
    from conformance.load.bench import previous_results, render_section, write_doc

    ok = {"status": "ok", "vms": 100_000, "days": 30.0, "sim_events": 10, "backups": 100}
    results = {
        "fleet-10k": {**ok, "vms": 10_000, "days": 7.0, "wall_s": 12.0, "peak_rss_mb": 90.0},
        "load-m": {**ok, "wall_s": 900.0, "peak_rss_mb": 1100.0, "events_per_backup": 0.1},
        "load-l": {"status": "exit -15", "wall_s": 1458.0, "peak_rss_mb": 5275.0},
    }
    results["load-m"].update(probe_before_s=1.5, probe_after_s=1.625)
    section = render_section(results, _now(), "1.00, 1.00, 1.00")
    load_m_row = next(line for line in section.splitlines() if line.startswith("| load-m |"))
    assert "| 1.50 / 1.62 |" in load_m_row  # the machine's speed around the run
    fleet_row = next(line for line in section.splitlines() if line.startswith("| fleet-10k |"))
    assert fleet_row.count("|") == load_m_row.count("|") and "| - |" in fleet_row
    assert "| fleet-10k in < 30 s wall | 12.0 | met |" in section
    assert "| load-m in <= 120 s wall | 900.0 | **not met** |" in section
    assert "| load-m in <= 2 GB peak memory | 1,100.0 | met |" in section
    assert "stopped by SIGTERM after 1,458.0 s" in section
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\n<!-- bench:begin -->\nold\n<!-- bench:end -->\n\ntail\n")
    write_doc(section, doc)
    text = doc.read_text()
    assert "old" not in text and text.endswith("tail\n")
    assert previous_results(doc)["load-l"]["status"] == "exit -15"


def test_the_bench_compares_abiquo_6_0_with_abiquo_4_0_4_on_one_backup_manager() -> None:
    """Issue 20.9: 100k VMs x 30 days under abiquo-6.0 within 1.5x the wall time of
    abiquo-4.0.4, both measured in the same make bench run."""
    from conformance.load import bench

    old = next(b for b in bench.BENCHMARKS if b.name == "load-1dc-100k-4.0.4")
    assert bench._load_command_args(old.scenario, None) == [
        *("--vms", "100000", "--days", "30", "--datacenters", "1"),
        *("--profile", "abiquo-4.0.4"),
    ]
    assert "--profile" not in bench.baseline_args(old.scenario, None)  # no plugin there
    ok = {"status": "ok", "vms": 100_000, "days": 30.0, "sim_events": 10, "backups": 100}
    results = {
        "load-1dc-100k": {**ok, "wall_s": 140.0},
        "load-1dc-100k-4.0.4": {**ok, "wall_s": 100.0},
    }
    target = "the same under abiquo-6.0 in <= 1.5x the wall time of abiquo-4.0.4"
    assert f"| {target} (issue 20) | 1.400 | met |" in bench.render_section(results, _now(), "1")
    results["load-1dc-100k"]["wall_s"] = 160.0
    assert f"| {target} (issue 20) | 1.600 | **not met** |" in bench.render_section(
        results, _now(), "1"
    )
    del results["load-1dc-100k-4.0.4"]
    assert f"| {target} (issue 20) | – | not run |" in bench.render_section(results, _now(), "1")


def test_the_bench_probe_times_its_fixed_work_and_reports_a_failed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conformance.load import bench

    assert "simulator" not in bench.PROBE_CODE and "conformance" not in bench.PROBE_CODE
    monkeypatch.setattr(bench, "PROBE_ITEMS", 20_000)
    seconds = bench._probe()
    assert seconds is not None and seconds > 0  # real work takes time; no speed bound here
    monkeypatch.setattr(bench, "PROBE_CODE", "raise SystemExit(3)")
    assert bench._probe() is None


def test_a_running_world_holds_off_full_collections_until_the_last_one_finishes() -> None:
    import gc

    from simulator.reference import ReferencePlugin
    from simulator.scenario import load_scenario
    from simulator.world import World

    before = gc.get_threshold()
    first = World(load_scenario("smoke"), ReferencePlugin, trace_level="off")
    second = World(load_scenario("smoke"), ReferencePlugin, trace_level="off")
    first.start()
    second.start()
    held = gc.get_threshold()
    assert held[2] > 10**6 and held[0] >= before[0]
    first.finish()
    assert gc.get_threshold() == held  # the second world still runs
    second.finish()
    second.finish()  # finishing twice releases once
    assert gc.get_threshold() == before


def test_the_load_scenarios_purge_expired_backups_and_level_off() -> None:
    from simulator.reference import ReferencePlugin
    from simulator.scenario import load_scenario
    from simulator.world import World

    scenario = load_scenario("load-s")
    assert scenario.backup_system.forget_expired_after == 86400.0
    # A small copy with short retention, run past it: the kept backups stop growing.
    data = scenario.model_dump()
    data["fleet"].update(vms=300, deployed_at_start=285)
    data["duration"] = 8 * 86400.0
    data["backup_system"]["on_demand_retention"] = 86400.0
    for policy in data["policies"]:
        policy["retention"] = 86400.0
    world = World(type(scenario).model_validate(data), ReferencePlugin, trace_level="off")
    world.start()
    kept = []
    try:
        for day in range(1, 9):
            world.advance(day * 86400.0)
            system = world.backup_system
            kept.append(system.backups_taken - system.backups_purged)
    finally:
        world.finish()
    assert world.backup_system.backups_purged > 0
    assert max(kept[4:]) < 1.3 * min(kept[4:]), kept


def test_make_bench_rewrites_the_repositorys_performance_doc() -> None:
    """Without --doc, the bench reads and rewrites docs/performance.md, the one in the
    repository (it once pointed at conformance/docs/, where --only found no earlier rows)."""
    from conformance.load.bench_doc import BEGIN, DOC

    repository_doc = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
    assert repository_doc == DOC
    assert BEGIN in DOC.read_text(encoding="utf-8")


def test_the_bench_names_the_interpreter_and_how_libpython_is_linked() -> None:
    from conformance.load.bench import interpreter

    text = interpreter()
    assert text.startswith(f"Python {platform.python_version()} from ")
    assert text.endswith(("(shared libpython)", "(libpython linked in)"))


def test_the_command_benchmark_runs_bpcert_load_itself_and_reads_its_report() -> None:
    from conformance.load import bench

    figures = bench._measure(f"{bench.LOAD_COMMAND}300:0.25", None, 300.0)
    assert figures["status"] == "ok", figures.get("stderr")
    # The figures come from the report the command wrote: its fleet, its days, its worlds.
    assert (figures["vms"], figures["days"], figures["datacenters"]) == (300, 0.25, 1)
    assert figures["backups"] > 0 and figures["sim_events"] > 0
    assert figures["checks"] == 35  # one every 600 s from 600 s, before the end at 21,600 s
    assert len(figures["memory_by_day_mb"]) == 1 and figures["memory_by_day_mb"][0] > 0
    assert figures["cpu_s"] > 0 and figures["wall_s"] >= figures["sim_s"] > 0
    assert figures["profile"] == "abiquo-6.0"  # the reference's newest
    # A benchmark scenario may name the profile: the command runs under it.
    older = bench._measure(f"{bench.LOAD_COMMAND}300:0.25:1:abiquo-4.0.4", None, 300.0)
    assert older["status"] == "ok", older.get("stderr")
    assert older["profile"] == "abiquo-4.0.4" and 1 <= older["calls_per_check"] <= 2
    assert figures["calls_per_check"] > older["calls_per_check"]


# ---------------------------------------------------------------------- the bare model


def test_the_bare_model_takes_the_template_backups_and_lists_each_once_or_twice() -> None:
    from conformance.load.baseline import run_baseline

    scenario = build_load_scenario(400, 2.0, seed=5, datacenters=1)
    first, again = run_baseline(scenario), run_baseline(scenario)
    counts = ("backups", "checks", "results_listed", "sim_events")
    assert [getattr(first, c) for c in counts] == [getattr(again, c) for c in counts]
    # 95 % of the VMs have a nightly backup, 10 % also a snapshot every 4 hours.
    nightly, snapshots = 2 * 0.95 * 0.95 * 400, 2 * 6 * 0.1 * 0.95 * 400
    assert 0.8 * (nightly + snapshots) < first.backups < 1.2 * (nightly + snapshots)
    assert first.backups <= first.results_listed <= 2 * first.backups
    assert first.checks == 2 * 86400 // 600
    assert first.cpu_s > 0 and first.wall_s > 0


def test_the_bare_model_of_several_datacenters_models_each_and_adds_them_up() -> None:
    from conformance.load.baseline import run_baseline

    one = run_baseline(build_load_scenario(400, 1.0, seed=5, datacenters=1))
    split = run_baseline(build_load_scenario(400, 1.0, seed=5, datacenters=2))
    assert (one.datacenters, split.datacenters) == (1, 2)
    assert split.checks == 2 * one.checks
    assert 0.8 * one.backups < split.backups < 1.2 * one.backups


def test_the_bench_measures_the_bare_model_and_prints_ratios_to_it() -> None:
    from conformance.load import bench

    name = f"{bench.LOAD_COMMAND}300:0.25:1"
    floor = bench._measure(bench.BASELINE + name, None, 300.0)
    assert floor["status"] == "ok", floor.get("stderr")
    assert (floor["vms"], floor["days"], floor["datacenters"]) == (300, 0.25, 1)
    assert floor["backups"] > 0 and floor["cpu_s"] > 0
    run = {"status": "ok", "vms": 300, "days": 0.25, "wall_s": 6.0, "cpu_s": 4.0}
    run.update(sim_events=1, backups=1)
    figures = bench.with_ratios(run, {**floor, "wall_s": 2.0, "cpu_s": 0.5})
    assert (figures["wall_ratio"], figures["cpu_ratio"]) == (3.0, 8.0)
    section = bench.render_section({"load-1dc-100k": figures}, _now(), "1.00, 1.00, 1.00")
    row = next(line for line in section.splitlines() if line.startswith("| load-1dc-100k |"))
    assert "| 2.0 / 0.5 | 3.00 | 8.00 |" in row
    assert "the bare model's CPU | 8.000 | **not met** |" in section
