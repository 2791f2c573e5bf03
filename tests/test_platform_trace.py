"""The platform's behaviour, asserted from the trace a run writes (as a trace reader would)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from conformance.runner import resolve_plugin, run_scenario
from simulator.contract import (
    BackupPluginError,
    BackupPluginException,
    BackupSchedule,
    VirtualMachineInfo,
)
from simulator.reference import ReferencePlugin
from simulator.scenario import load_scenario, load_scenario_text

FAST_SCENARIOS = ("smoke", "lifecycle", "on-demand", "outage", "misconfigured")


def read_trace(path: Path) -> list[dict[str, Any]]:
    """Every line of a trace.jsonl."""
    return [json.loads(line) for line in path.read_text().splitlines()]


def run_to_trace(tmp: Path, scenario: str, plugin: Any = "reference", **kw: Any) -> Path:
    """Run one scenario and return its trace file: the abiquo-4.0.4 profile's, unless
    ``profile`` says otherwise (tests/test_per_id_platform.py reads 4.7's and 6.0's)."""
    trace = tmp / f"{scenario}.jsonl"
    plugin_class = resolve_plugin(plugin).plugin_class
    if "abiquo-4.0.4" in getattr(plugin_class, "contract_profiles", ("abiquo-4.0.4",)):
        kw.setdefault("profile", "abiquo-4.0.4")
    run_scenario(scenario, resolve_plugin(plugin), trace_path=trace, **kw)
    return trace


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """The trace of every fast built-in scenario with the reference plugin."""
    tmp = tmp_path_factory.mktemp("traces")
    return {name: read_trace(run_to_trace(tmp, name)) for name in FAST_SCENARIOS}


def calls(trace: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in trace if r["kind"] == "call"]


@pytest.mark.parametrize("name", FAST_SCENARIOS)
def test_every_line_has_seq_t_kind_and_time_never_goes_back(
    traces: dict[str, list[dict[str, Any]]], name: str
) -> None:
    trace = traces[name]
    assert [r["seq"] for r in trace] == list(range(1, len(trace) + 1))
    kinds = {"call", "task", "poll", "event", "lock", "rejection", "rollback"}
    assert {r["kind"] for r in trace} <= kinds
    times = [r["t"] for r in trace]
    assert times == sorted(times)


@pytest.mark.parametrize("name", FAST_SCENARIOS)
def test_no_two_plugin_calls_for_one_vm_overlap(
    traces: dict[str, list[dict[str, Any]]], name: str
) -> None:
    by_vm: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for c in calls(traces[name]):
        if c["vm"] is not None:
            by_vm[c["vm"]].append((c["start"], c["end"]))
    for spans in by_vm.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end


@pytest.mark.parametrize("name", FAST_SCENARIOS)
def test_no_more_calls_at_once_than_the_open_session_limit(
    traces: dict[str, list[dict[str, Any]]], name: str
) -> None:
    # The Virtual Factory's openSession slots; the results check has slots of its own.
    limit = load_scenario(name).platform.open_sessions
    for components in (("virtualfactory",), ("cpp", "api")):
        edges = []
        for c in calls(traces[name]):
            if c["end"] > c["start"] and c["component"] in components:
                edges += [(c["start"], 1), (c["end"], -1)]
        running = peak = 0
        for _, delta in sorted(edges):  # an end sorts before a start at the same instant
            running += delta
            peak = max(peak, running)
        assert peak <= limit, components
        assert peak > 0 or name == "misconfigured", components


@pytest.mark.parametrize("name", ("smoke", "outage"))
def test_checks_start_one_check_delay_after_the_previous_one_ended(
    traces: dict[str, list[dict[str, Any]]], name: str
) -> None:
    delay = load_scenario(name).platform.check_delay
    polls = [r for r in traces[name] if r["kind"] == "poll" and r["check"] > 0]
    assert len(polls) > 10
    for before, after in itertools.pairwise(polls):
        assert after["start"] == pytest.approx(before["end"] + delay)


@pytest.mark.parametrize("name", ("smoke", "lifecycle"))
def test_remove_schedule_precedes_the_hypervisor_undeploy(
    traces: dict[str, list[dict[str, Any]]], name: str
) -> None:
    by_seq = {c["seq"]: c for c in calls(traces[name])}
    undeploys = [
        r
        for r in traces[name]
        if r["kind"] == "task" and r["type"] == "UNDEPLOY" and r["status"] == "done"
    ]
    with_schedule = [u for u in undeploys if u["jobs"][0]["job"] == "BACKUP_SCHEDULE"]
    assert with_schedule, "the scenario undeploys VMs with a schedule"
    for task in with_schedule:
        # One removeSchedule, or two with the same arguments when the timeline repeats it.
        *removes, hypervisor = task["jobs"]
        assert 1 <= len(removes) <= 2
        for remove in removes:
            assert by_seq[remove["call"]]["op"] == "removeSchedule"
            assert by_seq[remove["call"]]["vm"] == task["vm"]
            assert remove["end"] <= hypervisor["start"]
        assert hypervisor["job"] == "HYPERVISOR_UNDEPLOY"


def test_a_repeated_timeline_entry_makes_its_schedule_call_twice(
    traces: dict[str, list[dict[str, Any]]],
) -> None:
    # lifecycle repeats VM 25's deploy, reconfigure and undeploy (``repeat: true``).
    by_seq = {c["seq"]: c for c in calls(traces["lifecycle"])}
    repeated = {}
    for task in traces["lifecycle"]:
        if task["kind"] == "task":
            made = [by_seq[j["call"]] for j in task["jobs"] if "call" in j]
            if len(made) == 2:
                repeated[task["type"]] = made
    assert set(repeated) == {"DEPLOY", "RECONFIGURE", "UNDEPLOY"}
    for first, second in repeated.values():
        assert (first["op"], first["vm"]) == (second["op"], second["vm"])
        assert first["outcome"] == second["outcome"] == "ok"
        assert first["end"] <= second["start"]


def test_last_check_date_stays_put_after_a_failed_check(
    traces: dict[str, list[dict[str, Any]]],
) -> None:
    polls = [r for r in traces["outage"] if r["kind"] == "poll" and r["check"] > 0]
    failed = [i for i, p in enumerate(polls) if not p["ok"]]
    assert failed, "the outage scenario makes checks fail"
    for i in failed:
        assert polls[i]["next_last_check_date"] == polls[i]["last_check_date"]
        if i + 1 < len(polls):
            assert polls[i + 1]["last_check_date"] == polls[i]["last_check_date"]
    ok = [p for p in polls if p["ok"]]
    assert any(p["next_last_check_date"] != p["last_check_date"] for p in ok)


def test_misconfigured_makes_no_plugin_calls_besides_loading_and_validation(
    traces: dict[str, list[dict[str, Any]]],
) -> None:
    trace = traces["misconfigured"]
    ops = {c["op"] for c in calls(trace)}
    assert ops <= {"<init>", "validateConfiguration"}
    rejections = [r for r in trace if r["kind"] == "rejection"]
    assert rejections and all(r["code"] == "BC-38" for r in rejections)


class FailingApplySchedule(ReferencePlugin):
    """applySchedule always fails: the deploy must roll back."""

    def apply_schedule(
        self, connection: Any, vm: VirtualMachineInfo, schedule: BackupSchedule
    ) -> None:
        raise BackupPluginException(BackupPluginError.BACKEND, "the backup server said no")


def test_a_failing_apply_schedule_rolls_the_deploy_back(tmp_path: Path) -> None:
    trace = read_trace(run_to_trace(tmp_path, "smoke", FailingApplySchedule))
    deploys = [r for r in trace if r["kind"] == "task" and r["type"] == "DEPLOY" and r["jobs"][1:]]
    assert deploys
    rollbacks = {r["task"] for r in trace if r["kind"] == "rollback"}
    for task in deploys:
        assert task["status"] == "failed"
        assert task["code"] == "BACKEND"
        assert [j["job"] for j in task["jobs"]] == [
            "HYPERVISOR_DEPLOY",
            "BACKUP_SCHEDULE",
            "HYPERVISOR_UNDEPLOY_ROLLBACK",
        ]
        assert task["id"] if "id" in task else task["task"] in rollbacks
    # The VM stayed undeployed: a later on-demand backup of it is refused with BC-42.
    failed_vms = {t["vm"] for t in deploys}
    later = [
        r
        for r in trace
        if r["kind"] == "rejection" and r["vm"] in failed_vms and r["type"] == "BACKUP_NOW"
    ]
    assert all(r["code"] == "BC-42" for r in later)


@pytest.mark.parametrize("name", FAST_SCENARIOS)
def test_the_same_seed_gives_a_byte_identical_trace(tmp_path: Path, name: str) -> None:
    first = run_to_trace(tmp_path / "a", name)
    second = run_to_trace(tmp_path / "b", name)
    assert first.read_bytes() == second.read_bytes()


def test_another_seed_gives_another_trace(tmp_path: Path) -> None:
    first = run_to_trace(tmp_path / "a", "smoke", seed=1)
    second = run_to_trace(tmp_path / "b", "smoke", seed=2)
    assert first.read_bytes() != second.read_bytes()


def test_traces_are_identical_across_processes_with_different_hash_seeds(tmp_path: Path) -> None:
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(
            [sys.executable, "-m", "conformance", "run", "smoke", "--quiet", "--out", str(out)],
            check=False,
            env=env,
            capture_output=True,
        )
        outputs.append((out / "trace.jsonl").read_bytes())
    assert outputs[0] == outputs[1]


def test_vm_lock_makes_tasks_on_one_vm_wait_and_measures_the_wait(tmp_path: Path) -> None:
    text = """
name: lock-wait
duration: 1h
fleet: {vms: 2, deployed_at_start: 1, policy_mix: [{policies: [P], weight: 1}]}
policies:
  - {code: P, name: P, configurations: [{type: COMPLETE, subtype: DAILY, time: "22:00:00 +0000"}]}
platform: {hypervisor_job: 30s}
workload:
  timeline:
    - {at: 5m, action: reconfigure, vm: 0, policies: []}
    - {at: 5m, action: reconfigure, vm: 0, policies: [P]}
"""
    scenario = load_scenario_text(text)
    trace_path = tmp_path / "t.jsonl"
    run_scenario(scenario, resolve_plugin("reference"), trace_path=trace_path, probes=False)
    tasks = [
        r for r in read_trace(trace_path) if r["kind"] == "task" and r["type"] == "RECONFIGURE"
    ]
    first, second = sorted(tasks, key=lambda r: r["start"])
    assert second["start"] >= first["end"]
    assert second["lock_wait"] == pytest.approx(first["end"] - first["start"])


@pytest.mark.parametrize("name", ("fleet-10k", "load-s"))
def test_large_builtin_scenarios_run_and_repeat_byte_for_byte(tmp_path: Path, name: str) -> None:
    # The first simulated day of each: the initial deploys of the whole fleet, a night's
    # backups and 144 checks. The full runs are measured by `make bench`.
    scenario = load_scenario(name)
    day = scenario.model_validate({**scenario.model_dump(), "duration": 86400.0})
    traces = []
    for run in ("a", "b"):
        path = tmp_path / run / "trace.jsonl"
        result = run_scenario(day, resolve_plugin("reference"), trace_path=path, probes=False)
        assert not result.sink.totals, result.sink.findings
        traces.append(path.read_bytes())
    assert traces[0] == traces[1]
    polls = [json.loads(line) for line in traces[0].splitlines() if b'"kind":"poll"' in line]
    assert len(polls) > 100


def test_a_trace_line_orjson_cannot_encode_is_still_written_as_json(tmp_path: Path) -> None:
    # orjson refuses integers beyond 64 bits, named tuples and lone surrogates (a plugin's
    # message may hold one); the writer falls back to the json module for that line
    # rather than losing it or failing the run.
    from collections import namedtuple

    from simulator.trace import TraceWriter

    pair = namedtuple("pair", "a b")
    path = tmp_path / "trace.jsonl"
    with TraceWriter(path, level="calls") as trace:
        trace.emit("call", 1.0000004, op="listResults", size=2**70, detail="ü")
        trace.emit("call", 2.0, op="listResults", args=pair(1, 0.5), start=4.2e-05)
        trace.emit("call", 3.0, op="executeBackup", detail="bad \udce9 byte")
    lines = read_trace(path)
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert lines[0]["t"] == 1.0 and lines[0]["size"] == 2**70 and lines[0]["detail"] == "ü"
    assert lines[1]["args"] == [1, 0.5] and lines[1]["start"] == 4.2e-05
    assert lines[2]["detail"] == "bad \udce9 byte"


def test_a_line_built_whole_is_the_line_emit_writes(tmp_path: Path) -> None:
    # emit_record is the hot path's way to write emit's line; the bytes, the numbering
    # and what listeners get must not tell the two apart.
    from simulator.trace import TraceWriter, microseconds

    fields = {"vm": "v-1", "start": 1.00000049, "end": 2.0000004, "n": 3, "w": None}
    written: list[bytes] = []
    heard: list[list[dict[str, object]]] = []
    for whole in (False, True):
        path = tmp_path / f"trace-{whole}.jsonl"
        got: list[dict[str, object]] = []
        with TraceWriter(path, level="calls") as trace:
            trace.subscribe(got.append)
            trace.count("lock")
            if whole:
                record = {"seq": None, "t": microseconds(2.0000004), "kind": "call"}
                record.update({k: microseconds(v) for k, v in fields.items()})
                assert trace.emit_record(record) == 2
            else:
                assert trace.emit("call", 2.0000004, **fields) == 2
            assert trace.counts["call"] == 1
        written.append(path.read_bytes())
        heard.append(got)
    assert written[0] == written[1]
    assert heard[0] == heard[1]
    assert read_trace(tmp_path / "trace-True.jsonl")[0]["start"] == 1.0
