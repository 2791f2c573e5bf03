"""How long plugin calls take in simulated time: latency modes and distributions."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from simulator import contract
from simulator.scenario.durations import Duration
from simulator.scenario.errors import Loc, SpecProblems
from simulator.scenario.spec_base import MAX_DURATION_S, Float, Spec, suggest

__all__ = ["LATENCY_OPERATIONS", "DistributionSpec", "LatencySpec"]

#: The operations a latency distribution can be given for (Java names).
LATENCY_OPERATIONS: tuple[str, ...] = (
    "validateConfiguration",
    *(op.value for op in contract.Operation),
)


_DISTRIBUTION_PARAMS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "uniform": ("low", "high"),
    "exponential": ("mean",),
    "lognormal": ("median", "sigma"),
}


class DistributionSpec(Spec):
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
    sigma: Float | None = Field(
        default=None, ge=0, le=10, description="lognormal: the standard deviation of log(value)."
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
            raise SpecProblems(problems)
        if (
            self.kind == "uniform"
            and self.low is not None
            and self.high is not None
            and self.low > self.high
        ):
            raise SpecProblems([(("high",), f"high ({self.high}s) must be >= low ({self.low}s)")])
        if self.kind == "exponential" and not (self.mean or 0) > 0:
            raise SpecProblems([(("mean",), "mean must be > 0")])
        if self.kind == "lognormal" and not (self.median or 0) > 0:
            raise SpecProblems([(("median",), "median must be > 0")])
        return self

    def sample(self, rng: random.Random) -> float:
        """Draw one value in seconds from ``rng`` (the caller's seeded generator)."""
        if self.kind == "fixed":
            return float(self.value or 0.0)
        if self.kind == "uniform":
            low, high = float(self.low or 0.0), float(self.high or 0.0)
            return min(high, max(low, rng.uniform(low, high)))
        if self.kind == "exponential":
            return min(rng.expovariate(1.0 / float(self.mean or 1.0)), MAX_DURATION_S)
        drawn = rng.lognormvariate(math.log(float(self.median or 1.0)), float(self.sigma or 0.0))
        # A tail draw past the longest duration would put the clock beyond year 9999.
        return min(drawn, MAX_DURATION_S)


_ONE_SECOND = DistributionSpec(kind="fixed", value=1.0)


class LatencySpec(Spec):
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
    factor: Float = Field(
        default=1.0, ge=0, le=1e6, description="measured mode: simulated = wall time x factor."
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
                        f"unknown operation {name!r}; {suggest(name, LATENCY_OPERATIONS)}"
                        f"known operations: {', '.join(LATENCY_OPERATIONS)}",
                    )
                )
        if problems:
            raise SpecProblems(problems, at_key=True)
        return ops

    def distribution_for(self, operation: str) -> DistributionSpec:
        """The distribution of ``operation`` (a Java name) in distribution mode."""
        return self.operations.get(operation, self.default)
