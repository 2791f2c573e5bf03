"""The judge survives its plugin and its surroundings, black-box through the CLI.

- an in-process plugin that ends the process never leaves exit 0; one that raises
  ``KeyboardInterrupt`` or ``SystemExit`` itself gets a finding; the verdict says the
  plugin shared the judge's interpreter;
- faults around the run: an unusable ``--out``, a disk that fills up, two runs into one
  directory, SIGTERM (no child process left), secrets in a plugin's stderr;
- bounded time: a plugin that never answers, ``--max-wall``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.exit_codes import ExitCode
from tests.plugins.daemons import DAEMONS_DIR, alive

ROOT = Path(__file__).resolve().parent.parent
MISBEHAVING = ROOT / "examples" / "misbehaving"


#: Wide enough that no message is wrapped.
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "1000"}


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "conformance", *args]


def bpcert(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``bpcert`` (its supervisor included) in a child process, as a user would."""
    env = ENV
    return subprocess.run(
        _command(*args),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


def _report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text())
    return data


def _failing(out: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in _report(out)["rules"] if r["status"] == "fail"}


# ------------------------------------------------------------- the plugin's process


@pytest.mark.parametrize(
    ("plugin", "why"),
    [("ExitsZero", "exited with status 0"), ("KillsItself", "killed by SIGKILL")],
)
def test_an_in_process_plugin_that_ends_the_process_never_leaves_exit_0(
    tmp_path: Path, plugin: str, why: str
) -> None:
    result = bpcert(
        "run",
        "smoke",
        "--plugin",
        f"tests.plugins.ending:{plugin}",
        "--quiet",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == ExitCode.HARNESS_ERROR, result.stderr
    assert "the run ended without a verdict" in result.stderr
    assert why in result.stderr and "--isolation process" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("isolation", ["in-process", "process"])
@pytest.mark.parametrize(
    ("plugin", "raised"),
    [("RaisesKeyboardInterrupt", "KeyboardInterrupt"), ("RaisesSystemExit", "SystemExit")],
)
def test_a_plugins_own_keyboard_interrupt_or_system_exit_is_a_finding_not_an_interrupt(
    tmp_path: Path, plugin: str, raised: str, isolation: str
) -> None:
    result = bpcert(
        "run",
        "smoke",
        "--plugin",
        f"tests.plugins.ending:{plugin}",
        "--isolation",
        isolation,
        "--quiet",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    failing = _failing(tmp_path)
    finding = failing["errors.only-backup-plugin-exception"]["findings"][0]
    assert f"raised a foreign exception: {raised}" in finding["message"]
    # The same finding in both modes: no crash, the run went on to its verdict.
    assert "errors.no-crash" not in failing
    assert _report(tmp_path)["verdict"] == "non-conformant"


def test_an_in_process_verdict_says_the_plugin_shared_the_judges_interpreter(
    tmp_path: Path,
) -> None:
    result = bpcert("run", "smoke", "--quiet", "--out", str(tmp_path / "a"))
    assert result.returncode == ExitCode.OK, result.stderr
    assert "in-process: the plugin ran inside bpcert's own interpreter" in result.stdout
    report = _report(tmp_path / "a")
    assert report["plugin"]["shared_process"] is True
    assert any("for development" in note for note in report["notes"])
    assert "for development" in (tmp_path / "a" / "report.html").read_text()


# ---------------------------------------------------------------- the run directory


def test_a_file_given_as_out_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("not a directory")
    result = bpcert("run", "smoke", "--quiet", "--out", str(target))
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert f"--out {target}: it is a file" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_out_that_cannot_be_created_is_a_usage_error_with_its_cause() -> None:
    result = bpcert("run", "smoke", "--quiet", "--out", "/proc/bpcert-cannot/run")
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "--out /proc/bpcert-cannot/run: cannot write there (" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    """A 300 kB tmpfs (needs root); ``None`` where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_disk_that_fills_up_mid_run_is_a_usage_error_and_the_trace_is_closed(
    small_disk: Path | None,
) -> None:
    if small_disk is None:
        # No tmpfs here (not root): an out under /proc is the same refusal, at the start.
        result = bpcert("run", "smoke", "--quiet", "--out", "/proc/bpcert-full")
        assert result.returncode == ExitCode.USAGE
        return
    out = small_disk / "run"
    result = bpcert("run", "lifecycle", "--quiet", "--out", str(out))
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "cannot write (No space left on device)" in result.stderr
    assert str(out) in result.stderr
    assert "Traceback" not in result.stderr
    lines = (out / "trace.jsonl").read_bytes().split(b"\n")
    assert lines[0].startswith(b"{")  # the trace was written until the disk was full


def test_a_second_run_into_a_busy_out_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    env = ENV
    first = subprocess.Popen(
        _command("run", "lifecycle", "--quiet", "--out", str(out)),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lock = out / ".bpcert.lock"
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = bpcert("run", "smoke", "--quiet", "--out", str(out))
    finally:
        _, first_err = first.communicate(timeout=300)
    assert second.returncode == ExitCode.USAGE, second.stderr
    assert f"--out {out}: another bpcert run is writing into it (pid" in second.stderr
    assert first.returncode == ExitCode.OK, first_err
    # The first run's report: one scenario, so "completed" (it names what it left unexercised).
    assert _report(out)["verdict"] == "completed"


def test_default_run_directories_are_unique_and_latest_points_at_the_newest(
    tmp_path: Path,
) -> None:
    for _ in range(2):
        assert bpcert("run", "smoke", "--quiet", cwd=tmp_path).returncode == ExitCode.OK
    runs = sorted(p for p in (tmp_path / "out").iterdir() if p.name.startswith("smoke-"))
    assert len(runs) == 2
    latest = tmp_path / "out" / "latest"
    assert latest.is_symlink() and (latest / "report.json").is_file()
    newest = max(runs, key=lambda p: (p / "report.json").stat().st_mtime)
    assert latest.resolve() == newest.resolve()


def test_run_honours_the_trace_level_and_wall_time_flags(tmp_path: Path) -> None:
    assert bpcert("run", "smoke", "--quiet", "--out", str(tmp_path / "a")).returncode == 0
    result = bpcert(
        "run", "smoke", "--quiet", "--out", str(tmp_path / "b"), "--trace-level", "calls"
    )
    assert result.returncode == ExitCode.OK, result.stderr
    full = [json.loads(line) for line in (tmp_path / "a" / "trace.jsonl").open()]
    calls = [json.loads(line) for line in (tmp_path / "b" / "trace.jsonl").open()]
    assert {line["kind"] for line in full} >= {"event", "lock"}
    assert not {line["kind"] for line in calls} & {"event", "lock"}
    timed = tmp_path / "c"
    assert (
        bpcert("run", "smoke", "--quiet", "--out", str(timed), "--trace-wall-time").returncode == 0
    )
    walls = [json.loads(line).get("wall_ms") for line in (timed / "trace.jsonl").open()]
    assert any(isinstance(w, float) for w in walls)


def _leaky_run(tmp_path: Path, plugin: str, *flags: str) -> tuple[Path, list[str]]:
    """Run smoke with a backup manager whose user and password the plugin logs;
    returns the run directory and every output: stdout, stderr and each file."""
    scenario = yaml.safe_load((ROOT / "scenarios" / "smoke.yaml").read_text())
    scenario.setdefault("platform", {})["backup_manager"] = {
        "user": "vendor-admin",
        "password": "hunter2-xyzzy",
    }
    path = tmp_path / "leaky.yaml"
    path.write_text(yaml.safe_dump(scenario))
    out = tmp_path / "out"
    result = bpcert(
        "run", str(path), "--plugin", f"tests.plugins.leaky:{plugin}", *flags, "--out", str(out)
    )
    outputs = [result.stdout, result.stderr, f"exit {result.returncode}"]
    outputs += [p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()]
    for text in outputs:
        assert "hunter2-xyzzy" not in text and "vendor-admin" not in text
    return out, outputs


def test_an_in_process_plugins_own_stderr_is_redacted(tmp_path: Path) -> None:
    # In process the plugin writes to bpcert's own stdout and stderr, the terminal.
    _, (stdout, stderr, code, *_) = _leaky_run(tmp_path, "PrintsCredentials")
    assert code == f"exit {ExitCode.OK}", stderr
    assert "connecting to sim://" in stderr and "as *** / ***" in stderr
    assert "printed as *** / ***" in stdout
    assert "written to fd 2 as *** / ***" in stderr


def test_a_plugins_stderr_is_redacted_in_every_output(tmp_path: Path) -> None:
    out, (_, stderr, code, *_) = _leaky_run(
        tmp_path, "LogsCredentials", "--isolation", "process", "--quiet"
    )
    assert code == f"exit {ExitCode.FINDINGS}", stderr
    crash = _failing(out)["errors.no-crash"]["findings"][0]["message"]
    assert "connecting to" in crash and "as *** / ***" in crash


# ---------------------------------------------------------------------- bounded time


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _started(*args: str) -> subprocess.Popen[str]:
    """``bpcert ARGS`` started in the background, its output captured."""
    return subprocess.Popen(
        _command(*args),
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_writes_the_partial_report_and_leaves_no_child_process(tmp_path: Path) -> None:
    out = tmp_path / "out"
    judge = _started(
        "check", "--isolation", "process", "--examples", "0", "--quiet", "--out", str(out)
    )
    deadline = time.monotonic() + 120
    children: set[int] = set()
    while len(children) < 3 and time.monotonic() < deadline:  # bpcert and its plugins
        time.sleep(0.2)
        children = _descendants(judge.pid)
    assert len(children) >= 3, "the plugin processes never started"
    judge.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    stdout, stderr = judge.communicate(timeout=30)
    assert time.monotonic() - signalled < 6, "the run took more than 5 s to end"
    assert judge.returncode == ExitCode.INTERRUPTED, stderr
    assert not [pid for pid in children if alive(pid)], "a child process outlived the run"
    report = _report(out)
    assert report["verdict"] == "interrupted" and report["exit_code"] == 130
    assert any("interrupted by SIGTERM" in note for note in report["notes"])
    assert "verdict: interrupted" in stdout


@pytest.mark.parametrize("isolation", ["in-process", "process"])
def test_processes_that_left_the_plugins_session_are_killed_at_the_end_of_the_run(
    tmp_path: Path, isolation: str
) -> None:
    daemons = tmp_path / "daemons"
    daemons.mkdir()
    result = subprocess.run(
        _command(
            "run",
            "smoke",
            "--plugin",
            "tests.plugins.daemons:LeavesDaemons",
            "--isolation",
            isolation,
            "--quiet",
            "--out",
            str(tmp_path / "out"),
        ),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**ENV, DAEMONS_DIR: str(daemons)},
        timeout=300,
        check=False,
    )
    pids = [int(p.name) for p in daemons.iterdir()]
    try:
        assert result.returncode == ExitCode.OK, result.stderr
        # Three components, two sleepers each (one setsid, one double-forked).
        assert len(pids) >= 6, pids
        deadline = time.monotonic() + 5
        while [pid for pid in pids if alive(pid)] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in pids if alive(pid)], "a plugin's daemon outlived the run"
    finally:
        for pid in pids:  # never leave them behind, even when the test fails
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_plugin_that_never_answers_ends_the_check_in_bounded_time(tmp_path: Path) -> None:
    plugin = f"exec:{sys.executable} {MISBEHAVING / 'never_lists.py'}"
    started = time.monotonic()
    result = bpcert("check", "--plugin", plugin, "--quiet", "--out", str(tmp_path), timeout=300)
    took = time.monotonic() - started
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert "errors.returns-within-deadline" in _failing(tmp_path)
    notes = " | ".join(_report(tmp_path)["notes"])
    assert "the plugin stopped answering: listResults missed its 10 s deadline 3 times" in notes
    assert "the property-based examples were not run" in notes
    assert took < 180, f"the check took {took:.0f} s"


def test_max_wall_ends_the_run_with_the_verdict_incomplete(tmp_path: Path) -> None:
    result = bpcert(
        "check", "--examples", "0", "--max-wall", "2", "--quiet", "--out", str(tmp_path)
    )
    assert result.returncode == ExitCode.INCOMPLETE, result.stderr
    report = _report(tmp_path)
    assert report["verdict"] == "incomplete" and report["exit_code"] == 2
    assert any("--max-wall 2 s reached" in note for note in report["notes"])
    assert "verdict: incomplete" in result.stdout
    assert "incomplete" in (tmp_path / "junit.xml").read_text()
    assert "incomplete" in (tmp_path / "summary.md").read_text()


def _incomplete(result: subprocess.CompletedProcess[str], out: Path) -> dict[str, Any]:
    """The report of a run that --max-wall stopped with nothing failed: exit 2, incomplete."""
    assert result.returncode == ExitCode.INCOMPLETE, result.stdout + result.stderr
    report = _report(out)
    assert report["verdict"] == "incomplete" and report["exit_code"] == 2
    return report


@pytest.mark.parametrize("datacenters", ["1", "2"])
def test_max_wall_stops_a_load_run_where_it_is_and_reports_what_ran(
    tmp_path: Path, datacenters: str
) -> None:
    # Thirty simulated days of 10,000 VMs take far longer than 2 s anywhere.
    result = bpcert(
        *("load", "--vms", "10000", "--days", "30", "--latency", "fixed"),
        *("--datacenters", datacenters, "--workers", datacenters),
        *("--max-wall", "2", "--quiet", "--out", str(tmp_path)),
    )
    report = _incomplete(result, tmp_path)
    stopped = report["notes"][0]
    assert stopped.startswith("stopped: --max-wall 2 s reached after "), stopped
    assert "of 30d simulated" in stopped
    # What ran is reported, however far it got on a busy machine: its figures.
    assert len(report["scenarios"]) == 1 and report["load"]["vms"] == 10000
    assert (tmp_path / "report.html").is_file() and (tmp_path / "summary.md").is_file()
    assert "exit code 2" in result.stdout


@pytest.mark.parametrize("workers", ["0", "2"])
def test_max_wall_stops_a_sweep_its_jobs_part_way_or_before_they_start(
    tmp_path: Path, workers: str
) -> None:
    result = bpcert(
        *("sweep", "--vms", "300,600,20000", "--days", "10", "--latency", "fixed"),
        *("--seeds", "1,2", "--workers", workers, "--max-wall", "3", "--quiet"),
        *("--out", str(tmp_path)),
    )
    notes = _incomplete(result, tmp_path)["notes"]
    report = _report(tmp_path)
    assert notes[0].startswith("stopped: --max-wall 3 s reached; "), notes[0]
    # Six jobs: each is named as stopped part-way or not run, or ran to its end.
    named = [n for n in notes if n.startswith("job vms=") and ("stopped:" in n or "not run" in n)]
    assert named, notes
    assert any("20000" in n for n in named), named  # the largest never ends in 3 s
    # A stopped job is no point of the growth curve.
    assert all(p["vms"] != 20000 for p in report["load"]["growth"])


def test_max_wall_on_certify_writes_the_bundle_of_what_ran_and_certifies_nothing(
    tmp_path: Path,
) -> None:
    out = tmp_path / "certify"
    result = bpcert(
        *("certify", "--plugin", "reference", "--examples", "0", "--max-wall", "3"),
        *("--quiet", "--out", str(out), "--bundle", str(tmp_path / "b.tar.gz")),
    )
    report = _incomplete(result, out)
    # However much of the check ran before the limit, a cut-short check never certifies.
    assert any(n.startswith("stopped: --max-wall 3 s reached") for n in report["notes"])
    assert "NOT certified" in result.stdout
    assert "cut short cannot certify" in result.stdout
    assert (tmp_path / "b.tar.gz").is_file()


def test_max_wall_on_verify_verifies_nothing_and_says_the_rerun_did_not_end(
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "b.tar.gz"
    made = bpcert(
        *("certify", "--plugin", "reference", "--scenario", "smoke", "--examples", "0"),
        *("--quiet", "--out", str(tmp_path / "certify"), "--bundle", str(bundle)),
    )
    assert made.returncode == ExitCode.FINDINGS, made.stdout  # a partial check: not certified
    result = bpcert("verify", str(bundle), "--max-wall", "1", "--quiet")
    assert result.returncode == ExitCode.INCOMPLETE, result.stdout + result.stderr
    message = " ".join(result.stdout.split())
    assert "verify: incomplete" in message and "--max-wall 1 s reached" in message
    assert "nothing is verified" in message


@pytest.mark.parametrize("command", ["load", "sweep", "certify", "verify"])
def test_a_max_wall_that_is_not_positive_is_a_usage_error(command: str, tmp_path: Path) -> None:
    args = {
        "load": ["load", "--vms", "10"],
        "sweep": ["sweep", "--vms", "10,20"],
        "certify": ["certify", "--plugin", "reference"],
        "verify": ["verify", str(tmp_path / "none.tar.gz")],
    }[command]
    result = bpcert(*args, "--max-wall", "0", "--quiet", "--out", str(tmp_path / "out"))
    assert result.returncode == ExitCode.USAGE, result.stdout + result.stderr
    if command != "verify":  # verify first says the bundle is missing
        assert "--max-wall must be more than 0 seconds" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["run", "smoke"],
        ["check", "--examples", "0"],
        ["load", "--vms", "10", "--days", "0.1"],
        ["sweep", "--vms", "10,20", "--days", "0.1", "--workers", "0"],
        ["certify", "--plugin", "reference", "--scenario", "smoke", "--examples", "0"],
        # Not a bundle at all: the --out is refused before the bundle is read.
        ["verify", "BUNDLE"],
    ],
    ids=lambda c: c[0],
)
def test_an_out_under_a_file_is_a_usage_error_before_anything_runs(
    tmp_path: Path, command: list[str]
) -> None:
    # As `--out /etc/passwd/sub`: a sweep used to run its whole grid, then fail writing.
    taken = tmp_path / "taken"
    taken.write_text("a file")
    if "BUNDLE" in command:
        bundle = tmp_path / "bundle.tar.gz"
        bundle.write_text("not a bundle")
        command = [str(bundle) if c == "BUNDLE" else c for c in command]
    result = bpcert(*command, "--quiet", "--out", str(taken / "sub"))
    assert result.returncode == ExitCode.USAGE, result.stdout + result.stderr
    assert f"--out {taken / 'sub'}: cannot write there (Not a directory)" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("command", "prefix"),
    [
        (["load", "--vms", "10", "--days", "0.1"], "load-10vms-"),
        (["sweep", "--vms", "10,20", "--days", "0.1", "--workers", "0"], "sweep-reference-"),
    ],
    ids=["load", "sweep"],
)
def test_load_and_sweep_default_run_directories_are_unique_too(
    tmp_path: Path, command: list[str], prefix: str
) -> None:
    for _ in range(2):
        result = bpcert(*command, "--quiet", cwd=tmp_path)
        assert result.returncode == ExitCode.OK, result.stderr
    runs = [p for p in (tmp_path / "out").iterdir() if p.name.startswith(prefix)]
    assert len(runs) == 2, runs
    latest = tmp_path / "out" / "latest"
    assert latest.resolve() == max(runs, key=lambda p: (p / "report.json").stat().st_mtime)


def _sigterm_and_report(judge: subprocess.Popen[str], out: Path) -> dict[str, Any]:
    """``judge`` sent SIGTERM a second on, its exit checked (130), its report in ``out``
    returned (verdict interrupted)."""
    time.sleep(1.0)
    judge.send_signal(signal.SIGTERM)
    stdout, stderr = judge.communicate(timeout=60)
    assert judge.returncode == ExitCode.INTERRUPTED, stdout + stderr
    report = _report(out)
    assert report["verdict"] == "interrupted" and report["exit_code"] == 130
    return report


def _sigterm_a_load_run(out: Path, traces: list[str], *args: str) -> dict[str, Any]:
    """``bpcert load ARGS --out OUT`` sent SIGTERM a second after its ``traces`` are open;
    its exit code checked (130), its report returned."""
    judge = _started(
        *("load", "--vms", "10000", "--days", "30", "--latency", "fixed"),
        *(*args, "--quiet", "--out", str(out)),
    )
    deadline = time.monotonic() + 120
    while not all((out / t).is_file() for t in traces) and time.monotonic() < deadline:
        time.sleep(0.2)  # a world is running, its stop handler set, once its trace is open
    report = _sigterm_and_report(judge, out)
    assert len(report["scenarios"]) == 1 and report["load"]["vms"] == 10000
    return report


def test_sigterm_stops_a_load_run_with_the_partial_report_of_what_ran(tmp_path: Path) -> None:
    report = _sigterm_a_load_run(tmp_path / "out", ["trace.jsonl"])
    assert report["notes"][0].startswith("stopped: interrupted by SIGTERM after "), report["notes"]


def test_sigterm_stops_a_load_run_in_worker_processes_with_the_partial_report(
    tmp_path: Path,
) -> None:
    # The parent forwards the stop to the processes simulating its datacenters: it used to
    # wait for them until the supervisor killed them all, and no report was written.
    traces = ["trace-dc1.jsonl", "trace-dc2.jsonl"]
    report = _sigterm_a_load_run(tmp_path / "out", traces, "--datacenters", "2", "--workers", "2")
    stopped = [n for n in report["notes"] if n.startswith("stopped: ")]
    assert stopped[0].startswith("stopped: interrupted by SIGTERM after "), report["notes"]


def test_sigterm_stops_a_load_run_with_datacenters_not_started_with_the_partial_report(
    tmp_path: Path,
) -> None:
    # More datacenters than workers: the signal comes before datacenters 3 and 4 start.
    # The report used to need every datacenter's part, so none was written; it now holds
    # the parts that ran and names the datacenters that did not.
    traces = ["trace-dc1.jsonl", "trace-dc2.jsonl"]
    report = _sigterm_a_load_run(tmp_path / "out", traces, "--datacenters", "4", "--workers", "2")
    assert any(n.startswith("stopped: interrupted by SIGTERM after ") for n in report["notes"])
    not_run = [n for n in report["notes"] if n.startswith("datacenters not run ")]
    assert len(not_run) == 1 and " of 4; " in not_run[0], report["notes"]
    assert report["load"]["datacenters"] < 4


def test_sigterm_stops_a_sweep_in_worker_processes_with_the_partial_report(
    tmp_path: Path,
) -> None:
    # Its jobs in worker processes used to go with their process group, and no report was
    # written; bpcert now forwards the signal, and reports as --max-wall does.
    out = tmp_path / "out"
    judge = _started(
        *("sweep", "--vms", "10000,20000", "--days", "30", "--latency", "fixed"),
        *("--seeds", "1,2", "--workers", "2", "--quiet", "--out", str(out)),
    )
    deadline = time.monotonic() + 120
    children: set[int] = set()
    while len(children) < 3 and time.monotonic() < deadline:  # its fork server and workers
        time.sleep(0.2)
        children = _descendants(judge.pid)
    assert len(children) >= 3, "the worker processes never started"
    report = _sigterm_and_report(judge, out)
    notes = report["notes"]
    assert notes[0].startswith("stopped: interrupted by SIGTERM; "), notes
    # Four jobs on two workers: the first two were running, so some job is named as
    # stopped part-way, and any job not named so either ran to its end or is 'not run'.
    assert any(n.startswith("job vms=") and "stopped: interrupted by SIGTERM" in n for n in notes)
    assert not [pid for pid in children if _running(pid)], "a child process was left"


def _running(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie waiting for its reaper does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
