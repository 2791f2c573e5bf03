"""Plots of a run, as deterministic PNG bytes (matplotlib, Agg, imported lazily).

For each scenario, when it has the data:

- ``latency``: the simulated latency distribution (CDF) of each contract operation;
- ``checks``: each check's duration over simulated time, against the check interval
  (dashed line), overruns in red;
- ``results``: results (and expired ids) returned per check over simulated time;
- ``freshness``: time from a backup finishing to the platform seeing it;
- ``vf``: Virtual Factory queue depth and lock waits over simulated time.

Time-based plots shade backup-system outages. A load run adds ``load-growth`` (check
cost against fleet size; for a sweep, every job's p95 check cost on log-log axes with
the fitted exponent and slope-1 and slope-2 guides) and ``load-results`` (results per
check). A plot whose data is empty is not drawn at all.

matplotlib is imported inside the functions, so importing :mod:`reports` stays cheap
and never touches it. Figures are built on :class:`matplotlib.figure.Figure` with an Agg
canvas (never pyplot), inside matplotlib's default style: the process's backend and
rcParams are left alone and a user's ``matplotlibrc`` cannot change the pictures. With a
fixed size and dpi and no ``Software`` metadata, the same report gives the same bytes.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports.json_writer import atomic_write
from reports.model import HistogramData, LoadMetrics, RunReport, ScenarioSummary

__all__ = ["Plot", "render_plots", "warm_up", "write_plots"]

_SIZE = (8.0, 3.6)
_DPI = 100
_OVERRUN = "#c62828"
_OUTAGE = "#9e9e9e"


@dataclass(frozen=True)
class _Scene:
    """One scenario as its plots see it: its summary, and the instants of its findings."""

    s: ScenarioSummary
    #: Simulated seconds at which a finding happened in this scenario, sorted.
    findings_at: tuple[float, ...] = ()


#: At most this many findings are marked on a timeline (the rest would be a red wall).
_MAX_MARKS = 200
_FINDING = "#d81b60"


def _mark_findings(ax: Any, scene: _Scene, scale: float) -> None:
    """A thin vertical line where each finding happened, labelled once."""
    marks = scene.findings_at[:_MAX_MARKS]
    if not marks:
        return
    ax.vlines(
        [t / scale for t in marks],
        0,
        1,
        transform=ax.get_xaxis_transform(),
        colors=_FINDING,
        linewidth=0.7,
        alpha=0.6,
        label=f"finding ({len(scene.findings_at)})",
    )


def _single_valued(hist: HistogramData) -> bool:
    """True when every sample of ``hist`` fell in one bucket: a CDF would be one step."""
    return sum(1 for _, n in hist.buckets if n) <= 1


@dataclass(frozen=True)
class Plot:
    """One rendered plot.

    ``name`` is its file stem, ``title`` its alt text, and ``scenario_index`` the index in
    ``report.scenarios`` it belongs to (None for the load plots).
    """

    name: str
    title: str
    png: bytes
    scenario_index: int | None = None

    @property
    def filename(self) -> str:
        """The file name under ``plots/``."""
        return f"{self.name}.png"


# ---------------------------------------------------------------------- plumbing


@contextmanager
def _figure(nrows: int = 1, height: float = _SIZE[1]) -> Iterator[tuple[Any, list[Any]]]:
    import matplotlib
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.style.context("default"), matplotlib.rc_context({"svg.hashsalt": "bpcert"}):
        fig = Figure(figsize=(_SIZE[0], height), dpi=_DPI)
        FigureCanvasAgg(fig)
        # Fixed margins in inches: tight_layout would cost an extra draw per plot.
        fig.subplots_adjust(
            left=0.8 / _SIZE[0],
            right=1 - 0.25 / _SIZE[0],
            bottom=0.6 / height,
            top=1 - 0.4 / height,
            hspace=0.55 / (2.4 - 0.55) if nrows > 1 else 0.2,
        )
        axes = [fig.add_subplot(nrows, 1, i + 1) for i in range(nrows)]
        yield fig, axes


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    return buf.getvalue()


def _time_unit(duration_s: float) -> tuple[float, str]:
    if duration_s <= 2 * 3600:
        return 60.0, "min"
    if duration_s <= 3 * 86400:
        return 3600.0, "h"
    return 86400.0, "days"


def _shade_outages(ax: Any, outages: Sequence[tuple[float, float]], scale: float) -> None:
    for i, (start, end) in enumerate(outages):
        ax.axvspan(
            start / scale,
            end / scale,
            color=_OUTAGE,
            alpha=0.25,
            linewidth=0,
            label="outage" if i == 0 else None,
        )


def _log_axis(ax: Any, edges: Sequence[float]) -> None:
    positive = [e for e in edges if e > 0]
    if not positive:
        return
    if any(e == 0 for e in edges):
        ax.set_xscale("symlog", linthresh=min(positive))
    elif max(positive) / min(positive) > 20:
        ax.set_xscale("log")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "scenario"


# ---------------------------------------------------------------------- per scenario


def _latency(scene: _Scene) -> bytes | None:
    s = scene.s
    ops = [op for op in s.operations if op.latency_s.count > 0 and op.latency_s.buckets]
    # A fixed latency model makes every call take the same time: the CDF would be one
    # step, and the scenario table already gives that value as p50 and p95.
    if not ops or all(_single_valued(op.latency_s) for op in ops):
        return None
    with _figure() as (fig, (ax,)):
        edges: list[float] = []
        for op in ops:
            xs = [edge for edge, _ in op.latency_s.buckets]
            total = op.latency_s.count
            cum, ys = 0, []
            for _, n in op.latency_s.buckets:
                cum += n
                ys.append(cum / total)
            edges.extend(xs)
            p95 = op.latency_s.p95
            label = f"{op.op} (n={total}" + (f", p95={p95:.3g} s)" if p95 is not None else ")")
            ax.step(xs, ys, where="post", label=label)
        _log_axis(ax, edges)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("simulated latency (s)")
        ax.set_ylabel("fraction of calls ≤ x")
        ax.set_title(f"{s.name}: plugin call latency (CDF)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", loc="lower right")
        return _png(fig)


def _checks(scene: _Scene) -> bytes | None:
    s = scene.s
    if not s.checks:
        return None
    scale, unit = _time_unit(s.duration_s)
    with _figure() as (fig, (ax,)):
        _shade_outages(ax, s.outages, scale)
        _mark_findings(ax, scene, scale)
        xs = [c.start / scale for c in s.checks]
        ax.plot(xs, [c.duration for c in s.checks], marker=".", linewidth=0.8, label="duration")
        if s.check_delay_s > 0:
            ax.axhline(
                s.check_delay_s, color="black", linestyle="--", linewidth=1, label="interval"
            )
        over = [
            c for c in s.checks if not c.ok or (s.check_delay_s and c.duration > s.check_delay_s)
        ]
        if over:
            ax.scatter(
                [c.start / scale for c in over],
                [c.duration for c in over],
                color=_OVERRUN,
                zorder=3,
                label=f"overrun / failed ({s.check_overruns} in all)",
            )
        ax.set_xlabel(f"simulated time ({unit})")
        ax.set_ylabel("check duration (s)")
        ax.set_title(f"{s.name}: check duration ({s.checks_total} checks)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", loc="upper right")
        return _png(fig)


def _results(scene: _Scene) -> bytes | None:
    s = scene.s
    if not s.checks:
        return None
    scale, unit = _time_unit(s.duration_s)
    with _figure() as (fig, (ax,)):
        _shade_outages(ax, s.outages, scale)
        _mark_findings(ax, scene, scale)
        xs = [c.start / scale for c in s.checks]
        ax.plot(xs, [c.results for c in s.checks], marker=".", linewidth=0.8, label="results")
        if any(c.expired for c in s.checks):
            ax.plot(xs, [c.expired for c in s.checks], linewidth=0.8, label="expired ids")
        ax.set_xlabel(f"simulated time ({unit})")
        ax.set_ylabel("per check")
        ax.set_title(f"{s.name}: results per check ({s.results_seen} seen)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", loc="upper right")
        return _png(fig)


def _histogram_needles(ax: Any, hist: HistogramData, xlabel: str) -> None:
    xs = [edge for edge, _ in hist.buckets]
    ax.vlines(xs, 0, [n for _, n in hist.buckets], linewidth=3)
    _log_axis(ax, xs)
    styles = (("p50", hist.p50, ":"), ("p95", hist.p95, "--"), ("p99", hist.p99, "-."))
    for q, value, style in styles:
        if value is not None:
            ax.axvline(value, linestyle=style, linewidth=1, color="black", label=f"{q} {value:.3g}")
    ax.legend(fontsize="small", loc="upper left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count (bucket upper edge)")
    ax.grid(True, alpha=0.3)


def _freshness(scene: _Scene) -> bytes | None:
    s = scene.s
    if s.freshness_s.count == 0 or not s.freshness_s.buckets:
        return None
    with _figure() as (fig, (ax,)):
        _histogram_needles(ax, s.freshness_s, "backup finished → seen by the platform (s)")
        ax.set_title(f"{s.name}: result freshness (n={s.freshness_s.count})")
        return _png(fig)


def _vf(scene: _Scene) -> bytes | None:
    s = scene.s
    series = [
        (s.queue_depth, "queue depth"),
        (s.lock_wait_s, "lock wait (s)"),
    ]
    # A series flat at 0 (no task ever queued, no lock ever waited for) shows nothing.
    present = [(pts, label) for pts, label in series if any(v for _, v in pts)]
    if not present:
        return None
    scale, unit = _time_unit(s.duration_s)
    with _figure(nrows=len(present), height=2.4 * len(present) + 0.6) as (fig, axes):
        for ax, (pts, label) in zip(axes, present, strict=True):
            _shade_outages(ax, s.outages, scale)
            _mark_findings(ax, scene, scale)
            xs, ys = [t / scale for t, _ in pts], [v for _, v in pts]
            if pts is s.queue_depth:
                ax.plot(xs, ys, linewidth=0.8, drawstyle="steps-post")
            else:
                ax.plot(xs, ys, linewidth=0.6, marker=".", markersize=3)
            ax.set_ylabel(label)
            ax.grid(True, alpha=0.3)
            if s.outages or scene.findings_at:
                ax.legend(fontsize="small", loc="upper right")
        axes[-1].set_xlabel(f"simulated time ({unit})")
        axes[0].set_title(f"{s.name}: Virtual Factory queue and locks")
        return _png(fig)


_SCENARIO_PLOTS: list[tuple[str, str, Callable[[_Scene], bytes | None]]] = [
    ("latency", "plugin call latency by operation", _latency),
    ("checks", "check duration against the check interval", _checks),
    ("results", "results per check", _results),
    ("freshness", "result freshness histogram", _freshness),
    ("vf", "Virtual Factory queue depth and lock wait", _vf),
]


# ---------------------------------------------------------------------- load


def _growth(load: LoadMetrics) -> bytes | None:
    if not load.growth:
        return None
    with _figure() as (fig, (ax,)):
        xs = [g.vms for g in load.growth]
        ys = [g.check_cost_s for g in load.growth]
        ax.plot(xs, ys, marker="o")
        if min(xs) > 0 and min(ys) > 0 and len(xs) > 1:
            ax.set_xscale("log")
            ax.set_yscale("log")
        exp = "" if load.growth_exponent is None else f" (exponent {load.growth_exponent:.2f})"
        ax.set_title(f"check cost against fleet size{exp}")
        ax.set_xlabel("VMs")
        ax.set_ylabel("check cost (s)")
        ax.grid(True, alpha=0.3, which="both")
        return _png(fig)


def _growth_fit(load: LoadMetrics) -> bytes | None:
    """A sweep's growth: every job's check cost, the fitted power law, and guide slopes.

    Log-log axes, so a power law is a straight line: the fitted exponent is its slope,
    drawn next to slope 1 (linear) and slope 2 (quadratic) through the same centre.
    """
    points = [(g.vms, g.check_cost_s) for g in load.growth if g.vms > 0 and g.check_cost_s > 0]
    if not points:
        return None
    with _figure() as (fig, (ax,)):
        ax.scatter([n for n, _ in points], [c for _, c in points], zorder=3, label="jobs")
        sizes = sorted({n for n, _ in points})
        medians = []
        for n in sizes:
            costs = sorted(c for m, c in points if m == n)
            medians.append(costs[len(costs) // 2])
        ax.plot(sizes, medians, linewidth=0.8, color="black", label="median per size")
        k = load.growth_exponent
        if k is not None and len(sizes) > 1:
            mx = sum(math.log(n) for n, _ in points) / len(points)
            my = sum(math.log(c) for _, c in points) / len(points)
            lo, hi = sizes[0], sizes[-1]

            def guide(slope: float) -> list[float]:
                return [math.exp(my + slope * (math.log(x) - mx)) for x in (lo, hi)]

            color = _OVERRUN if load.flagged else "tab:blue"
            ax.plot([lo, hi], guide(k), color=color, linewidth=2, label=f"fit: exponent {k:.2f}")
            ax.plot([lo, hi], guide(1.0), color="grey", linestyle="--", linewidth=1, label="linear")
            ax.plot(
                [lo, hi], guide(2.0), color="grey", linestyle=":", linewidth=1, label="quadratic"
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        flag = " (flagged)" if load.flagged else ""
        ax.set_title(f"check cost (p95 per job) against fleet size{flag}")
        ax.set_xlabel("VMs")
        ax.set_ylabel("check cost (s)")
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(fontsize="small", loc="upper left")
        return _png(fig)


def _load_results(load: LoadMetrics) -> bytes | None:
    hist = load.results_per_check
    if hist.count == 0 or not hist.buckets:
        return None
    with _figure() as (fig, (ax,)):
        _histogram_needles(ax, hist, "results per check")
        ax.set_title(f"results per check (n={hist.count} checks)")
        return _png(fig)


# ---------------------------------------------------------------------- public


@dataclass(frozen=True)
class _PlotJob:
    name: str
    title: str
    scenario_index: int | None
    draw: Callable[[Any], bytes | None]
    data: Any


def _plot_jobs(report: RunReport) -> list[_PlotJob]:
    """Every plot a report may have, in a fixed order; names are unique file stems."""
    jobs: list[_PlotJob] = []
    used: set[str] = set()
    findings_at: dict[str, list[float]] = {}
    for rule in report.rules:
        for f in rule.findings:
            if f.scenario is not None and f.at is not None:
                findings_at.setdefault(f.scenario, []).append(f.at)
    for index, scenario in enumerate(report.scenarios):
        scene = _Scene(scenario, tuple(sorted(findings_at.get(scenario.name, ()))))
        base = _slug(scenario.name)
        stem, n = base, 2
        while stem in used:
            stem, n = f"{base}-{n}", n + 1
        used.add(stem)
        for key, what, draw in _SCENARIO_PLOTS:
            title = f"{scenario.name}: {what}"
            jobs.append(_PlotJob(f"{stem}-{key}", title, index, draw, scene))
    if report.load is not None:
        for key, what, draw_load in (
            (
                "growth",
                "check cost against fleet size",
                _growth_fit if report.kind == "sweep" else _growth,
            ),
            ("results", "results per check", _load_results),
        ):
            jobs.append(_PlotJob(f"load-{key}", f"load: {what}", None, draw_load, report.load))
    return jobs


def warm_up() -> None:
    """Import matplotlib and draw one small figure, so that later plots start at once.

    About 0.7 s, once per process: the import, the font list, the Agg renderer and the
    parser of the tick labels' math text. ``bpcert load`` calls it on a core that no
    datacenter needs any more; :func:`render_plots` calls it before it forks.
    """
    global _warm
    if _warm:
        return
    with _figure() as (fig, (ax,)):
        ax.plot([0.001, 1.0], [0.0, 1.0], label="warm-up")
        ax.set_xscale("log")
        ax.set_title("warm-up")
        ax.legend()
        _png(fig)
    _warm = True


_warm = False

#: The jobs a forked renderer draws: set just before the fork, so that the children
#: inherit them instead of receiving a pickled copy of the report.
_forked_jobs: list[_PlotJob] = []


def _draw_forked(index: int) -> bytes | None:
    job = _forked_jobs[index]
    return job.draw(job.data)


def _fork_is_safe() -> bool:
    # Forking copies only the calling thread: another thread could hold a lock the
    # children need. macOS forbids fork after some system frameworks have loaded. A
    # daemonic process (a multiprocessing.Pool worker) may not have children.
    return (
        sys.platform.startswith("linux")
        and threading.active_count() == 1
        and not multiprocessing.current_process().daemon
        and "fork" in multiprocessing.get_all_start_methods()
    )


def _draw_all(jobs: Sequence[_PlotJob], workers: int) -> list[bytes | None]:
    """Each job's PNG (or None), in order: in ``workers`` forked processes when it pays."""
    if workers < 2 or len(jobs) < 2 or not _fork_is_safe():
        return [job.draw(job.data) for job in jobs]
    warm_up()  # once here, not once per child
    global _forked_jobs
    _forked_jobs = list(jobs)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
            return list(pool.map(_draw_forked, range(len(jobs))))
    except BrokenProcessPool:
        return [job.draw(job.data) for job in jobs]  # a child died: draw them here
    finally:
        _forked_jobs = []


def render_plots(report: RunReport, *, workers: int | None = None) -> list[Plot]:
    """Render every plot that has data, in a fixed order; names are unique file stems.

    The plots are drawn in ``workers`` processes at once (default: the CPU count),
    forked from this one when that is safe (Linux, a single thread), else one after
    the other here. Either way the bytes are the same.
    """
    jobs = _plot_jobs(report)
    count = workers if workers is not None else (os.cpu_count() or 1)
    pngs = _draw_all(jobs, count)
    return [
        Plot(job.name, job.title, png, job.scenario_index)
        for job, png in zip(jobs, pngs, strict=True)
        if png is not None
    ]


def write_plots(
    report: RunReport, plots_dir: Path, plots: Sequence[Plot] | None = None
) -> dict[str, Path]:
    """Write each plot to ``plots_dir/<name>.png``; return ``{name: path}``.

    ``plots`` may be passed when they were already rendered (for the HTML) so that they
    are not drawn twice.
    """
    rendered = render_plots(report) if plots is None else plots
    out: dict[str, Path] = {}
    for plot in rendered:
        out[plot.name] = atomic_write(plots_dir / plot.filename, plot.png)
    return out
