"""The report model: everything one bpcert run produced, as versioned pydantic v2 data.

A :class:`RunReport` is built by ``conformance`` at the end of a run and handed to the
writers in this package (JSON, JUnit XML, HTML with plots, Markdown, terminal). The
writers are pure functions of it; none of them runs a simulation.

``report.json`` is the model serialised by :func:`to_json`, and is the one source from
which ``bpcert report RUN_DIR`` re-renders everything else (see :func:`load_report`).

**Wall-time fields.** A few fields measure the machine, not the simulation (how long the
run took, when it ran, how much memory it used). They are marked in the model with
``json_schema_extra={"x-wall-time": True}`` and listed in
:data:`reports.schema.WALL_TIME_FIELDS`; every other field is a function of the
scenario, the plugin and the seed, so two runs with the same inputs give reports that are
equal once :func:`reports.schema.strip_wall_time` has removed those fields.

**Compatibility.** :data:`SCHEMA_VERSION` is ``MAJOR.MINOR``. A reader accepts a report
of the same major version; a new major version means a field changed meaning or went
away.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simulator.metrics import StreamingHistogram

__all__ = [
    "FLOAT_DECIMALS",
    "IN_PROCESS_NOTE",
    "NOT_EXERCISED",
    "SCHEMA_VERSION",
    "Cause",
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
    "to_json",
    "to_jsonable",
]

#: The version of the ``report.json`` format this code writes, ``MAJOR.MINOR``.
SCHEMA_VERSION = "1.4"

#: What the reports add about a plugin that shared bpcert's interpreter.
IN_PROCESS_NOTE = (
    "in-process: the plugin ran inside bpcert's own interpreter, where it can reach the "
    "judge's state; this verdict is for development (certify with --isolation process)"
)

#: How the reason of a rule starts when no run exercised it and no declaration says why
#: (``not exercised: ...``): never a pass, and a ``check`` with one is ``incomplete``.
NOT_EXERCISED = "not exercised"

#: Floats in ``report.json`` are rounded to this many decimals, so that tiny
#: floating-point noise never makes two equal runs differ byte for byte.
FLOAT_DECIMALS = 6

#: The outcome of one rule.
Status = Literal["pass", "fail", "skip", "error"]

#: The outcome of the run as a whole.
Verdict = Literal["conformant", "non-conformant", "incomplete", "interrupted", "completed", "error"]

# How a field is marked as measuring the machine rather than the simulation.
_WALL: dict[str, Any] = {"x-wall-time": True}


class ReportError(Exception):
    """A report could not be read or written: the message names the file and the problem."""


class _Model(BaseModel):
    # Strict: a typo in a hand-edited report.json is an error, not a silent default.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)


def _sorted_counts(value: Mapping[str, int]) -> dict[str, int]:
    # Counter dicts reach every writer; sorting them makes the output independent of the
    # order in which the producer happened to first see each key.
    return {k: value[k] for k in sorted(value)}


class Finding(_Model):
    """One piece of evidence that a rule was broken."""

    rule_id: str = Field(description="The id of the rule this finding belongs to.")
    message: str = Field(description="What went wrong, in one sentence.")
    expected: str | None = Field(default=None, description="What the contract required.")
    actual: str | None = Field(default=None, description="What the plugin did instead.")
    at: float | None = Field(
        default=None, description="Simulated seconds since the scenario start."
    )
    scenario: str | None = Field(default=None, description="The scenario it happened in.")
    evidence: list[dict[str, Any]] = Field(
        default_factory=list, description="Call records from the trace (JSON-able)."
    )
    replay: str | None = Field(
        default=None, description="A command that replays just this finding, if any."
    )
    cause: str | None = Field(
        default=None,
        description="What the plugin does wrong, when the harness could tell it from the "
        "backup system's record (e.g. dates an hour off); findings of several rules with "
        "the same cause are grouped in the report's causes.",
    )


class Cause(_Model):
    """One cause behind the findings of several rules: fix it first, the rest may follow."""

    cause: str = Field(description="What the plugin does wrong, as a sentence.")
    findings_total: int = Field(ge=0, description="Its findings, over every rule.")
    findings_by_rule: dict[str, int] = Field(
        description="Rule id -> how many of that rule's findings it explains, in rule order."
    )
    first: Finding = Field(description="Its first finding in the run: read this one first.")

    def headline(self) -> str:
        """``4,824 findings of 7 rules: <cause>``, for a title line."""
        return (
            f"{self.findings_total:,} findings of {len(self.findings_by_rule)} rules: {self.cause}"
        )

    def rules_text(self) -> str:
        """``rule-a 1,144, rule-b 228, ...``: how many findings of each rule it explains."""
        return ", ".join(f"{rule_id} {n:,}" for rule_id, n in self.findings_by_rule.items())

    def where(self) -> str:
        """Where its first finding is: ``schedules.x, scenario smoke at 1800 s``."""
        first = self.first
        place = f"scenario {first.scenario}" if first.scenario else "the run"
        when = f" at {first.at:.0f} s" if first.at is not None else ""
        return f"{first.rule_id}, {place}{when}"


class RuleResult(_Model):
    """The verdict on one conformance rule."""

    id: str = Field(description="Stable kebab-case rule id, e.g. 'polling.no-lost-results'.")
    statement: str = Field(description="The rule as a spec sentence.")
    category: str = Field(description="The capability the rule belongs to.")
    status: Status
    reason: str | None = Field(
        default=None, description="Why the rule was skipped, or the error text."
    )
    findings: list[Finding] = Field(
        default_factory=list, description="The first findings (capped by the producer)."
    )
    findings_total: int = Field(default=0, ge=0, description="All findings, before the cap.")
    advisory: bool = Field(
        default=False,
        description="An advisory rule: judged and reported, but its failure never decides the "
        "verdict.",
    )

    @property
    def not_exercised(self) -> bool:
        """True for a rule no run exercised, with no declaration saying why (its reason
        starts with ``not exercised:``): a skip that is never a pass."""
        return self.status == "skip" and (self.reason or "").startswith(f"{NOT_EXERCISED}:")


class HistogramData(_Model):
    """A histogram summary; ``buckets`` are the non-empty ``(upper_edge, count)``."""

    count: int = Field(default=0, ge=0)
    sum: float = 0.0
    min: float | None = None
    max: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    buckets: list[tuple[float, int]] = Field(default_factory=list)

    @classmethod
    def from_histogram(cls, histogram: StreamingHistogram) -> HistogramData:
        """Summarise a :class:`~simulator.metrics.StreamingHistogram`."""
        if histogram.count == 0:
            return cls()
        return cls(
            count=histogram.count,
            sum=histogram.sum,
            min=histogram.min,
            max=histogram.max,
            p50=histogram.quantile(0.50),
            p95=histogram.quantile(0.95),
            p99=histogram.quantile(0.99),
            buckets=histogram.buckets(),
        )

    @property
    def mean(self) -> float | None:
        """The mean, or None when empty."""
        return self.sum / self.count if self.count else None


class OperationStats(_Model):
    """Calls to one contract operation during one scenario."""

    op: str = Field(description="The operation's Java (wire) name, e.g. 'listResults'.")
    calls: int = Field(default=0, ge=0)
    outcomes: dict[str, int] = Field(
        default_factory=dict,
        description="Calls by outcome: ok, error, foreign-error, bad-return, indeterminate.",
    )
    latency_s: HistogramData = Field(
        default_factory=HistogramData, description="Simulated latency, seconds."
    )
    wall_ms: HistogramData = Field(
        default_factory=HistogramData,
        description="Wall time spent in the plugin, milliseconds.",
        json_schema_extra=_WALL,
    )

    @field_validator("outcomes")
    @classmethod
    def _sort_outcomes(cls, value: dict[str, int]) -> dict[str, int]:
        return _sorted_counts(value)


class CheckSample(_Model):
    """One poll of the backup system (a check), in simulated seconds."""

    start: float
    end: float
    duration: float = Field(ge=0)
    results: int = Field(default=0, ge=0)
    expired: int = Field(default=0, ge=0)
    ok: bool = True


class ScenarioSummary(_Model):
    """What happened in one scenario of the run."""

    name: str
    seed: int
    duration_s: float = Field(ge=0, description="Simulated duration, seconds.")
    vms: int = Field(default=0, ge=0)
    check_delay_s: float = Field(default=0.0, ge=0, description="The check interval.")
    tasks: dict[str, int] = Field(default_factory=dict, description="Platform tasks by kind.")
    rejections: dict[str, int] = Field(
        default_factory=dict, description="Rejected requests by BC error code."
    )
    rollbacks: int = Field(default=0, ge=0)
    events: dict[str, int] = Field(default_factory=dict, description="Platform events by kind.")
    checks: list[CheckSample] = Field(
        default_factory=list, description="A downsampled sample of the checks."
    )
    checks_total: int = Field(default=0, ge=0)
    check_overruns: int = Field(default=0, ge=0, description="Checks longer than the interval.")
    results_seen: int = Field(default=0, ge=0)
    operations: list[OperationStats] = Field(default_factory=list)
    freshness_s: HistogramData = Field(
        default_factory=HistogramData,
        description="Simulated seconds from a backup finishing to the platform seeing it.",
    )
    queue_depth: list[tuple[float, float]] = Field(
        default_factory=list, description="Virtual Factory queue depth over simulated time."
    )
    lock_wait_s: list[tuple[float, float]] = Field(
        default_factory=list, description="(t, wait): lock waits over simulated time."
    )
    lock_wait_hist: HistogramData = Field(default_factory=HistogramData)
    outages: list[tuple[float, float]] = Field(
        default_factory=list, description="(start, end) of backup-system outages."
    )
    trace_file: str | None = Field(default=None, description="The trace, relative to the run.")
    wall_seconds: float = Field(default=0.0, ge=0, json_schema_extra=_WALL)
    sim_events: int = Field(default=0, ge=0, description="SimPy events processed.")
    backups_taken: int = Field(default=0, ge=0)

    @field_validator("tasks", "rejections", "events")
    @classmethod
    def _sort_counts(cls, value: dict[str, int]) -> dict[str, int]:
        return _sorted_counts(value)


class PluginInfo(_Model):
    """The plugin under test, as it described itself."""

    spec: str = Field(description="How the plugin was named: entry point or module:Class.")
    type: str | None = None
    friendly_name: str | None = None
    version: str | None = None
    supported_versions: list[str] = Field(default_factory=list)
    connection_metadata: dict[str, str] = Field(default_factory=dict)
    unsupported_operations: list[str] = Field(default_factory=list)
    isolation: str = "in-process"
    shared_process: bool = Field(
        default=False,
        description=(
            "True when the plugin ran inside bpcert's own interpreter (in-process): it could "
            "reach the judge's state, so the verdict is for development; --isolation process "
            "gives one to rely on."
        ),
    )

    @field_validator("connection_metadata")
    @classmethod
    def _sort_metadata(cls, value: dict[str, str]) -> dict[str, str]:
        return {k: value[k] for k in sorted(value)}


class GrowthPoint(_Model):
    """The cost of one check at one fleet size."""

    vms: int = Field(ge=0)
    check_cost_s: float = Field(ge=0)


class LoadMetrics(_Model):
    """What a load run measured: does polling keep up as the fleet grows?"""

    vms: int = Field(ge=0)
    days: float = Field(ge=0, description="Simulated days.")
    check_delay_s: float = Field(ge=0)
    overruns: int = Field(default=0, ge=0)
    results_per_check: HistogramData = Field(default_factory=HistogramData)
    calls_per_check: HistogramData = Field(
        default_factory=HistogramData,
        description=(
            "Plugin calls per results check: its cost under the run's contract profile "
            "(abiquo-4.0.4: listResults, and getExpiredResults when a result is due; from "
            "abiquo-4.7: two listings and one call per result asked about or due to expire)."
        ),
    )
    freshness_p50_s: float | None = None
    freshness_p95_s: float | None = None
    freshness_p99_s: float | None = None
    peak_memory_mb: float | None = Field(default=None, json_schema_extra=_WALL)
    vm_days_per_wall_s: float | None = Field(default=None, json_schema_extra=_WALL)
    events_per_backup: float | None = None
    datacenters: int = Field(
        default=1,
        ge=1,
        description="Worlds simulated: one per datacenter with a backup manager of its own.",
    )
    memory_by_day_mb: list[float] = Field(
        default_factory=list,
        json_schema_extra=_WALL,
        description=(
            "Resident memory at the end of each simulated day, MB (with several "
            "datacenters, of the largest of their processes)."
        ),
    )
    growth: list[GrowthPoint] = Field(default_factory=list)
    growth_exponent: float | None = Field(
        default=None, description="Fitted exponent of check cost against fleet size."
    )
    flagged: bool = False
    flag_reason: str | None = None


def _tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bpcert")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


class ToolInfo(_Model):
    """The tool that wrote the report."""

    name: Literal["bpcert"] = "bpcert"
    version: str = Field(default_factory=_tool_version)


class RunReport(_Model):
    """The result of one bpcert run: the root of ``report.json``."""

    schema_version: str = SCHEMA_VERSION
    tool: ToolInfo = Field(default_factory=ToolInfo)
    kind: Literal["run", "check", "load", "sweep"]
    run_id: str
    created_at: str = Field(description="When the run started, ISO 8601.", json_schema_extra=_WALL)
    wall_seconds: float = Field(default=0.0, ge=0, json_schema_extra=_WALL)
    plugin: PluginInfo
    profile: str = Field(
        default="abiquo-4.0.4",
        description="The contract profile the run drove the plugin as: abiquo-4.0.4, "
        "abiquo-4.7 or abiquo-6.0 (simulator.profiles).",
    )
    seed: int
    replay: str = Field(description="The command that replays this run.")
    verdict: Verdict
    exit_code: int
    rules: list[RuleResult] = Field(default_factory=list)
    causes: list[Cause] = Field(
        default_factory=list,
        description="Causes shared by the findings of several failed rules, most findings "
        "first: one bug (a time-zone offset) can fail many rules.",
    )
    scenarios: list[ScenarioSummary] = Field(default_factory=list)
    load: LoadMetrics | None = None
    notes: list[str] = Field(default_factory=list)

    @field_validator("schema_version")
    @classmethod
    def _same_major(cls, value: str) -> str:
        ours = SCHEMA_VERSION.split(".")[0]
        if value.split(".")[0] != ours:
            raise ValueError(
                f"schema_version {value!r} is not supported: this bpcert reads {ours}.x "
                f"reports; re-run the scenario with this bpcert to get a {SCHEMA_VERSION} report"
            )
        return value

    def counts(self) -> dict[str, int]:
        """How many rules ended in each status, always with all four keys."""
        out = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
        for rule in self.rules:
            out[rule.status] += 1
        return out

    def rules_with(self, *statuses: Status) -> list[RuleResult]:
        """The rules whose status is one of ``statuses``, in report order."""
        return [r for r in self.rules if r.status in statuses]

    def categories(self) -> list[str]:
        """The rule categories, in order of first appearance."""
        return list(dict.fromkeys(r.category for r in self.rules))


# ---------------------------------------------------------------------- JSON


def _round_floats(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a report cannot hold {value!r}: JSON has no such number")
        r = round(value, FLOAT_DECIMALS)
        return 0.0 if r == 0 else r  # no "-0.0"
    if isinstance(value, dict):
        return {k: _round_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round_floats(v) for v in value]
    return value


def to_jsonable(report: RunReport) -> dict[str, Any]:
    """The report as plain JSON data, floats rounded to :data:`FLOAT_DECIMALS` decimals."""
    data = _round_floats(report.model_dump(mode="json"))
    assert isinstance(data, dict)
    return data


_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


def to_json(report: RunReport) -> str:
    """Serialise deterministically: model field order, indent 2, rounded floats, final newline.

    The same report always gives the same bytes (UTF-8, non-ASCII kept as is). orjson
    writes it, about twenty times faster than the json module's indenting encoder (a
    load report of thirty days is some 4 MB); what orjson refuses (a lone surrogate in
    a plugin's message, an integer beyond 64 bits) is written by the json module, with
    the same layout.
    """
    data = to_jsonable(report)
    try:
        return orjson.dumps(data, option=_JSON_OPTIONS).decode()
    except TypeError:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _describe_validation(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors()[:10]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        lines.append(f"  - {loc}: {err['msg']}")
    more = exc.error_count() - 10
    if more > 0:
        lines.append(f"  - ... and {more} more")
    return "\n".join(lines)


def from_json(text: str | bytes, *, source: str = "report.json") -> RunReport:
    """Parse and validate a report; raise :class:`ReportError` naming ``source`` on failure."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(
            f"{source}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "expected the report.json a bpcert run writes"
        ) from exc
    if not isinstance(data, dict):
        raise ReportError(f"{source}: expected a JSON object at the top, got {type(data).__name__}")
    try:
        return RunReport.model_validate(data)
    except ValidationError as exc:
        raise ReportError(
            f"{source}: not a valid bpcert report (schema {SCHEMA_VERSION}):\n"
            f"{_describe_validation(exc)}"
        ) from exc


def load_report(path: Path) -> RunReport:
    """Read ``path`` (a ``report.json``); raise :class:`ReportError` if missing or invalid."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ReportError(
            f"{path}: not found; expected the report.json that `bpcert run --out DIR` "
            "writes into its run directory"
        ) from exc
    except IsADirectoryError as exc:
        raise ReportError(f"{path}: is a directory, expected a report.json file") from exc
    except OSError as exc:
        raise ReportError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    return from_json(raw, source=str(path))
