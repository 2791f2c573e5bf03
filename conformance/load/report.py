"""The reports of a load run (kind ``load``) and of a sweep (kind ``sweep``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from conformance.exit_codes import ExitCode
from conformance.fits_interval import fits_interval_result
from conformance.load.job import LoadJob, LoadResult
from conformance.load.merge import merge_histograms
from conformance.load.sweep import GROWTH_LIMIT, growth_by_delay, wall_growth_by_delay
from conformance.load.template import DAY_S, LoadError
from reports.model import (
    GrowthPoint,
    HistogramData,
    LoadMetrics,
    PluginInfo,
    RunReport,
    Verdict,
)
from simulator.metrics import StreamingHistogram
from simulator.scenario import format_duration

__all__ = ["format_seconds", "load_run_report", "sweep_run_report"]


def _q(h: StreamingHistogram, q: float) -> float | None:
    return h.quantile(q) if h.count else None


def _count_q(h: StreamingHistogram, q: float) -> str:
    return "n/a" if not h.count else f"{h.quantile(q):.0f}"


def _run_id(kind: str, plugin: PluginInfo, suffix: str) -> str:
    who = plugin.type or plugin.spec
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in f"{kind}-{who}-{suffix}")


def format_seconds(value: float | None) -> str:
    """A duration as a reader takes it in: ``n/a``, milliseconds below a second, or seconds."""
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value * 1000:.3g} ms"
    return f"{value:.3g} s"


def _calls_per_check(calls: StreamingHistogram) -> str:
    """Mean, p95 and max of the plugin calls per check, or that no check ran."""
    if calls.mean is None or calls.max is None:
        return "no check ran"
    return f"mean {calls.mean:.1f}, p95 {calls.quantile(0.95):.0f}, max {calls.max:.0f}"


def _load_notes(r: LoadResult) -> list[str]:
    ops = ", ".join(
        f"{op.op} p95 {format_seconds(op.latency_s.p95)} (n={op.calls})"
        for op in r.summary.operations
    )
    notes: list[str] = []
    if r.failed_datacenters:
        total = r.datacenters + len(r.failed_datacenters)
        notes += [
            f"datacenter {k + 1} of {total} FAILED on the cluster: {error}"
            for k, error in sorted(r.failed_datacenters.items())
        ]
        notes.append(f"the figures below are the other {r.datacenters} datacenters' only")
    if r.not_run_datacenters:
        total = r.datacenters + len(r.not_run_datacenters)
        names = ", ".join(str(k + 1) for k in r.not_run_datacenters)
        notes.append(
            f"datacenters not run ({r.interrupted or 'interrupted'} first): {names} of "
            f"{total}; the figures below are the other {r.datacenters} datacenters' only"
        )
    if r.datacenters > 1:
        notes.append(
            f"datacenters: {r.datacenters}, each with its own backup manager, Virtual Factory "
            "and periodic check, simulated as worlds of their own; the figures below are "
            "over all of them, and peak memory adds up the processes resident at once"
        )
    notes += [
        f"checks: {r.checks}, {r.overruns} over the {r.job.check_delay_s:g} s interval, "
        f"{r.checks_failed} failed; duration p50 {format_seconds(_q(r.check_duration_s, 0.5))}, "
        f"p95 {format_seconds(r.check_p95_s)}, max {format_seconds(r.check_max_s)}",
        f"plugin calls per check ({r.profile}): {_calls_per_check(r.calls_per_check)}",
        f"Virtual Factory: queue wait p95 {format_seconds(_q(r.queue_wait_s, 0.95))}, "
        f"max {format_seconds(r.queue_wait_s.max)}; "
        f"lock wait p95 {format_seconds(_q(r.lock_wait_s, 0.95))}",
        f"plugin call latency (simulated): {ops or 'no calls'}",
        f"speed: {r.wall_s:.1f} s wall, {r.cpu_s:.1f} s CPU, {r.sim_events} SimPy events for "
        f"{r.backups_taken} backups",
        f"latency mode: {r.job.latency}"
        + (
            f" (x{r.job.latency_factor:g}; durations follow wall time, so this run is not "
            "byte-reproducible)"
            if r.job.latency == "measured"
            else " (reproducible)"
        ),
    ]
    return notes


def _exit_code(
    failed: bool, flagged: bool, stopped: bool = False, interrupted: bool = False
) -> ExitCode:
    """An interrupt (130) first, as in a check; then a part that could not run is the
    harness's error (3), before any finding (1), before a run that ``--max-wall``
    stopped (2)."""
    if interrupted:
        return ExitCode.INTERRUPTED
    if failed:
        return ExitCode.HARNESS_ERROR
    if flagged:
        return ExitCode.FINDINGS
    return ExitCode.INCOMPLETE if stopped else ExitCode.OK


def _verdict(failed: bool, stopped: bool, interrupted: bool = False) -> Verdict:
    if interrupted:
        return "interrupted"
    if failed:
        return "error"
    return "incomplete" if stopped else "completed"


def _what_stopped(max_wall_s: float | None, interrupted: str | None) -> str:
    """``--max-wall 3 s reached``, or the interrupt (``interrupted by SIGTERM``)."""
    if interrupted:
        return interrupted
    return "--max-wall reached" if max_wall_s is None else f"--max-wall {max_wall_s:g} s reached"


def _stopped_note(r: LoadResult, max_wall_s: float | None) -> str:
    """What ``--max-wall`` left of a load job: how far its simulation got."""
    total = r.job.days * DAY_S
    at = r.stopped_at_s or 0.0
    what = _what_stopped(max_wall_s, r.interrupted)
    return (
        f"stopped: {what} after {format_duration(round(at))} of "
        f"{format_duration(round(total))} simulated ({at / total:.0%}); the figures are those "
        "of the part that ran"
    )


def load_run_report(
    result: LoadResult, *, started: datetime, wall_s: float, max_wall_s: float | None = None
) -> RunReport:
    """The report of one load run (kind ``load``); flagged when a check overran.

    A run that ``--max-wall`` (``max_wall_s``) stopped is ``incomplete`` (exit code 2
    unless a check overran), and its notes say how far it got.
    """
    job = result.job
    flagged = result.overruns > 0
    stopped = result.stopped_at_s is not None
    reason = (
        f"{result.overruns} of {result.checks} checks took longer than the "
        f"{job.check_delay_s:g} s check interval"
        if flagged
        else None
    )
    metrics = LoadMetrics(
        vms=job.vms,
        days=job.days,
        check_delay_s=job.check_delay_s,
        overruns=result.overruns,
        results_per_check=HistogramData.from_histogram(result.results_per_check),
        calls_per_check=HistogramData.from_histogram(result.calls_per_check),
        freshness_p50_s=_q(result.freshness_s, 0.50),
        freshness_p95_s=_q(result.freshness_s, 0.95),
        freshness_p99_s=_q(result.freshness_s, 0.99),
        peak_memory_mb=result.peak_rss_mb,
        vm_days_per_wall_s=result.vm_days_per_wall_s,
        events_per_backup=result.events_per_backup,
        datacenters=result.datacenters,
        memory_by_day_mb=result.memory_by_day_mb,
        flagged=flagged,
        flag_reason=reason,
    )
    return RunReport(
        kind="load",
        run_id=_run_id("load", result.plugin, f"{job.vms}vms-seed{result.seed}"),
        created_at=started.isoformat(timespec="seconds"),
        wall_seconds=wall_s,
        plugin=result.plugin,
        profile=result.profile,
        seed=result.seed,
        replay=job.replay(),
        verdict=_verdict(bool(result.failed_datacenters), stopped, bool(result.interrupted)),
        exit_code=int(
            _exit_code(bool(result.failed_datacenters), flagged, stopped, bool(result.interrupted))
        ),
        rules=[
            fits_interval_result(
                result.summary,
                checks=result.checks,
                overruns=result.overruns,
                check_delay_s=job.check_delay_s,
                replay=job.replay(),
            )
        ],
        scenarios=[result.summary],
        load=metrics,
        notes=([_stopped_note(result, max_wall_s)] if stopped else []) + _load_notes(result),
    )


def sweep_run_report(
    results: Sequence[LoadResult],
    *,
    started: datetime,
    wall_s: float,
    replay: str,
    limit: float = GROWTH_LIMIT,
    failed: Sequence[tuple[LoadJob, str]] = (),
    not_run: Sequence[LoadJob] = (),
    max_wall_s: float | None = None,
    interrupted: str | None = None,
) -> RunReport:
    """The report of a sweep (kind ``sweep``): growth, its exponent, and the flag.

    ``failed`` are the jobs whose task failed on a cluster, with the worker's error: the
    notes name them, the fit leaves them out, and the verdict is ``error`` (exit code 3).

    ``--max-wall`` (``max_wall_s``) leaves jobs it stopped part-way (``stopped_at_s``)
    and jobs it kept from starting (``not_run``): the notes name both, the fits use only
    the jobs that ran to their end, and the verdict is ``incomplete`` (exit code 2 unless
    something was flagged). A signal (``interrupted``, or a job's own) does the same,
    with the verdict ``interrupted`` (exit code 130).

    ``load.growth`` holds the points of the check delay with the steepest growth (the
    one that decides the flag); the notes give every delay's exponent and every job.
    """
    if not results:
        raise LoadError("a sweep report needs at least one job result")
    stopped = [r for r in results if r.stopped_at_s is not None]
    whole = [r for r in results if r.stopped_at_s is None]
    signal = interrupted or next((r.interrupted for r in results if r.interrupted), None)
    # A stopped job's checks are those of its first hours: no point of a growth curve.
    exponents = growth_by_delay(whole) or {
        d: None for d in sorted({r.job.check_delay_s for r in results})
    }
    fitted = {d: k for d, k in exponents.items() if k is not None}
    worst = max(fitted, key=lambda d: (fitted[d], -d)) if fitted else min(exponents)
    exponent = fitted.get(worst)
    overruns = sum(r.overruns for r in results)
    reasons = []
    steep = sorted(d for d, k in fitted.items() if k > limit)
    if steep:
        reasons.append(
            "check cost grows worse than linearly with the fleet: exponent "
            + ", ".join(f"{fitted[d]:.2f} at a {d:g} s delay" for d in steep)
            + f" (limit {limit:g})"
        )
    if overruns:
        reasons.append(f"{overruns} checks took longer than their check interval")
    total_wall = sum(r.wall_s for r in results)
    total_backups = sum(r.backups_taken for r in results)
    freshness = merge_histograms(r.freshness_s for r in results)
    job0 = results[0].job
    metrics = LoadMetrics(
        vms=max(r.job.vms for r in results),
        days=job0.days,
        check_delay_s=worst,
        overruns=overruns,
        results_per_check=HistogramData.from_histogram(
            merge_histograms(r.results_per_check for r in results)
        ),
        freshness_p50_s=_q(freshness, 0.50),
        freshness_p95_s=_q(freshness, 0.95),
        freshness_p99_s=_q(freshness, 0.99),
        peak_memory_mb=max(r.peak_rss_mb for r in results),
        vm_days_per_wall_s=sum(r.vm_days for r in results) / total_wall if total_wall else None,
        events_per_backup=sum(r.sim_events for r in results) / total_backups
        if total_backups
        else None,
        growth=[
            GrowthPoint(vms=r.job.vms, check_cost_s=r.check_cost_s)
            for r in whole
            if r.job.check_delay_s == worst and r.check_cost_s is not None
        ],
        growth_exponent=exponent,
        flagged=bool(reasons),
        flag_reason="; ".join(reasons) or None,
    )
    notes = []
    if stopped or not_run:
        what = _what_stopped(max_wall_s, signal)
        notes.append(
            f"stopped: {what}; {len(stopped)} job(s) stopped part-way and "
            f"{len(not_run)} not run; the growth fits use the {len(whole)} job(s) that ran "
            "to their end"
        )
        notes += [
            f"job vms={r.job.vms} delay={r.job.check_delay_s:g}s seed={r.seed}: "
            + _stopped_note(r, max_wall_s)
            for r in stopped
        ]
        notes += [
            f"job vms={job.vms} delay={job.check_delay_s:g}s seed={job.seed}: not run"
            for job in not_run
        ]
    notes += [
        f"job vms={job.vms} delay={job.check_delay_s:g}s seed={job.seed} FAILED on the "
        f"cluster: {error}"
        for job, error in failed
    ]
    notes += [
        f"growth exponent at a {d:g} s check delay: "
        + ("not fitted (needs two fleet sizes with checks)" if k is None else f"{k:.3f}")
        for d, k in exponents.items()
    ]
    notes += [
        f"growth exponent of wall time at a {d:g} s check delay: "
        + ("not fitted (needs two fleet sizes)" if k is None else f"{k:.3f}")
        for d, k in wall_growth_by_delay(whole).items()
    ]
    notes.append(
        f"check cost = p95 of a job's check durations; latency mode {job0.latency}; "
        f"{len(results)} jobs, {total_wall:.1f} s of job wall time"
    )
    notes.extend(
        f"job vms={r.job.vms} delay={r.job.check_delay_s:g}s seed={r.seed}: check p95 "
        f"{format_seconds(r.check_p95_s)}, max {format_seconds(r.check_max_s)}, "
        f"{r.overruns} overruns, "
        f"results/check p95 {_count_q(r.results_per_check, 0.95)}, "
        f"{r.backups_taken} backups, {r.wall_s:.1f} s wall, peak {r.peak_rss_mb:.0f} MB"
        for r in results
    )
    plugin = results[0].plugin
    sizes = sorted({r.job.vms for r in results})
    return RunReport(
        kind="sweep",
        run_id=_run_id("sweep", plugin, f"{sizes[0]}-{sizes[-1]}vms"),
        created_at=started.isoformat(timespec="seconds"),
        wall_seconds=wall_s,
        plugin=plugin,
        profile=results[0].profile,
        seed=results[0].seed,
        replay=replay,
        verdict=_verdict(bool(failed), bool(stopped or not_run), bool(signal)),
        exit_code=int(
            _exit_code(bool(failed), bool(reasons), bool(stopped or not_run), bool(signal))
        ),
        load=metrics,
        notes=notes,
    )
