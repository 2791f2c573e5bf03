"""Turn a finished :class:`~simulator.world.World` into report data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reports.model import (
    CheckSample,
    HistogramData,
    OperationStats,
    PluginInfo,
    ScenarioSummary,
)
from simulator.bridge.loader import LoadedPlugin
from simulator.contract import ConnectionMetadata, Operation, PluginMetadata
from simulator.world import World

__all__ = ["plugin_info", "scenario_summary"]


def plugin_info(plugin: LoadedPlugin) -> PluginInfo:
    """The plugin's identity as the report shows it (tolerant of malformed metadata)."""
    cls = plugin.plugin_class
    meta = getattr(cls, "metadata", None)
    conn = getattr(cls, "connection_metadata", None)
    unsupported: frozenset[Any] = getattr(cls, "unsupported_operations", None) or frozenset()
    return PluginInfo(
        spec=plugin.spec,
        type=meta.type if isinstance(meta, PluginMetadata) else None,
        friendly_name=meta.friendly_name if isinstance(meta, PluginMetadata) else None,
        version=meta.version if isinstance(meta, PluginMetadata) else None,
        supported_versions=list(meta.supported_versions)
        if isinstance(meta, PluginMetadata)
        else [],
        connection_metadata=(
            {"endpoint": conn.endpoint.value, "credentials": conn.credentials.value}
            if isinstance(conn, ConnectionMetadata)
            else {}
        ),
        unsupported_operations=sorted(op.value for op in unsupported if isinstance(op, Operation)),
        isolation=plugin.isolation,
        shared_process=plugin.isolation == "in-process",
    )


def scenario_summary(
    world: World, trace_file: Path | None, run_dir: Path | None
) -> ScenarioSummary:
    """Everything the reports show about one scenario run."""
    m = world.metrics
    p = world.platform
    operations = [
        OperationStats(
            op=op,
            calls=sum(m.outcomes.get(op, {}).values()),
            outcomes=dict(m.outcomes.get(op, {})),
            latency_s=HistogramData.from_histogram(m.latency_s[op]),
            wall_ms=HistogramData.from_histogram(m.wall_ms[op]),
        )
        for op in sorted(m.latency_s)
    ]
    trace_name: str | None = None
    if trace_file is not None:
        try:
            trace_name = str(trace_file.relative_to(run_dir)) if run_dir else str(trace_file)
        except ValueError:
            trace_name = str(trace_file)
    tasks = dict(p.tasks_by_kind)
    for status, n in p.tasks_by_status.items():
        tasks[f"status:{status}"] = n
    return ScenarioSummary(
        name=world.scenario.name,
        seed=world.seed,
        duration_s=world.duration_s,
        vms=world.fleet.size,
        check_delay_s=world.settings.check_delay_s,
        tasks=tasks,
        rejections=dict(p.rejections),
        rollbacks=p.rollbacks,
        events=dict(p.events),
        checks=[
            CheckSample(
                start=c.start,
                end=c.end,
                duration=c.end - c.start,
                results=c.results,
                expired=c.expired,
                ok=c.ok,
            )
            for c in m.checks
        ],
        checks_total=p.checks,
        check_overruns=m.check_overruns,
        results_seen=p.results_seen,
        operations=operations,
        freshness_s=HistogramData.from_histogram(m.freshness_s),
        queue_depth=m.queue_depth.points(),
        lock_wait_s=m.lock_wait_series.points(),
        lock_wait_hist=HistogramData.from_histogram(m.lock_wait_s),
        outages=list(world.outages),
        trace_file=trace_name,
        wall_seconds=world.wall_seconds,
        sim_events=world.sim_events,
        backups_taken=world.backup_system.backups_taken,
    )
