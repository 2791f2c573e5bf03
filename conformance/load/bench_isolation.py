"""What ``--isolation process`` costs: ``bpcert check`` of the reference, both ways.

``python -m conformance.load.bench_isolation [--repeat N] [--no-write]`` (and ``make
bench``, through one hook in ``conformance.load.bench``) runs ``bpcert check --plugin
reference --seed 1``, in process and with ``--isolation process``, alternately, ``N``
times each (default 1), each in a measuring process of its own whose only child is the
check: wall time around it, and CPU time from ``getrusage(RUSAGE_CHILDREN)``, which
counts every process of the check that was reaped (the plugin processes, forked by the
fork server and reaped by it, included). It reports the ratio of the isolated run's
time to the in-process one's, both taken minutes apart in the same run, in its own
marked section of docs/performance.md. The target is at most 2x (issue 24).
"""

from __future__ import annotations

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

__all__ = ["BEGIN", "COMMAND", "END", "TARGET", "measure", "render", "run"]

BEGIN = "<!-- bench-isolation:begin -->"
END = "<!-- bench-isolation:end -->"
#: The command measured, after ``python -m conformance``; ``--isolation`` is added.
COMMAND = ("check", "--plugin", "reference", "--seed", "1", "--quiet")
#: The target of issue 24: the isolated check in at most this multiple of the other.
TARGET = 2.0
_ROOT = Path(__file__).resolve().parents[2]
_DOC = _ROOT / "docs" / "performance.md"
_MODES = ("in-process", "process")


def _measure_one(isolation: str) -> dict[str, float]:
    """Run the check once here, as this process's only child; wall and CPU seconds."""
    with tempfile.TemporaryDirectory(prefix="bpcert-bench-isolation-") as tmp:
        cmd = [sys.executable, "-m", "conformance", *COMMAND, "--isolation", isolation]
        t0 = time.perf_counter()
        done = subprocess.run(
            [*cmd, "--out", str(Path(tmp) / "out")],
            capture_output=True,
            text=True,
            cwd=_ROOT,
            check=False,
        )
        wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` exited {done.returncode}: {done.stderr[-500:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime}


def measure(repeat: int = 1) -> dict[str, list[dict[str, float]]]:
    """Each mode's runs, alternating, each in a fresh measuring process."""
    out: dict[str, list[dict[str, float]]] = {mode: [] for mode in _MODES}
    for _ in range(repeat):
        for mode in _MODES:
            done = subprocess.run(
                [sys.executable, "-m", "conformance.load.bench_isolation", "--one", mode],
                capture_output=True,
                text=True,
                cwd=_ROOT,
                check=True,
            )
            out[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def _best(runs: list[dict[str, float]], what: str) -> float:
    # The least disturbed run of each: on a shared machine the others only add noise.
    return min(r[what] for r in runs)


def render(figures: dict[str, list[dict[str, float]]], started: datetime, load: str) -> str:
    """The marked section of docs/performance.md for these figures."""
    command = " ".join(("bpcert", *COMMAND))
    lines = [
        BEGIN,
        "",
        f"Measured by `python -m conformance.load.bench_isolation` on {started:%Y-%m-%d %H:%M} "
        f"UTC, {os.cpu_count()} CPUs, load average at the start {load}: `{command}`, "
        f"{len(figures['process'])} run(s) of each, alternating, the fastest of each kept. "
        "CPU time counts every process of the run (the plugin's included).",
        "",
        "| isolation | wall (s) | CPU (s) |",
        "| --- | ---: | ---: |",
    ]
    for mode in _MODES:
        runs = figures[mode]
        lines.append(f"| `{mode}` | {_best(runs, 'wall_s'):.1f} | {_best(runs, 'cpu_s'):.1f} |")
    ratios = {
        what: _best(figures["process"], what) / _best(figures["in-process"], what)
        for what in ("wall_s", "cpu_s")
    }
    met = "met" if ratios["wall_s"] <= TARGET else "**not met**"
    lines += [
        "",
        f"`--isolation process` / in process: **{ratios['wall_s']:.2f}x** wall, "
        f"**{ratios['cpu_s']:.2f}x** CPU (target: at most {TARGET:g}x wall, {met}).",
    ]
    return "\n".join([*lines, "", END])


def run(doc: Path = _DOC, *, write: bool = True, repeat: int = 1) -> str:
    """Measure, and replace (or append) the section in ``doc``; returns the section."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    started = datetime.now(UTC)
    section = render(measure(repeat), started, load)
    if write:
        from conformance.load.bench_bridge import write_section

        write_section(doc, section, BEGIN, END, "Process isolation")
    return section


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print the section; ``--no-write`` leaves docs/performance.md alone."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--one"] and len(args) == 2 and args[1] in _MODES:
        sys.stdout.write(json.dumps(_measure_one(args[1])) + "\n")
        return 0
    repeat = 1
    if "--repeat" in args:
        index = args.index("--repeat")
        try:
            repeat = int(args[index + 1])
        except (IndexError, ValueError):
            sys.stderr.write("--repeat needs a whole number of runs\n")
            return 4
        if repeat < 1:
            sys.stderr.write(f"--repeat must be at least 1, got {repeat}\n")
            return 4
    sys.stdout.write(run(write="--no-write" not in args, repeat=repeat) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
