"""``--executor dask://HOST:PORT``: load datacenters and sweep points as tasks on a real
local Dask cluster (a scheduler and two worker processes on 127.0.0.1), compared with
``--executor local``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed
import pytest

from conformance.cli import main
from conformance.exit_codes import ExitCode
from conformance.load import build_load_scenario
from reports.schema import strip_wall_time
from simulator.reference import REFERENCE_PROPERTIES, ReferencePlugin
from simulator.scenario import split_by_datacenter
from simulator.world import World
from tests.plugins.process_exit import EXIT_IN_DATACENTER

LOAD = ["--plugin", "reference", "--vms", "80", "--days", "0.25", "--seed", "3"]
LOAD += ["--latency", "fixed", "--datacenters", "4", "--quiet"]
SWEEP = ["--plugin", "reference", "--vms", "40,80", "--days", "0.25", "--seed", "3"]
SWEEP += ["--latency", "fixed", "--quiet"]
#: Figures of the machine inside notes: wall and CPU seconds, peak memory.
_WALL_IN_NOTES = re.compile(
    r"\d+(\.\d+)? s (wall|CPU)|peak \d+ MB|\d+(\.\d+)? s of job wall time|wall time at .*"
)


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    """A scheduler and two single-threaded worker processes on 127.0.0.1.

    One task per worker at a time (worker-saturation 1.0), and a task fails on the first
    death of its worker (allowed-failures 0), so that the harness's own retry is the
    only one.
    """
    import dask

    settings = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with (
        dask.config.set(settings),
        distributed.LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
    ):
        yield "dask://" + cluster.scheduler_address.removeprefix("tcp://")


def _report(out: Path) -> dict[str, Any]:
    data = strip_wall_time(json.loads((out / "report.json").read_text()))
    data["notes"] = [_WALL_IN_NOTES.sub("<machine>", note) for note in data["notes"]]
    return data


def test_a_load_on_the_cluster_merges_to_the_local_report(
    dask_address: str, tmp_path: Path
) -> None:
    local, cluster = tmp_path / "local", tmp_path / "dask"
    assert main(["load", *LOAD, "--workers", "0", "--out", str(local)]) == ExitCode.OK
    assert main(["load", *LOAD, "--out", str(cluster), "--executor", dask_address]) == 0
    assert _report(cluster) == _report(local)
    for k in range(1, 5):
        trace = f"trace-dc{k}.jsonl"
        assert (cluster / trace).read_bytes() == (local / trace).read_bytes()


def test_a_sweep_on_the_cluster_matches_the_local_sweep(
    dask_address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local, cluster = tmp_path / "local", tmp_path / "dask"
    assert main(["sweep", *SWEEP, "--workers", "0", "--out", str(local)]) == ExitCode.OK
    assert main(["sweep", *SWEEP, "--out", str(cluster), "--executor", dask_address]) == 0
    assert _report(cluster) == _report(local)


def test_a_datacenter_whose_worker_dies_twice_fails_alone(
    dask_address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = build_load_scenario(80, 0.25, seed=3, latency="fixed", datacenters=4)
    second = World(split_by_datacenter(scenario)[1], ReferencePlugin, trace_level="off")
    properties = tmp_path / "exit.properties"
    lines = [f"{k}={v}" for k, v in REFERENCE_PROPERTIES.items()]
    lines.append(f"{EXIT_IN_DATACENTER}={second.fleet.info(0).datacenter}")
    properties.write_text("\n".join(lines) + "\n")
    args = ["load", *LOAD, "--plugin", "tests.plugins.process_exit:ExitsInOneDatacenter"]
    args += ["--properties", str(properties), "--executor", dask_address]
    out = tmp_path / "out"
    assert main([*args, "--out", str(out)]) == ExitCode.HARNESS_ERROR
    report = json.loads((out / "report.json").read_text())
    assert (report["verdict"], report["exit_code"]) == ("error", 3)
    assert report["load"]["datacenters"] == 3  # the other three keep their figures
    failed = [n for n in report["notes"] if "FAILED" in n]
    assert len(failed) == 1 and failed[0].startswith("datacenter 2 of 4 FAILED")
    # The worker's error: the scheduler's word on it (and its nanny's, when it logged in time).
    assert "again on the retry" in failed[0] and "workers died while running it" in failed[0]


def test_an_unreachable_scheduler_is_a_quick_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("conformance.load.cluster.CONNECT_TIMEOUT_S", 1.0)
    code = main(["load", *LOAD, "--out", str(tmp_path), "--executor", "dask://127.0.0.1:9"])
    assert code == ExitCode.USAGE
    err = " ".join(capsys.readouterr().err.split())
    # The connection is given up after the bounded timeout, which the message states.
    assert "cannot reach a Dask scheduler at tcp://127.0.0.1:9 within 1 s" in err
    assert "Traceback" not in err and not (tmp_path / "report.json").exists()


@pytest.mark.parametrize(
    ("executor", "extra", "message"),
    [
        ("dask:/127.0.0.1:8786", [], "is not 'local' or 'dask://HOST:PORT'"),
        ("dask://127.0.0.1:99999", [], "is not 'local' or 'dask://HOST:PORT'"),
        ("ray://x:1", [], "is not 'local' or 'dask://HOST:PORT'"),
        ("dask://127.0.0.1:9", ["--workers", "2"], "--workers sizes the local process pool"),
    ],
)
def test_a_bad_executor_is_a_usage_error(
    executor: str,
    extra: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in (["load", *LOAD], ["sweep", *SWEEP]):
        args = [*command, *extra, "--executor", executor, "--out", str(tmp_path)]
        assert main(args) == ExitCode.USAGE
        assert message in " ".join(capsys.readouterr().err.split())
