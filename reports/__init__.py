"""bpcert reports: the report model and its writers (JSON, JUnit XML, HTML, Markdown).

This layer never runs a simulation: every writer is a function of a
:class:`~reports.model.RunReport`. matplotlib is imported only when a plot is drawn,
and rich only by :mod:`reports.terminal`.
"""

from reports.model import (
    SCHEMA_VERSION,
    CheckSample,
    Finding,
    GrowthPoint,
    HistogramData,
    LoadMetrics,
    OperationStats,
    PluginInfo,
    ReportError,
    RuleResult,
    RunReport,
    ScenarioSummary,
    Status,
    ToolInfo,
    Verdict,
    from_json,
    load_report,
    to_json,
)
from reports.render import render_run_dir, write_report
from reports.schema import WALL_TIME_FIELDS, report_json_schema, strip_wall_time

__all__ = [
    "SCHEMA_VERSION",
    "WALL_TIME_FIELDS",
    "CheckSample",
    "Finding",
    "GrowthPoint",
    "HistogramData",
    "LoadMetrics",
    "OperationStats",
    "PluginInfo",
    "ReportError",
    "RuleResult",
    "RunReport",
    "ScenarioSummary",
    "Status",
    "ToolInfo",
    "Verdict",
    "from_json",
    "load_report",
    "render_run_dir",
    "report_json_schema",
    "strip_wall_time",
    "to_json",
    "write_report",
]
