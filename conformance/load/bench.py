"""Benchmarks of the simulator at fleet scale (``make bench``).

Run as ``python -m conformance.load.bench``.

Each benchmark runs one built-in scenario with the reference plugin, the trace off and
no conformance audit, in a subprocess of its own, as a load run: a scenario with a
backup manager per datacenter runs one world per datacenter on a process pool, as
``bpcert load`` does. Each is measured from outside with public tools only:

- wall time around the subprocess (``time.perf_counter``), which includes start-up;
- peak resident memory and CPU time from ``resource.getrusage(RUSAGE_CHILDREN)``, read
  by a small measuring process whose only child is the benchmark, so the figures are
  that benchmark's alone (with several datacenters, the peak is the benchmark's own
  sum of the processes resident at once: getrusage gives only the largest one's);
- from the benchmark itself: SimPy events, backups taken, checks, and the resident
  memory at the end of every simulated day (``/proc/self/statm``), to show whether
  memory levels off.

Before each benchmark it measures, the same way, the **bare model** of the same scenario
(:mod:`conformance.load.baseline`: one calendar process, one check process, no plugin,
no trace), once per scenario in a run, and reports the benchmark's wall and CPU time as
ratios to it. Absolute times on a shared machine drift by 2x within an hour; a ratio to
a floor measured minutes apart drifts far less.

It then rewrites the measured section of ``docs/performance.md`` (between the
``bench:begin`` and ``bench:end`` markers) with a table of the figures, the machine,
the date and the targets, met or not. Options: ``--only NAME`` (repeatable),
``--timeout S`` per benchmark, ``--no-write`` to print without touching the doc.

The benchmarks and their targets are declared in :mod:`conformance.load.benchmarks`, and
the section is written by :mod:`conformance.load.bench_doc`; this module runs and
measures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.load.bench_doc import (
    DOC,
    derived,
    fmt,
    interpreter,
    previous_results,
    render_section,
    with_ratios,
    write_doc,
)
from conformance.load.benchmarks import BASELINE, BENCHMARKS, LOAD_COMMAND, Benchmark

__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "baseline_args",
    "interpreter",
    "main",
    "previous_results",
    "render_section",
    "with_ratios",
    "write_doc",
]

_MB = 1e6


def _load_command_args(scenario: str, days: float | None, *, profile: bool = True) -> list[str]:
    """The options of ``bpcert load`` that a ``bpcert-load:N:D[:K[:P]]`` scenario stands for
    (without ``--profile`` unless ``profile``: the bare model has no plugin to speak one)."""
    vms, load_days, *rest = scenario.removeprefix(LOAD_COMMAND).split(":")
    args = ["--vms", vms, "--days", repr(days) if days is not None else load_days]
    args += ["--datacenters", rest[0]] if rest else []
    return args + (["--profile", rest[1]] if profile and len(rest) > 1 else [])


def baseline_args(scenario: str, days: float | None) -> list[str]:
    """The options of ``python -m conformance.load.baseline`` for a benchmark's scenario."""
    if scenario.startswith(LOAD_COMMAND):
        return _load_command_args(scenario, days, profile=False)
    return ["--scenario", scenario] + (["--days", repr(days)] if days is not None else [])


def _child(scenario_name: str, days: float | None) -> dict[str, Any]:
    """Run one benchmark here, as a load run, and return its figures (printed as JSON).

    A scenario with a backup manager per datacenter runs one world per datacenter, on
    as many processes at once as this machine has CPUs, exactly as ``bpcert load`` does.
    """
    from conformance.load.job import LoadJob
    from conformance.load.report import load_run_report
    from conformance.load.run import run_load_job

    job = LoadJob.for_scenario(
        scenario_name, plugin="simulator.reference:ReferencePlugin", days=days
    )
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    result = run_load_job(job)
    report = load_run_report(result, started=started, wall_s=time.perf_counter() - t0)
    return _report_figures(report.model_dump(mode="json"))


def _report_figures(report: dict[str, Any]) -> dict[str, Any]:
    """A benchmark's figures from its load run's report (``report.json``'s data)."""
    load, summary = report["load"], report["scenarios"][0]
    figures: dict[str, Any] = {
        "vms": load["vms"],
        "days": load["days"],
        "sim_s": report["wall_seconds"],
        "sim_events": summary["sim_events"],
        "backups": summary["backups_taken"],
        "checks": summary["checks_total"],
        "overruns": load["overruns"],
        "results_seen": summary["results_seen"],
        "datacenters": load["datacenters"],
        "memory_by_day_mb": load["memory_by_day_mb"],
        "profile": report["profile"],
        "calls_per_check": load["calls_per_check"]["sum"]
        / max(1, load["calls_per_check"]["count"]),
    }
    if load["datacenters"] > 1:
        # getrusage(RUSAGE_CHILDREN) gives the largest process's peak, not their sum:
        # the run's own sum of the processes resident at once is the report's.
        figures["peak_rss_mb"] = load["peak_memory_mb"]
    return figures


def _measure(name: str, days: float | None, timeout_s: float) -> dict[str, Any]:
    """Run the benchmark ``name`` and measure it; this process has no other child.

    A built-in scenario runs in a child of this module (:func:`_child`). The command
    benchmark runs the command itself, as a user types it: ``bpcert load`` with its
    defaults, trace and report included, into a temporary directory. A name
    ``baseline:SCENARIO`` runs the bare model of that benchmark scenario.
    """
    with tempfile.TemporaryDirectory(prefix="bpcert-bench-") as tmp:
        if name.startswith(BASELINE):
            cmd = [sys.executable, "-m", "conformance.load.baseline"]
            cmd += baseline_args(name.removeprefix(BASELINE), days)
        elif name.startswith(LOAD_COMMAND):
            cmd = [sys.executable, "-m", "conformance", "load", "--plugin", "reference"]
            cmd += [*_load_command_args(name, days), "--out", tmp]
        else:
            cmd = [sys.executable, "-m", "conformance.load.bench", "--child", name]
            if days is not None:
                cmd += ["--days", repr(days)]
        t0 = time.perf_counter()
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            return {"status": "timeout", "wall_s": time.perf_counter() - t0}
        wall = time.perf_counter() - t0
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        scale = 1.0 if sys.platform == "darwin" else 1024.0  # ru_maxrss: bytes on macOS, KiB
        out: dict[str, Any] = {
            "status": "ok" if done.returncode == 0 else f"exit {done.returncode}",
            "wall_s": wall,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss * scale / _MB,
        }
        if done.returncode != 0:
            out["stderr"] = done.stderr[-2000:]
        elif name.startswith(BASELINE):
            model = json.loads(done.stdout.strip().splitlines()[-1])
            out.update(vms=model["vms"], days=model["days"], backups=model["backups"])
            out.update(datacenters=model["datacenters"], sim_events=model["sim_events"])
        elif name.startswith(LOAD_COMMAND):
            out.update(_report_figures(json.loads((Path(tmp) / "report.json").read_text())))
        else:
            out.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def _run_measured(bench: Benchmark, timeout_s: float, *, baseline: bool = False) -> dict[str, Any]:
    """Run the measuring process for one benchmark (so RUSAGE_CHILDREN is its alone).

    ``baseline``: measure the bare model of the benchmark's scenario instead.
    """
    name = BASELINE + bench.scenario if baseline else bench.scenario
    cmd = [sys.executable, "-m", "conformance.load.bench", "--measure", name]
    cmd += ["--timeout", repr(timeout_s)]
    if bench.days is not None:
        cmd += ["--days", repr(bench.days)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"status": f"measuring process failed: {done.stderr[-500:]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


#: The probe: fixed work, timed just before and after each benchmark. It imports nothing
#: of bpcert, so that it measures the machine and the interpreter, never the code under
#: test: a probe that ran bpcert would speed up with every optimisation and hide it. Like
#: a load run it builds, indexes and drops many small objects over a large working set.
PROBE_CODE = """
import random, sys, time
items = int(sys.argv[1])
start = time.perf_counter()
rng = random.Random(0)
held = {}
for i in range(items):
    key = f"bk-{i:08d}"
    held[key] = (key, rng.random(), [i])
    if i % 3 == 0:
        held.pop(f"bk-{i // 2:08d}", None)
print(time.perf_counter() - start)
"""
PROBE_ITEMS = 300_000


def _probe(timeout_s: float = 300.0) -> float | None:
    """Seconds that the probe's fixed work took, or None if it did not finish.

    This machine's speed drifts by a quarter and more within an hour (other tenants).
    The probe does the same work in every run, of every version of the code, so a reader
    can tell a slower machine from slower code: compare wall times between runs only when
    their probes agree, or scale them by the probes' ratio.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-c", PROBE_CODE, str(PROBE_ITEMS)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return None
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks (or, internally, one measuring process or one child)."""
    p = argparse.ArgumentParser(prog="python -m conformance.load.bench", description=__doc__)
    p.add_argument("--only", action="append", default=[], help="run only this benchmark")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per benchmark")
    p.add_argument("--no-write", action="store_true", help="do not rewrite docs/performance.md")
    p.add_argument("--doc", type=Path, default=DOC, help="the doc to rewrite")
    p.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite the section from the figures stored in the doc, running nothing",
    )
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    p.add_argument("--days", type=float, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child is not None:
        sys.stdout.write(json.dumps(_child(args.child, args.days)) + "\n")
        return 0
    if args.measure is not None:
        sys.stdout.write(json.dumps(_measure(args.measure, args.days, args.timeout)) + "\n")
        return 0
    known = {b.name for b in BENCHMARKS}
    unknown = sorted(set(args.only) - known)
    if unknown:
        p.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
    started = datetime.now(UTC)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    results = {k: v for k, v in previous_results(args.doc).items() if k in known}
    if args.render_only:
        runs = sorted(r["run"] for r in results.values() if r.get("run"))
        if not runs:
            p.error(f"{args.doc} holds no measured figures; run the benchmarks first")
        started = datetime.strptime(runs[-1], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        load = next(
            (
                str(r["load_avg"])
                for r in results.values()
                if r.get("run") == runs[-1] and r.get("load_avg")
            ),
            "not recorded",
        )
    floors: dict[tuple[str, float | None], dict[str, Any]] = {}
    for bench in BENCHMARKS:
        if args.render_only or (args.only and bench.name not in args.only):
            continue
        floor_key = (bench.scenario, bench.days)
        if floor_key not in floors:
            sys.stderr.write(f"bench {bench.name}: the bare model of its scenario ...\n")
            floors[floor_key] = _run_measured(bench, args.timeout, baseline=True)
        sys.stderr.write(f"bench {bench.name}: {bench.what} ...\n")
        probe_before = _probe()
        measured = derived(_run_measured(bench, args.timeout))
        results[bench.name] = with_ratios(measured, floors[floor_key])
        results[bench.name]["probe_before_s"] = probe_before
        results[bench.name]["probe_after_s"] = _probe()
        results[bench.name]["run"] = f"{started:%Y-%m-%d %H:%M}"
        results[bench.name]["load_avg"] = load
        r = results[bench.name]
        sys.stderr.write(
            f"bench {bench.name}: {r.get('status')}, {fmt(r.get('wall_s'))} s wall, "
            f"{fmt(r.get('peak_rss_mb'), 0)} MB peak, "
            f"{fmt(r.get('events_per_backup'), 3)} events/backup; "
            f"{fmt(r.get('wall_ratio'), 2)}x the bare model's wall time, "
            f"{fmt(r.get('cpu_ratio'), 2)}x its CPU time\n"
        )
    if not args.render_only and not args.only:  # the JVM bridge per call, its own section
        from conformance.load import bench_bridge

        sys.stderr.write(bench_bridge.run(args.doc, write=not args.no_write) + "\n")
        from conformance.load import bench_isolation  # check in process vs isolated

        sys.stderr.write(bench_isolation.run(args.doc, write=not args.no_write) + "\n")
    section = render_section(results, started, load)
    sys.stdout.write(section + "\n")
    if not args.no_write:
        write_doc(section, args.doc)
        sys.stderr.write(f"wrote {args.doc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
