"""The measured section of ``docs/performance.md``: figures as a table, targets judged.

:func:`render_section` turns the figures of a ``make bench`` run (:mod:`conformance.load.bench`)
into the section between the ``bench:begin`` and ``bench:end`` markers: a row per
benchmark, the targets met or not, memory by simulated day, and the figures themselves
as JSON in a comment, which :func:`previous_results` reads back so that ``--only`` keeps
the other rows. :func:`write_doc` replaces the section in the doc.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sysconfig
from datetime import datetime
from pathlib import Path
from typing import Any

from conformance.load.benchmarks import BENCHMARKS, TARGETS, VERSUS, Target

__all__ = [
    "BEGIN",
    "DATA",
    "DOC",
    "END",
    "derived",
    "fmt",
    "interpreter",
    "previous_results",
    "render_section",
    "status_text",
    "with_ratios",
    "write_doc",
]

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
DATA = "<!-- bench:data "
#: The doc ``make bench`` rewrites: the repository's docs/performance.md.
DOC = Path(__file__).resolve().parents[2] / "docs" / "performance.md"


def derived(r: dict[str, Any]) -> dict[str, Any]:
    """A benchmark's figures with those derived from them: VM-days per wall second and
    SimPy events per backup."""
    out = dict(r)
    if r.get("status") == "ok":
        out["vm_days_per_wall_s"] = r["vms"] * r["days"] / r["wall_s"] if r["wall_s"] else None
        out["events_per_backup"] = r["sim_events"] / r["backups"] if r["backups"] else None
    return out


def with_ratios(r: dict[str, Any], baseline: dict[str, Any] | None) -> dict[str, Any]:
    """A benchmark's figures with its bare model's, and its wall and CPU time as ratios."""
    out = dict(r)
    if baseline is None:
        return out
    out["baseline"] = baseline
    if r.get("status") == "ok" and baseline.get("status") == "ok":
        for what in ("wall_s", "cpu_s"):
            floor = baseline.get(what)
            out[f"{what.removesuffix('_s')}_ratio"] = r[what] / floor if floor else None
    return out


def fmt(value: Any, digits: int = 1) -> str:
    """A figure as the table shows it: thousands separated, ``digits`` decimals, ``–``
    for none."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def status_text(r: dict[str, Any]) -> str:
    """How a benchmark ended, in words: ok, timed out, killed by a signal, failed."""
    status = str(r.get("status"))
    wall = fmt(r.get("wall_s"))
    if status == "timeout":
        return f"stopped at the time limit after {wall} s"
    if status.startswith("exit -"):
        number = int(status.removeprefix("exit -"))
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"stopped by {name} after {wall} s"
    return status


def _judge(target: Target, results: dict[str, dict[str, Any]]) -> tuple[str, str]:
    r = results.get(target.bench)
    if r is None:
        return "not run", "–"
    if r.get("status") != "ok":
        return "**not met**", status_text(r)
    if target.field == "completes":
        mem = [m for m in r.get("memory_by_day_mb", []) if m is not None]
        shape = " → ".join(f"{m:,.0f}" for m in mem) + " MB by day" if mem else "no samples"
        return "met", f"completed in {fmt(r['wall_s'])} s; RSS {shape}"
    if target.field.startswith(VERSUS):
        other = results.get(target.field.removeprefix(VERSUS))
        if other is None:
            return "not run", "–"
        if other.get("status") != "ok":
            return "**not met**", status_text(other)
        value = r["wall_s"] / other["wall_s"] if other.get("wall_s") else None
    else:
        value = r.get(target.field)
    if value is None or target.limit is None:
        return "–", "–"
    ok = value <= target.limit
    return ("met" if ok else "**not met**"), fmt(value, 3 if value < 10 else 1)


def _floor_text(baseline: dict[str, Any] | None) -> str:
    if baseline is None:
        return "–"
    if baseline.get("status") != "ok":
        return status_text(baseline)
    return f"{fmt(baseline.get('wall_s'))} / {fmt(baseline.get('cpu_s'))}"


def _probe_text(r: dict[str, Any]) -> str:
    before, after = r.get("probe_before_s"), r.get("probe_after_s")
    if before is None and after is None:
        return "-"
    return f"{fmt(before, 2)} / {fmt(after, 2)}"


def interpreter() -> str:
    """Which Python ran the benchmarks: version, where it is installed, how it is linked.

    Builds differ by a quarter here (docs/performance.md). An interpreter that runs from
    a shared ``libpython`` (pyenv's default build) is slower than one with libpython
    linked into the executable (Debian's); sysconfig's ``Py_ENABLE_SHARED`` cannot tell
    them apart, since Debian ships a shared library too, so this reads the process's
    own memory map.
    """
    text = f"Python {platform.python_version()} from {sysconfig.get_config_var('BINDIR') or '?'}"
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return text
    return text + (" (shared libpython)" if "libpython" in maps else " (libpython linked in)")


def render_section(results: dict[str, dict[str, Any]], started: datetime, load: str) -> str:
    """The measured section of docs/performance.md, markers included."""
    lines = [
        BEGIN,
        "",
        f"Measured by `python -m conformance.load.bench` on {started:%Y-%m-%d %H:%M} UTC: "
        f"{os.cpu_count()} CPUs (`nproc`), {interpreter()}, "
        f"{platform.system()} {platform.machine()}; load average at the start {load}.",
        "",
        "| benchmark | scenario | datacenters | wall (s) | CPU (s) "
        "| bare model wall / CPU (s) | wall ratio | CPU ratio | peak RSS (MB) "
        "| VM-days / wall s | SimPy events | backups | events / backup | checks | overruns "
        "| probe (s) | status |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: | ---: | --- |",
    ]
    for bench in BENCHMARKS:
        r = results.get(bench.name)
        if r is None:
            continue
        lines.append(
            "| "
            + " | ".join(
                [
                    bench.name,
                    bench.what,
                    fmt(r.get("datacenters", 1)),
                    fmt(r.get("wall_s")),
                    fmt(r.get("cpu_s")),
                    _floor_text(r.get("baseline")),
                    fmt(r.get("wall_ratio"), 2),
                    fmt(r.get("cpu_ratio"), 2),
                    fmt(r.get("peak_rss_mb"), 0),
                    fmt(r.get("vm_days_per_wall_s"), 0),
                    fmt(r.get("sim_events")),
                    fmt(r.get("backups")),
                    fmt(r.get("events_per_backup"), 3),
                    fmt(r.get("checks")),
                    fmt(r.get("overruns")),
                    _probe_text(r),
                    status_text(r),
                ]
            )
            + " |"
        )
    lines += ["", "| target | measured | met? |", "| --- | --- | --- |"]
    for target in TARGETS:
        verdict, measured = _judge(target, results)
        lines.append(f"| {target.text} | {measured} | {verdict} |")
    mem_rows = [
        (b.name, results[b.name].get("memory_by_day_mb") or [])
        for b in BENCHMARKS
        if b.name in results and results[b.name].get("status") == "ok"
    ]
    if mem_rows:
        lines += [
            "",
            "Resident memory at the end of each simulated day (MB; with several "
            "datacenters, of the largest of their processes):",
            "",
        ]
        for name, mem in mem_rows:
            shown = ", ".join(fmt(m, 0) for m in mem[:31])
            lines.append(f"- {name}: {shown}")
    unfinished = [
        (b.name, results[b.name])
        for b in BENCHMARKS
        if b.name in results and results[b.name].get("status") != "ok"
    ]
    if unfinished:
        lines += [""]
        for name, r in unfinished:
            lines.append(
                f"- {name} did not finish: {status_text(r)}; its peak memory until then was "
                f"{fmt(r.get('peak_rss_mb'), 0)} MB."
            )
    stale = sorted(
        {r["run"] for r in results.values() if r.get("run")} - {f"{started:%Y-%m-%d %H:%M}"}
    )
    if stale:
        lines += ["", f"Rows measured earlier ({', '.join(stale)}) are kept from a previous run."]
    lines += ["", DATA + json.dumps(results, sort_keys=True) + " -->", "", END]
    return "\n".join(lines)


def previous_results(doc: Path = DOC) -> dict[str, dict[str, Any]]:
    """The results stored in ``doc``'s measured section, so ``--only`` keeps the others."""
    try:
        text = doc.read_text(encoding="utf-8")
    except OSError:
        return {}
    start = text.find(DATA)
    if start < 0:
        return {}
    end = text.find("-->", start)
    try:
        data = json.loads(text[start + len(DATA) : end])
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def write_doc(section: str, doc: Path = DOC) -> Path:
    """Replace the measured section of ``doc`` (or append it if it has no markers)."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(text, encoding="utf-8")
    return doc
