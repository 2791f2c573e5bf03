"""One result from the worlds of a load run: figures merged in datacenter order.

Counts add up, histograms merge, check durations concatenate (for an exact p95 when every
world kept them all), and peak memory adds up the processes resident at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance.load.job import LoadJob, LoadResult, exact_p95, peak_rss_mb
from reports.model import HistogramData, OperationStats, ScenarioSummary
from simulator.metrics import StreamingHistogram
from simulator.scenario import Scenario

__all__ = ["WorldRun", "merge_histograms", "merge_runs"]


@dataclass
class WorldRun:
    """What one world of a load run measured, with the raw figures a merge needs."""

    result: LoadResult
    check_durations: list[float] | None  # None when the metrics kept only some checks
    latency_s: dict[str, StreamingHistogram]
    wall_ms: dict[str, StreamingHistogram]
    outcomes: dict[str, dict[str, int]]


def _sum_counts(dicts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for d in dicts:
        for key, n in d.items():
            total[key] = total.get(key, 0) + n
    return total


def merge_runs(
    job: LoadJob,
    scenario: Scenario,
    runs: Sequence[WorldRun],
    *,
    wall_s: float,
    cpu_s: float,
    concurrency: int,
    run_dir: Path | None,
) -> LoadResult:
    """One result for a load run of several datacenters, merged in datacenter order."""
    results = [r.result for r in runs]
    parts = [r.summary for r in results]
    ops = sorted({op for r in runs for op in r.latency_s})
    operations = []
    for op in ops:
        outcomes = _sum_counts(r.outcomes.get(op, {}) for r in runs)
        operations.append(
            OperationStats(
                op=op,
                calls=sum(outcomes.values()),
                outcomes=outcomes,
                latency_s=HistogramData.from_histogram(
                    merge_histograms(r.latency_s[op] for r in runs if op in r.latency_s)
                ),
                wall_ms=HistogramData.from_histogram(
                    merge_histograms(r.wall_ms[op] for r in runs if op in r.wall_ms)
                ),
            )
        )
    freshness = merge_histograms(r.freshness_s for r in results)
    lock_wait = merge_histograms(r.lock_wait_s for r in results)
    check_duration = merge_histograms(r.check_duration_s for r in results)
    all_durations: list[float] | None = []
    for r in runs:
        if r.check_durations is None or all_durations is None:
            all_durations = None
        else:
            all_durations.extend(r.check_durations)
    traces = [p.trace_file for p in parts if p.trace_file]
    trace_file = ", ".join(traces) if traces else None
    summary = ScenarioSummary(
        name=scenario.name,
        seed=scenario.seed,
        duration_s=scenario.duration,
        vms=sum(p.vms for p in parts),
        check_delay_s=scenario.platform.check_delay,
        tasks=_sum_counts(p.tasks for p in parts),
        rejections=_sum_counts(p.rejections for p in parts),
        rollbacks=sum(p.rollbacks for p in parts),
        events=_sum_counts(p.events for p in parts),
        checks=sorted((c for p in parts for c in p.checks), key=lambda c: (c.start, c.end)),
        checks_total=sum(p.checks_total for p in parts),
        check_overruns=sum(p.check_overruns for p in parts),
        results_seen=sum(p.results_seen for p in parts),
        operations=operations,
        freshness_s=HistogramData.from_histogram(freshness),
        queue_depth=sorted(pt for p in parts for pt in p.queue_depth),
        lock_wait_s=sorted(pt for p in parts for pt in p.lock_wait_s),
        lock_wait_hist=HistogramData.from_histogram(lock_wait),
        outages=parts[0].outages,
        trace_file=trace_file,
        wall_seconds=wall_s,
        sim_events=sum(p.sim_events for p in parts),
        backups_taken=sum(p.backups_taken for p in parts),
    )
    peaks = sorted((r.peak_rss_mb for r in results), reverse=True)
    # At most `concurrency` worlds were resident at once, next to this process.
    peak = peak_rss_mb() + sum(peaks[: max(1, concurrency)]) if concurrency else peak_rss_mb()
    days = max(len(r.memory_by_day_mb) for r in results)
    memory = [
        max(r.memory_by_day_mb[d] for r in results if d < len(r.memory_by_day_mb))
        for d in range(days)
    ]
    return LoadResult(
        job=job,
        seed=scenario.seed,
        summary=summary,
        plugin=results[0].plugin,
        check_duration_s=check_duration,
        check_p95_s=exact_p95(all_durations)
        if all_durations is not None
        else (check_duration.quantile(0.95) if check_duration.count else None),
        check_max_s=check_duration.max,
        checks=sum(r.checks for r in results),
        checks_failed=sum(r.checks_failed for r in results),
        overruns=sum(r.overruns for r in results),
        results_per_check=merge_histograms(r.results_per_check for r in results),
        freshness_s=freshness,
        queue_wait_s=merge_histograms(r.queue_wait_s for r in results),
        lock_wait_s=lock_wait,
        wall_s=wall_s,
        cpu_s=cpu_s + (sum(r.cpu_s for r in results) if concurrency else 0.0),
        peak_rss_mb=peak,
        sim_events=sum(r.sim_events for r in results),
        backups_taken=sum(r.backups_taken for r in results),
        datacenters=len(results),
        memory_by_day_mb=memory,
        profile=results[0].profile,
        calls_per_check=merge_histograms(r.calls_per_check for r in results),
        stopped_at_s=min(
            (r.stopped_at_s for r in results if r.stopped_at_s is not None), default=None
        ),
        interrupted=next((r.interrupted for r in results if r.interrupted), None),
    )


def merge_histograms(hists: Iterable[StreamingHistogram]) -> StreamingHistogram:
    """One histogram holding every sample of ``hists``."""
    total = StreamingHistogram()
    for h in hists:
        total.merge(h)
    return total
