"""Scenarios: the YAML file that describes one simulated world, and its strict model.

A scenario names the fleet, the backup policies, the platform settings, the backup
system, the latency model, the workload, the faults, the seed and the duration. It is
validated by frozen pydantic models with ``extra="forbid"``: a typo in a key is an
error, never a silent default.

Loading goes through :func:`load_scenario` (a path or a built-in name) or
:func:`load_scenario_text`. Every problem becomes a :class:`ScenarioError` that names
the file, the line and column, the dotted field path and what was expected, e.g.::

    scenarios/x.yaml:12:7: policies[0].configurations[1].time: time '25:00' does not
    match the DAILY format: expected 'HH:mm:ss Z', e.g. '23:30:00 +0000'

Durations are written as ``30s``, ``10m``, ``1.5h``, ``2d``, ``1w``, ``250ms``, combined
as ``1h30m``, or as a plain number of seconds (:func:`parse_duration`). In the model they
are floats of seconds.

:func:`dump_scenario` writes a scenario back as YAML that loads to an equal scenario;
the property-based suites use it to save a shrunk failure as a replayable file.

The built-in scenarios are the ``*.yaml`` files of the ``scenarios`` package
(:func:`builtin_scenarios`).
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.resources
import math
import os
import random
import re
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, Union, get_args, get_origin

import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from simulator import contract
from simulator.clock import DEFAULT_START

__all__ = [
    "ACTIONS",
    "LATENCY_OPERATIONS",
    "Action",
    "BackupManagerSpec",
    "BackupSystemSpec",
    "DistributionSpec",
    "Duration",
    "FaultsSpec",
    "FleetSpec",
    "LatencySpec",
    "OutageSpec",
    "PlatformSpec",
    "PolicyMixEntry",
    "PolicySpec",
    "PropertiesSpec",
    "RatesSpec",
    "Scenario",
    "ScenarioError",
    "ScenarioProblem",
    "TimelineEntry",
    "WorkloadSpec",
    "builtin_scenarios",
    "datacenter_seed",
    "dump_scenario",
    "format_duration",
    "load_scenario",
    "load_scenario_text",
    "parse_duration",
    "split_by_datacenter",
]

# ------------------------------------------------------------------------ durations

_UNITS: dict[str, Decimal] = {
    "w": Decimal(604800),
    "d": Decimal(86400),
    "h": Decimal(3600),
    "m": Decimal(60),
    "s": Decimal(1),
    "ms": Decimal("0.001"),
}
_UNIT_ORDER = ("w", "d", "h", "m", "s", "ms")
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PLAIN_SECONDS = re.compile(rf"^{_NUMBER}(?:[eE][+-]?\d+)?$")
_COMPONENT = re.compile(rf"\s*({_NUMBER})\s*(ms|w|d|h|m|s)")
_DURATION_HELP = (
    "expected a number of seconds or numbers with units ms, s, m, h, d, w, "
    "e.g. '30s', '10m', '1.5h', '2d', '250ms', '1h30m' or 600"
)


def parse_duration(text: str) -> float:
    """Parse a duration into float seconds.

    Accepts a plain number of seconds (``"600"``, ``"1.5"``) or one or more
    ``<number><unit>`` components with units ``w``, ``d``, ``h``, ``m``, ``s``, ``ms``,
    largest first, each at most once (``"1h30m"``, ``"1.5h"``, ``"2d 12h"``). Raises
    :class:`ValueError` naming the bad text and giving examples.
    """
    raw = text
    text = text.strip()
    if not text:
        raise ValueError(f"empty duration; {_DURATION_HELP}")
    if text.startswith("-"):
        raise ValueError(f"duration {raw!r} is negative; durations are >= 0. {_DURATION_HELP}")
    if _PLAIN_SECONDS.match(text):
        seconds = float(text)
        if not math.isfinite(seconds):
            raise ValueError(f"duration {raw!r} is not finite; {_DURATION_HELP}")
        return seconds
    total = Decimal(0)
    pos = 0
    last_rank = -1
    while pos < len(text):
        m = _COMPONENT.match(text, pos)
        if m is None:
            raise ValueError(f"invalid duration {raw!r}; {_DURATION_HELP}")
        number, unit = m.group(1), m.group(2)
        rank = _UNIT_ORDER.index(unit)
        if rank <= last_rank:
            raise ValueError(
                f"invalid duration {raw!r}: each unit may appear once, largest first "
                f"(w, d, h, m, s, ms), e.g. '1h30m'"
            )
        last_rank = rank
        try:
            total += Decimal(number) * _UNITS[unit]
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
            raise ValueError(f"invalid duration {raw!r}; {_DURATION_HELP}") from exc
        pos = m.end()
    return float(total)


def format_duration(seconds: float) -> str:
    """Write ``seconds`` in the duration syntax, e.g. ``5400.0 -> "1h30m"``.

    Whole weeks are written in days (``"14d"``). Values that the syntax cannot spell
    exactly come back as a plain number of seconds, so that
    ``parse_duration(format_duration(x)) == x`` always holds.
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a duration: expected a finite value >= 0")
    if seconds == 0:
        return "0s"
    millis = round(seconds * 1000)
    parts: list[str] = []
    rest = millis
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    if rest and not parts and rest < 1000:
        parts.append(f"{rest}ms")
    elif rest:
        parts.append(f"{(Decimal(rest) / 1000).normalize():f}s")
    pretty = "".join(parts)
    if pretty and parse_duration(pretty) == seconds:
        return pretty
    return repr(float(seconds))


def _to_seconds(value: object) -> object:
    """BeforeValidator of :data:`Duration`: a YAML number or duration string to seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got the boolean {value!r}; {_DURATION_HELP}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"duration {value!r} must be a finite number >= 0; {_DURATION_HELP}")
        return float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f"expected a duration, got {type(value).__name__} {value!r}; {_DURATION_HELP}")


def _duration_json(seconds: float) -> str | float:
    text = format_duration(seconds)
    return float(text) if _PLAIN_SECONDS.match(text) else text


#: A duration in float seconds; YAML may write it as ``10m``, ``1h30m``, ``600`` ...
Duration = Annotated[
    float,
    BeforeValidator(_to_seconds),
    PlainSerializer(_duration_json, return_type=Union[str, float], when_used="json"),  # noqa: UP007
]

# --------------------------------------------------------------------------- errors

Loc = tuple[str | int, ...]


class _Problems(ValueError):
    """A validator's problems, each with a location relative to the failing model.

    The loader appends ``loc`` to pydantic's location, so a cross-field check can point
    at the exact key (``workload.timeline[3].vm``) rather than at the whole model.
    """

    def __init__(self, problems: list[tuple[Loc, str]], *, at_key: bool = False) -> None:
        super().__init__(
            "; ".join(f"{_dotted(loc)}: {msg}" if loc else msg for loc, msg in problems)
        )
        self.problems = problems
        self.at_key = at_key


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


@dataclass(frozen=True)
class ScenarioProblem:
    """One problem of a scenario: where it is and what is wrong."""

    line: int | None
    column: int | None
    field: str
    message: str

    def render(self, source: str) -> str:
        """``source:line:column: field: message``, leaving out what is unknown."""
        where = source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ScenarioError(Exception):
    """A scenario that cannot be loaded: bad YAML, a bad key or value, an unknown name.

    ``source`` is the file path or the name asked for, ``line`` and ``column`` are
    1-based (``None`` when there is no position), ``field`` is the dotted path of the
    bad key (``policies[0].configurations[1].time``, empty when the problem is not
    about one key) and ``message`` says what was expected and what came. When a file
    has several problems, ``problems`` holds all of them in file order, the attributes
    describe the first, and ``str()`` gives one line per problem.
    """

    def __init__(
        self,
        source: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        field: str = "",
        problems: tuple[ScenarioProblem, ...] = (),
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.field = field
        self.message = message
        self.problems = problems or (ScenarioProblem(line, column, field, message),)
        super().__init__("\n".join(p.render(source) for p in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (self.source, self.problems))


def _rebuild_error(source: str, problems: tuple[ScenarioProblem, ...]) -> ScenarioError:
    first = problems[0]
    return ScenarioError(
        source,
        first.message,
        line=first.line,
        column=first.column,
        field=first.field,
        problems=problems,
    )


# --------------------------------------------------------------------------- models

_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

Action = Literal[
    "deploy",
    "reconfigure",
    "undeploy",
    "redeploy",
    "backup_now",
    "restore",
    "power_off",
    "power_on",
]
#: Every workload action, in the order rates and docs list them.
ACTIONS: tuple[Action, ...] = get_args(Action)

#: The operations a latency distribution can be given for (Java names).
LATENCY_OPERATIONS: tuple[str, ...] = (
    "validateConfiguration",
    *(op.value for op in contract.Operation),
)


class _Spec(BaseModel):
    """Base of the scenario models: frozen, strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


_DISTRIBUTION_PARAMS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "uniform": ("low", "high"),
    "exponential": ("mean",),
    "lognormal": ("median", "sigma"),
}


class DistributionSpec(_Spec):
    """A latency distribution of simulated seconds.

    Each kind takes its own parameters and no others: ``fixed`` takes ``value``,
    ``uniform`` takes ``low`` and ``high``, ``exponential`` takes ``mean``, ``lognormal``
    takes ``median`` and ``sigma``. A bare duration (``executeBackup: 2s``) is short for
    ``{kind: fixed, value: 2s}``.
    """

    kind: Literal["fixed", "uniform", "exponential", "lognormal"] = Field(
        description="The shape of the distribution."
    )
    value: Duration | None = Field(default=None, description="fixed: the one value.")
    low: Duration | None = Field(default=None, description="uniform: the smallest value.")
    high: Duration | None = Field(default=None, description="uniform: the largest value.")
    mean: Duration | None = Field(default=None, description="exponential: the mean (> 0).")
    median: Duration | None = Field(
        default=None, description="lognormal: the median, exp(mu) (> 0)."
    )
    sigma: float | None = Field(
        default=None, ge=0, description="lognormal: the standard deviation of log(value)."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str | int | float | timedelta) and not isinstance(data, bool):
            return {"kind": "fixed", "value": data}
        return data

    @model_validator(mode="after")
    def _params_fit_kind(self) -> DistributionSpec:
        params = _DISTRIBUTION_PARAMS[self.kind]
        problems: list[tuple[Loc, str]] = []
        for name in ("value", "low", "high", "mean", "median", "sigma"):
            given = getattr(self, name) is not None
            if name in params and not given:
                problems.append(
                    ((name,), f"kind {self.kind} needs {' and '.join(params)}; {name} is missing")
                )
            elif name not in params and given:
                problems.append(
                    (
                        (name,),
                        f"kind {self.kind} takes {' and '.join(params)}, not {name}; remove it",
                    )
                )
        if problems:
            raise _Problems(problems)
        if (
            self.kind == "uniform"
            and self.low is not None
            and self.high is not None
            and self.low > self.high
        ):
            raise _Problems([(("high",), f"high ({self.high}s) must be >= low ({self.low}s)")])
        if self.kind == "exponential" and not (self.mean or 0) > 0:
            raise _Problems([(("mean",), "mean must be > 0")])
        if self.kind == "lognormal" and not (self.median or 0) > 0:
            raise _Problems([(("median",), "median must be > 0")])
        return self

    def sample(self, rng: random.Random) -> float:
        """Draw one value in seconds from ``rng`` (the caller's seeded generator)."""
        if self.kind == "fixed":
            return float(self.value or 0.0)
        if self.kind == "uniform":
            low, high = float(self.low or 0.0), float(self.high or 0.0)
            return min(high, max(low, rng.uniform(low, high)))
        if self.kind == "exponential":
            return rng.expovariate(1.0 / float(self.mean or 1.0))
        return rng.lognormvariate(math.log(float(self.median or 1.0)), float(self.sigma or 0.0))


_ONE_SECOND = DistributionSpec(kind="fixed", value=1.0)


class LatencySpec(_Spec):
    """How long each plugin call takes in simulated time (held under the VM's lock)."""

    mode: Literal["fixed", "measured", "distribution"] = Field(
        default="fixed",
        description=(
            "fixed: every call takes `fixed`; measured: the call's wall time times "
            "`factor`; distribution: drawn per operation from `operations` or `default`."
        ),
    )
    fixed: Duration = Field(
        default=1.0, ge=0, description="fixed mode: the simulated duration of every call."
    )
    factor: float = Field(
        default=1.0, ge=0, description="measured mode: simulated = wall time x factor."
    )
    operations: dict[str, DistributionSpec] = Field(
        default={},
        description=(
            "distribution mode: a distribution per operation, keyed by Java name "
            "(validateConfiguration, applySchedule, ...)."
        ),
    )
    default: DistributionSpec = Field(
        default=_ONE_SECOND,
        description="distribution mode: the distribution of operations not in `operations`.",
    )

    @field_validator("operations")
    @classmethod
    def _known_operations(cls, ops: dict[str, DistributionSpec]) -> dict[str, DistributionSpec]:
        problems: list[tuple[Loc, str]] = []
        for name in ops:
            if name not in LATENCY_OPERATIONS:
                problems.append(
                    (
                        (name,),
                        f"unknown operation {name!r}; {_suggest(name, LATENCY_OPERATIONS)}"
                        f"known operations: {', '.join(LATENCY_OPERATIONS)}",
                    )
                )
        if problems:
            raise _Problems(problems, at_key=True)
        return ops

    def distribution_for(self, operation: str) -> DistributionSpec:
        """The distribution of ``operation`` (a Java name) in distribution mode."""
        return self.operations.get(operation, self.default)


class PropertiesSpec(_Spec):
    """The plugin's properties file (``abiquo.backup.<type>.config.path``)."""

    mode: Literal["default", "empty"] = Field(
        default="default",
        description=(
            "default: start from the plugin's complete example properties; "
            "empty: start from no properties at all."
        ),
    )
    set: dict[str, str] = Field(
        default={}, description="Properties to add or override, name to value."
    )
    unset: tuple[str, ...] = Field(default=(), description="Properties to remove.")

    @field_validator("set", mode="before")
    @classmethod
    def _scalars_to_strings(cls, value: Any) -> Any:
        # YAML reads `port: 8080` as an int and `ssl: true` as a bool; a properties
        # file holds text, so write them as Java would read them.
        if isinstance(value, dict):
            return {
                k: ("true" if v else "false")
                if isinstance(v, bool)
                else str(v)
                if isinstance(v, int)
                else v
                for k, v in value.items()
            }
        return value

    @model_validator(mode="after")
    def _set_unset_disjoint(self) -> PropertiesSpec:
        both = [name for name in self.unset if name in self.set]
        if both:
            raise _Problems(
                [(("unset",), f"{', '.join(both)} both set and unset; keep one of the two")]
            )
        return self

    def apply(self, defaults: Mapping[str, str]) -> dict[str, str]:
        """The properties a plugin gets, given its complete example ``defaults``."""
        props = dict(defaults) if self.mode == "default" else {}
        props.update(self.set)
        for name in self.unset:
            props.pop(name, None)
        return props


class BackupManagerSpec(_Spec):
    """The datacenter's backup manager: what the platform passes to ``connect``."""

    user: str | None = Field(default="admin", description="User name; null = none given.")
    password: str | None = Field(default="secret", description="Password; null = none given.")
    endpoint: Literal["auto"] | None = Field(
        default="auto",
        description=(
            "auto: the world's unique sim:// endpoint of the fake backup system; "
            "null: no endpoint given."
        ),
    )

    def connection_data(self, world_endpoint: str) -> contract.ConnectionData:
        """The :class:`~simulator.contract.ConnectionData` for a world's endpoint."""
        from pydantic import SecretStr

        return contract.ConnectionData(
            endpoint=world_endpoint if self.endpoint == "auto" else None,
            user=self.user,
            password=SecretStr(self.password) if self.password is not None else None,
        )


class PlatformSpec(_Spec):
    """Abiquo platform settings."""

    check_delay: Duration = Field(
        default=600.0,
        gt=0,
        description=(
            "abiquo.backup.check.delay: the fixed delay between the end of one periodic "
            "check and the start of the next."
        ),
    )
    open_sessions: int = Field(
        default=2,
        ge=1,
        description=(
            "abiquo.virtualfactory.backup.openSession: plugin operations running at once "
            "per backup manager (or per virtual datacenter, see session_scope)."
        ),
    )
    session_scope: Literal["backup-manager", "vdc"] = Field(
        default="backup-manager",
        description="What open_sessions counts per: the backup manager or each virtual datacenter.",
    )
    vdcs: int = Field(
        default=1,
        ge=1,
        description="Virtual datacenters of the fleet; VMs are assigned round-robin.",
    )
    lock_vm_during_backup: bool = Field(
        default=True,
        description="Keep the VM locked while the backup system backs it up (Abiquo 4.0 on).",
    )
    call_deadline: Duration = Field(
        default=300.0,
        gt=0,
        description="Per plugin call: past it the call's outcome is indeterminate.",
    )
    tolerance: Duration = Field(
        default=900.0,
        gt=0,
        description="How late a scheduled backup may start after its occurrence.",
    )
    hypervisor_job: Duration = Field(
        default=10.0,
        ge=0,
        description=(
            "How long each hypervisor job of a task takes (deploy, reconfigure, undeploy, "
            "power, and the rollback of each)."
        ),
    )
    vf_workers: int = Field(
        default=32,
        ge=1,
        description=(
            "Virtual Factory workers: tasks on different VMs that run at once (plugin calls "
            "are further limited by open_sessions)."
        ),
    )
    properties: PropertiesSpec = Field(
        default=PropertiesSpec(), description="The plugin's properties file."
    )
    backup_manager: BackupManagerSpec = Field(
        default=BackupManagerSpec(), description="The backup manager's connection data."
    )


class BackupSystemSpec(_Spec):
    """The fake backup system behind the reference endpoint."""

    throughput_mb_per_s: float = Field(
        default=200.0, gt=0, description="Backup speed in MB/s; sets how long a backup takes."
    )
    restore_throughput_mb_per_s: float = Field(
        default=300.0, gt=0, description="Restore speed in MB/s."
    )
    failure_probability: float = Field(
        default=0.02, ge=0, le=1, description="Chance that a backup ends FAILED."
    )
    start_delay_max: Duration = Field(
        default=300.0,
        ge=0,
        description=(
            "A scheduled backup starts up to this long after its occurrence "
            "(must be < platform.tolerance)."
        ),
    )
    min_backup_duration: Duration = Field(
        default=30.0, ge=0, description="The shortest time a backup takes."
    )
    on_demand_retention: Duration = Field(
        default=7 * 86400.0,
        gt=0,
        description="How long on-demand backups are kept (policies set their own retention).",
    )
    forget_expired_after: Duration | None = Field(
        default=None,
        gt=0,
        description=(
            "Purge a backup from the fake system's memory this long after it expired, so "
            "that a long run's memory stays bounded; a purged id is unknown to the system. "
            "Unset: keep every backup, so that the end-of-run audit can judge any id."
        ),
    )


class RatesSpec(_Spec):
    """Fleet-wide Poisson rates of workload actions, in events per simulated day."""

    deploy: float = Field(default=0.0, ge=0, description="Deploys of undeployed VMs per day.")
    reconfigure: float = Field(
        default=0.0, ge=0, description="Backup reconfigurations of deployed VMs per day."
    )
    undeploy: float = Field(default=0.0, ge=0, description="Undeploys per day.")
    redeploy: float = Field(
        default=0.0, ge=0, description="Redeploys of VMs undeployed earlier, per day."
    )
    backup_now: float = Field(default=0.0, ge=0, description="On-demand backups per day.")
    restore: float = Field(default=0.0, ge=0, description="Restores per day.")
    power_off: float = Field(default=0.0, ge=0, description="Power-offs per day.")
    power_on: float = Field(default=0.0, ge=0, description="Power-ons per day.")

    def per_day(self) -> dict[Action, float]:
        """Every action's rate, in :data:`ACTIONS` order."""
        return {action: float(getattr(self, action)) for action in ACTIONS}


class TimelineEntry(_Spec):
    """One scripted action at a fixed offset from the start."""

    at: Duration = Field(description="When, as an offset from the scenario start.")
    action: Action = Field(description="What happens.")
    vm: int = Field(ge=0, description="The VM, by fleet index (0 .. fleet.vms - 1).")
    policies: tuple[str, ...] | None = Field(
        default=None,
        description=(
            "deploy and reconfigure: the policy codes the VM gets ([] = none); "
            "omitted = drawn from fleet.policy_mix."
        ),
    )
    replication: bool = Field(default=False, description="backup_now: ask for replication.")
    backup: str = Field(
        default="latest",
        min_length=1,
        description=(
            "restore: 'latest' = the VM's newest DONE result the platform knows, "
            "'oldest' = its oldest DONE result not yet expired, "
            "'latest-any' = its newest result in any state, or a literal provider id."
        ),
    )

    @model_validator(mode="after")
    def _fields_fit_action(self) -> TimelineEntry:
        problems: list[tuple[Loc, str]] = []
        if self.policies is not None:
            if self.action not in ("deploy", "reconfigure"):
                problems.append(
                    (("policies",), f"only deploy and reconfigure take policies, not {self.action}")
                )
            if len(set(self.policies)) != len(self.policies):
                problems.append(
                    (("policies",), f"each policy may appear once, got {list(self.policies)}")
                )
        if self.replication and self.action != "backup_now":
            problems.append(
                (("replication",), f"only backup_now takes replication, not {self.action}")
            )
        if self.backup != "latest" and self.action != "restore":
            problems.append((("backup",), f"only restore takes backup, not {self.action}"))
        if problems:
            raise _Problems(problems)
        return self


class WorkloadSpec(_Spec):
    """What users do: random actions at Poisson rates, plus a scripted timeline."""

    rates: RatesSpec = Field(
        default=RatesSpec(), description="Events per simulated day, fleet-wide, Poisson."
    )
    invalid_fraction: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description=(
            "Share of random backup_now/restore requests aimed to break an API "
            "precondition (BC-41, BC-22, BC-42, BC-43, BC-44)."
        ),
    )
    replication_fraction: float = Field(
        default=0.0, ge=0, le=1, description="Share of random backup_now asking for replication."
    )
    timeline: tuple[TimelineEntry, ...] = Field(
        default=(), description="Scripted actions at fixed offsets."
    )


class OutageSpec(_Spec):
    """A window in which the backup system is unreachable."""

    start: Duration = Field(description="When it begins, as an offset from the scenario start.")
    duration: Duration = Field(gt=0, description="How long it lasts.")

    @property
    def end(self) -> float:
        """When it ends, in seconds from the scenario start."""
        return self.start + self.duration


class FaultsSpec(_Spec):
    """Faults injected into the world."""

    outages: tuple[OutageSpec, ...] = Field(
        default=(), description="Backup-system outage windows, not overlapping."
    )


class PolicyMixEntry(_Spec):
    """One weighted choice of policies for a deployed VM."""

    policies: tuple[str, ...] = Field(
        description="Policy codes a VM gets with this entry; [] = no backup configuration."
    )
    weight: float = Field(gt=0, description="Relative weight of this entry.")

    @field_validator("policies")
    @classmethod
    def _unique(cls, policies: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(policies)) != len(policies):
            raise ValueError(f"each policy may appear once in an entry, got {list(policies)}")
        return policies


class FleetSpec(_Spec):
    """The simulated VMs and hypervisors."""

    vms: int = Field(ge=1, description="How many VMs the fleet has.")
    datacenters: int = Field(
        default=1,
        ge=1,
        description="Datacenters the hypervisors are spread over (see backup_managers).",
    )
    backup_managers: Literal["one", "per-datacenter"] = Field(
        default="one",
        description=(
            "'one': one backup manager, Virtual Factory and periodic check serve every "
            "datacenter. 'per-datacenter': each datacenter has its own, as in Abiquo, so "
            "the datacenters share nothing and are simulated as worlds of their own "
            "(load runs only; see split_by_datacenter)."
        ),
    )
    hypervisors_per_datacenter: int = Field(
        default=4, ge=1, description="Hypervisors per datacenter."
    )
    disks_per_vm: tuple[int, int] = Field(
        default=(1, 3), description="[min, max] disks per VM, uniform."
    )
    disk_size_gb: tuple[float, float] = Field(
        default=(10.0, 200.0), description="[min, max] disk size in GB, uniform."
    )
    guest_write_interval: Duration = Field(
        default=3600.0, gt=0, description="How often, on average, a guest writes to its disks."
    )
    deployed_at_start: int | None = Field(
        default=None,
        ge=0,
        description=(
            "How many of the first VMs are deployed at t=0 through DEPLOY tasks; "
            "null = all. The rest start undeployed."
        ),
    )
    policy_mix: tuple[PolicyMixEntry, ...] = Field(
        default=(),
        description="Weighted policy choices for a deployed VM; empty = no VM has backups.",
    )

    @field_validator("disks_per_vm")
    @classmethod
    def _disk_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 1 <= value[0] <= value[1]:
            raise ValueError(f"expected [min, max] with 1 <= min <= max, got {list(value)}")
        return value

    @field_validator("disk_size_gb")
    @classmethod
    def _size_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1] or not math.isfinite(value[1]):
            raise ValueError(f"expected [min, max] with 0 < min <= max, got {list(value)}")
        return value

    @model_validator(mode="after")
    def _deployed_within_fleet(self) -> FleetSpec:
        if self.deployed_at_start is not None and self.deployed_at_start > self.vms:
            raise _Problems(
                [
                    (
                        ("deployed_at_start",),
                        f"deployed_at_start ({self.deployed_at_start}) must be <= vms ({self.vms})",
                    )
                ]
            )
        return self

    @property
    def manager_per_datacenter(self) -> bool:
        """Several datacenters, each with its own backup manager: a world apiece."""
        return self.backup_managers == "per-datacenter" and self.datacenters > 1

    @property
    def deployed_initially(self) -> int:
        """How many VMs (the first ones) are deployed at t=0."""
        return self.vms if self.deployed_at_start is None else self.deployed_at_start


class PolicySpec(_Spec):
    """A backup policy of the datacenters (see :class:`~simulator.contract.BackupPolicy`)."""

    code: str = Field(min_length=1, description="Unique code; vendors match it to their jobs.")
    name: str = Field(min_length=1, description="Human name.")
    description: str = Field(default="", description="Free text.")
    replication: bool = Field(default=False, description="The policy replicates its backups.")
    retention: Duration = Field(
        default=7 * 86400.0, gt=0, description="How long its backups live before they expire."
    )
    configurations: tuple[contract.BackupConfiguration, ...] = Field(
        default=(), description="What to copy and when (type, subtype, time, days, sources)."
    )

    @field_validator("configurations", mode="before")
    @classmethod
    def _hourly_numbers(cls, value: Any) -> Any:
        # `time: 6` is an int in YAML; Abiquo's time is a string.
        if isinstance(value, list | tuple):
            return [
                {**item, "time": str(item["time"])}
                if isinstance(item, dict)
                and isinstance(item.get("time"), int)
                and not isinstance(item.get("time"), bool)
                else item
                for item in value
            ]
        return value

    @field_validator("configurations")
    @classmethod
    def _type_subtype_unique(
        cls, configurations: tuple[contract.BackupConfiguration, ...]
    ) -> tuple[contract.BackupConfiguration, ...]:
        seen: dict[tuple[contract.BackupType, contract.Periodicity], int] = {}
        for i, c in enumerate(configurations):
            if c.key in seen:
                raise _Problems(
                    [
                        (
                            (i,),
                            f"the type/subtype pair {c.type.value}/{c.subtype.value} is "
                            f"already used by configurations[{seen[c.key]}]; it must be "
                            "unique within a policy",
                        )
                    ]
                )
            seen[c.key] = i
        return configurations

    def to_policy(self) -> contract.BackupPolicy:
        """The contract :class:`~simulator.contract.BackupPolicy` a plugin receives."""
        return contract.BackupPolicy(
            code=self.code,
            name=self.name,
            description=self.description,
            replication=self.replication,
            configurations=self.configurations,
        )


class Scenario(_Spec):
    """One simulated world: fleet, policies, platform, backup system, workload, faults."""

    name: str = Field(description="A kebab-case token naming the scenario, e.g. 'smoke'.")
    description: str = Field(default="", description="What the scenario is for.")
    seed: int = Field(default=0, description="Seed of the world's random generator.")
    start: AwareDatetime = Field(
        default=DEFAULT_START, description="The simulated start instant (timezone-aware)."
    )
    duration: Duration = Field(gt=0, description="How long the world runs, in simulated time.")
    fleet: FleetSpec = Field(description="The VMs and hypervisors.")
    policies: tuple[PolicySpec, ...] = Field(default=(), description="The backup policies.")
    platform: PlatformSpec = Field(default=PlatformSpec(), description="Abiquo settings.")
    backup_system: BackupSystemSpec = Field(
        default=BackupSystemSpec(), description="The fake backup system."
    )
    latency: LatencySpec = Field(default=LatencySpec(), description="Plugin call latency.")
    workload: WorkloadSpec = Field(default=WorkloadSpec(), description="What users do.")
    faults: FaultsSpec = Field(default=FaultsSpec(), description="Injected faults.")

    @field_validator("name")
    @classmethod
    def _kebab(cls, name: str) -> str:
        if not _KEBAB.match(name):
            raise ValueError(
                f"name must be a kebab-case token (lower-case letters, digits, single "
                f"hyphens), e.g. 'my-scenario', got {name!r}"
            )
        return name

    @model_validator(mode="after")
    def _cross_fields(self) -> Scenario:
        problems: list[tuple[Loc, str]] = []
        codes: dict[str, int] = {}
        for i, policy in enumerate(self.policies):
            if policy.code in codes:
                problems.append(
                    (
                        ("policies", i, "code"),
                        f"policy code {policy.code!r} is already used by policies"
                        f"[{codes[policy.code]}]; codes must be unique",
                    )
                )
            codes.setdefault(policy.code, i)
        known = ", ".join(codes) if codes else "none; add some under 'policies'"

        def unknown(code: str) -> str:
            return f"unknown policy {code!r}; {_suggest(code, list(codes))}known codes: {known}"

        for i, entry in enumerate(self.fleet.policy_mix):
            for j, code in enumerate(entry.policies):
                if code not in codes:
                    problems.append((("fleet", "policy_mix", i, "policies", j), unknown(code)))
        for i, item in enumerate(self.workload.timeline):
            where: Loc = ("workload", "timeline", i)
            if item.vm >= self.fleet.vms:
                problems.append(
                    (
                        (*where, "vm"),
                        f"vm {item.vm} is outside the fleet: fleet.vms is {self.fleet.vms}, "
                        f"so vm must be 0 .. {self.fleet.vms - 1}",
                    )
                )
            if item.at >= self.duration:
                problems.append(
                    (
                        (*where, "at"),
                        f"at ({format_duration(item.at)}) must be before the end of the "
                        f"scenario (duration {format_duration(self.duration)})",
                    )
                )
            for j, code in enumerate(item.policies or ()):
                if code not in codes:
                    problems.append(((*where, "policies", j), unknown(code)))
        if self.backup_system.start_delay_max >= self.platform.tolerance:
            problems.append(
                (
                    ("backup_system", "start_delay_max"),
                    f"start_delay_max ({format_duration(self.backup_system.start_delay_max)}) "
                    f"must be < platform.tolerance ({format_duration(self.platform.tolerance)}), "
                    "or every late start would count as a missed backup",
                )
            )
        previous: tuple[int, OutageSpec] | None = None
        for i, outage in sorted(enumerate(self.faults.outages), key=lambda x: x[1].start):
            if outage.end > self.duration:
                problems.append(
                    (
                        ("faults", "outages", i),
                        f"the outage {format_duration(outage.start)} .. "
                        f"{format_duration(outage.end)} ends after the scenario "
                        f"(duration {format_duration(self.duration)})",
                    )
                )
            if previous is not None and outage.start < previous[1].end:
                problems.append(
                    (
                        ("faults", "outages", i, "start"),
                        f"this outage overlaps faults.outages[{previous[0]}] "
                        f"({format_duration(previous[1].start)} .. "
                        f"{format_duration(previous[1].end)}); merge them",
                    )
                )
            previous = (i, outage)
        if problems:
            problems.sort(key=lambda p: _sort_key(p[0]))
            raise _Problems(problems)
        return self

    @property
    def end(self) -> datetime:
        """The simulated instant at which the world stops."""
        return self.start + timedelta(seconds=self.duration)

    def policy(self, code: str) -> PolicySpec:
        """The policy with ``code``; :class:`KeyError` naming the known codes if none."""
        for p in self.policies:
            if p.code == code:
                return p
        raise KeyError(f"no policy {code!r}; known codes: {[p.code for p in self.policies]}")

    def schedule(self, codes: tuple[str, ...] | list[str]) -> contract.BackupSchedule:
        """The :class:`~simulator.contract.BackupSchedule` of a VM with policies ``codes``."""
        return contract.BackupSchedule(policies=tuple(self.policy(c).to_policy() for c in codes))


def _sort_key(loc: Loc) -> tuple[tuple[int, str | int], ...]:
    return tuple((0, p) if isinstance(p, int) else (1, p) for p in loc)


# --------------------------------------------------------------------------- loader

_MODEL_ERROR_TYPES = frozenset({"model_type", "model_attributes_type", "dict_type"})


class _Loader(yaml.SafeLoader):
    """SafeLoader; composing first keeps every node's mark for error positions."""


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to ``X``."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin is Union or origin is types.UnionType:
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _descend(tp: Any, part: str | int) -> Any:
    """The type found under ``part`` of a value of type ``tp`` (None if unknown)."""
    tp = _unwrap(tp)
    origin = get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
        field = tp.model_fields.get(part)
        return field.annotation if field else None
    if origin is tuple and isinstance(part, int):
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
        return args[part] if part < len(args) else None
    if origin is dict and isinstance(part, str):
        return get_args(tp)[1]
    return None


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The scenario model class found at ``loc``, if a model is there."""
    tp: Any = Scenario
    for part in loc:
        tp = _descend(tp, part)
        if tp is None:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _locate(root: yaml.Node, loc: Loc, *, at_key: bool) -> yaml.Node:
    """The deepest node along ``loc``: the key node itself when ``at_key``."""
    node = root
    for i, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    if at_key and i == len(loc) - 1:
                        return key
                    node = value
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def _clean_loc(loc: Loc) -> Loc:
    # pydantic adds union and function tags such as 'function-before[...]'; they are
    # no key of the file.
    return tuple(p for p in loc if isinstance(p, int) or not ("[" in p or "(" in p))


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _problem_message(err: Mapping[str, Any], loc: Loc) -> tuple[Loc, str, bool]:
    """Turn one pydantic error into (loc, message, points-at-key)."""
    kind = err["type"]
    msg = str(err["msg"])
    value = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        model = _model_at(loc[:-1])
        allowed = list(model.model_fields) if model else []
        return (
            loc,
            f"unknown key {key!r}; {_suggest(key, allowed)}allowed keys: {', '.join(allowed)}",
            True,
        )
    if kind == "missing":
        return loc, f"required key {str(loc[-1])!r} is missing", False
    if kind in _MODEL_ERROR_TYPES:
        model = _model_at(loc)
        keys = f" with keys {', '.join(model.model_fields)}" if model else ""
        return loc, f"expected a mapping{keys}, got {value!r}", False
    if kind == "timezone_aware":
        return (
            loc,
            f"expected a timezone-aware instant such as 2026-01-05T00:00:00Z, got {value}",
            False,
        )
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        # A model-level rule of a contract model names its field first ("time '25:00'
        # does not match", "days: ..."): point at that key.
        model = _model_at(loc)
        if model is not None:
            head = re.split(r"[ :]", msg, maxsplit=1)[0]
            if head in model.model_fields:
                loc = (*loc, head)
                msg = msg.removeprefix(f"{head}: ")
        return loc, msg, False
    if _scalar(value):
        msg = f"{msg}, got {value!r}"
    return loc, msg, False


def _problems_from(exc: ValidationError, root: yaml.Node | None) -> list[ScenarioProblem]:
    raw: list[tuple[Loc, str, bool]] = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc(tuple(err["loc"]))
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, _Problems):
            raw.extend(((*loc, *sub), msg, cause.at_key) for sub, msg in cause.problems)
        else:
            raw.append(_problem_message(err, loc))
    out: list[ScenarioProblem] = []
    for loc, msg, at_key in raw:
        line = column = None
        if root is not None:
            node = _locate(root, loc, at_key=at_key)
            line, column = node.start_mark.line + 1, node.start_mark.column + 1
        out.append(ScenarioProblem(line, column, _dotted(loc), msg))
    return sorted(out, key=lambda p: (p.line if p.line is not None else 1 << 30, p.column or 0))


def _walk(node: yaml.Node, path: Loc, seen: set[int]) -> Iterator[tuple[yaml.MappingNode, Loc]]:
    """Every mapping node under ``node`` with its path, each node once (aliases)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        yield node, path
        for key, value in node.value:
            part = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            yield from _walk(value, (*path, part), seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, (*path, i), seen)


def _duplicate_keys(root: yaml.Node) -> list[ScenarioProblem]:
    """PyYAML keeps the last of duplicate keys silently; a scenario must not."""
    out: list[ScenarioProblem] = []
    for mapping, path in _walk(root, (), set()):
        first: dict[str, int] = {}
        for key, _ in mapping.value:
            if not isinstance(key, yaml.ScalarNode) or key.value == "<<":
                continue
            mark = key.start_mark
            if key.value in first:
                out.append(
                    ScenarioProblem(
                        mark.line + 1,
                        mark.column + 1,
                        _dotted((*path, str(key.value))),
                        f"duplicate key {key.value!r}; it was already given on line "
                        f"{first[key.value]}; keep one",
                    )
                )
            else:
                first[key.value] = mark.line + 1
    return out


def _raise(source: str, problems: list[ScenarioProblem]) -> NoReturn:
    first = problems[0]
    raise ScenarioError(
        source,
        first.message,
        line=first.line,
        column=first.column,
        field=first.field,
        problems=tuple(problems),
    )


def load_scenario_text(text: str, source: str = "<string>") -> Scenario:
    """Parse and validate a scenario from YAML ``text``.

    ``source`` names the text in error messages. Raises :class:`ScenarioError` for
    invalid YAML, a document that is not a mapping, duplicate keys and every
    validation problem (all of them, in file order).
    """
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise ScenarioError(
                source, "the scenario is empty; it needs at least name, duration and fleet"
            )
        duplicates = _duplicate_keys(root)
        if duplicates:
            _raise(source, duplicates)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = "; ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise ScenarioError(
            source,
            f"invalid YAML: {detail}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, f"invalid YAML: {exc}") from None
    except ValueError as exc:  # e.g. a timestamp like 2026-13-45
        raise ScenarioError(source, f"invalid YAML value: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ScenarioError(
            source,
            f"a scenario is a mapping of keys (name, duration, fleet, ...), got "
            f"{type(data).__name__} {data!r:.60}",
            line=root.start_mark.line + 1,
            column=root.start_mark.column + 1,
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        _raise(source, _problems_from(exc, root))


def builtin_scenarios() -> dict[str, Path]:
    """The built-in scenarios, name to file, sorted by name.

    They are the ``*.yaml`` files of the ``scenarios`` package, found through
    :mod:`importlib.resources` so that an installed wheel finds them too.
    """
    found: dict[str, Path] = {}
    for entry in importlib.resources.files("scenarios").iterdir():
        if entry.is_file() and entry.name.endswith(".yaml"):
            found[entry.name.removesuffix(".yaml")] = Path(str(entry))
    return dict(sorted(found.items()))


def _is_path(ref: str | Path) -> bool:
    if isinstance(ref, Path):
        return True
    return ref.endswith((".yaml", ".yml")) or "/" in ref or os.sep in ref


def load_scenario(ref: str | Path) -> Scenario:
    """Load a scenario from a ``.yaml``/``.yml`` path or a built-in name (``"smoke"``).

    Raises :class:`ScenarioError` when the file is missing or unreadable, the name is no
    built-in (the message lists them and suggests close matches), or the scenario is
    invalid.
    """
    builtins = builtin_scenarios()
    names = list(builtins)
    listing = f"built-in scenarios: {', '.join(names)}"
    if _is_path(ref):
        path = Path(ref)
        if not path.is_file():
            what = "is a directory, not a file" if path.is_dir() else "does not exist"
            close = difflib.get_close_matches(path.stem, names, n=1, cutoff=0.6)
            hint = (
                f"did you mean the built-in {close[0]!r} (named without .yaml)? " if close else ""
            )
            raise ScenarioError(str(path), f"scenario file {what}; {hint}{listing}")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(str(path), f"cannot read the scenario file: {exc}") from None
        return load_scenario_text(text, str(path))
    name = str(ref)
    if name not in builtins:
        raise ScenarioError(
            name,
            f"unknown scenario {name!r}; {_suggest(name, names)}{listing}; "
            "to load a file, give its path ending in .yaml",
        )
    path = builtins[name]
    return load_scenario_text(path.read_text(encoding="utf-8"), str(path))


def dump_scenario(scenario: Scenario, *, comment: str | None = None) -> str:
    """YAML for ``scenario`` that :func:`load_scenario_text` loads back to an equal one.

    Keys left at their defaults are omitted; durations are written in the duration
    syntax. ``comment`` (any number of lines) goes on top as ``#`` lines, e.g. how to
    replay a shrunk failure.
    """
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    if comment:
        header = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
        return header + body
    return body


# ------------------------------------------------------------------ datacenters


def _round_robin_share(count: int, parts: int, k: int) -> int:
    """How many of ``range(count)`` fall to part ``k`` when dealt round-robin."""
    return count // parts + (1 if k < count % parts else 0)


def datacenter_seed(seed: int, datacenter: int) -> int:
    """The seed of datacenter ``datacenter``'s world: fixed by the scenario's seed."""
    digest = hashlib.sha256(f"bpcert-datacenter:{seed}:{datacenter}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def split_by_datacenter(scenario: Scenario) -> list[Scenario]:
    """One scenario per datacenter, for ``backup_managers: per-datacenter``.

    With a backup manager per datacenter, the datacenters share nothing but the API,
    so each is a world of its own. VMs are dealt to datacenters round-robin by index
    (VM ``i`` is VM ``i // D`` of datacenter ``i % D``), which keeps "the first
    ``deployed_at_start`` VMs are deployed" and moves timeline entries with their VM.
    Workload rates and virtual datacenters are shared out in proportion; policies,
    platform settings, latency and faults (a backup-system outage hits every backup
    manager) are the same in each. Datacenter ``k`` is named ``NAME-dcK`` (from 1) and
    seeded by :func:`datacenter_seed`. A scenario with one backup manager, or one
    datacenter, is returned alone and unchanged.
    """
    fleet = scenario.fleet
    parts = fleet.datacenters
    if not fleet.manager_per_datacenter:
        return [scenario]
    if fleet.vms < parts:
        raise ValueError(
            f"{fleet.vms} VMs cannot fill {parts} datacenters with a backup manager each"
        )
    deployed = fleet.deployed_initially
    vdcs = scenario.platform.vdcs
    out: list[Scenario] = []
    for k in range(parts):
        vms = _round_robin_share(fleet.vms, parts, k)
        share = vms / fleet.vms
        timeline = tuple(
            item.model_copy(update={"vm": item.vm // parts})
            for item in scenario.workload.timeline
            if item.vm % parts == k
        )
        rates = scenario.workload.rates.model_copy(
            update={
                name: value * share for name, value in scenario.workload.rates.model_dump().items()
            }
        )
        out.append(
            scenario.model_copy(
                update={
                    "name": f"{scenario.name}-dc{k + 1}",
                    "seed": datacenter_seed(scenario.seed, k),
                    "fleet": fleet.model_copy(
                        update={
                            "vms": vms,
                            "datacenters": 1,
                            "backup_managers": "one",
                            "deployed_at_start": _round_robin_share(deployed, parts, k),
                        }
                    ),
                    "platform": scenario.platform.model_copy(
                        update={"vdcs": max(1, _round_robin_share(vdcs, parts, k))}
                    ),
                    "workload": scenario.workload.model_copy(
                        update={"rates": rates, "timeline": timeline}
                    ),
                }
            )
        )
    return out
