"""The whole scenario: one simulated world, and the rules that span its parts.

A scenario names the fleet, the backup policies, the platform settings, the backup
system, the latency model, the workload, the faults, the seed and the duration. It is
validated by frozen pydantic models with ``extra="forbid"``: a typo in a key is an
error, never a silent default.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pydantic import (
    AwareDatetime,
    Field,
    field_validator,
    model_validator,
)

from simulator import contract
from simulator.clock import DEFAULT_START
from simulator.scenario.durations import Duration, format_duration
from simulator.scenario.errors import Loc, SpecProblems, brief, loc_sort_key
from simulator.scenario.fleet_spec import FleetSpec, PolicySpec
from simulator.scenario.latency_spec import LatencySpec
from simulator.scenario.platform_spec import MAX_START_DELAY_S, BackupSystemSpec, PlatformSpec
from simulator.scenario.spec_base import EARLIEST_YEAR, LATEST_YEAR, Int, Spec, suggest
from simulator.scenario.workload_spec import FaultsSpec, OutageSpec, WorkloadSpec

__all__ = ["Scenario"]

_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

_EARLIEST = datetime(EARLIEST_YEAR, 1, 1, tzinfo=UTC)
_LATEST = datetime(LATEST_YEAR, 1, 1, tzinfo=UTC)


class Scenario(Spec):
    """One simulated world: fleet, policies, platform, backup system, workload, faults."""

    name: str = Field(description="A kebab-case token naming the scenario, e.g. 'smoke'.")
    description: str = Field(default="", description="What the scenario is for.")
    seed: Int = Field(
        default=0,
        ge=-(2**63),
        lt=2**63,
        description="Seed of the world's random generator (a signed 64-bit integer).",
    )
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
        if len(name) > 100 or not _KEBAB.match(name):
            raise ValueError(
                f"name must be a kebab-case token (lower-case letters, digits, single "
                f"hyphens, at most 100 characters), e.g. 'my-scenario', got {brief(name)}"
            )
        return name

    @field_validator("start")
    @classmethod
    def _start_in_range(cls, start: datetime) -> datetime:
        if not _EARLIEST <= start < _LATEST:
            raise ValueError(
                f"start {start.isoformat()} is outside the years {EARLIEST_YEAR} .. "
                f"{LATEST_YEAR - 1} a scenario covers"
            )
        return start

    @model_validator(mode="after")
    def _cross_fields(self) -> Scenario:
        problems: list[tuple[Loc, str]] = []
        if self.start + timedelta(seconds=self.duration) > _LATEST:
            problems.append(
                (
                    ("duration",),
                    f"the scenario would end after {_LATEST.date().isoformat()}: start "
                    f"{self.start.isoformat()} plus {format_duration(self.duration)}",
                )
            )
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
            return f"unknown policy {code!r}; {suggest(code, list(codes))}known codes: {known}"

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
            if item.policy is not None and item.policy not in codes:
                problems.append(((*where, "policy"), unknown(item.policy)))
        delay = self.backup_system.start_delay_max
        if delay >= self.platform.tolerance:
            problems.append(
                (
                    ("backup_system", "start_delay_max"),
                    f"start_delay_max ({format_duration(delay)}) "
                    f"must be < platform.tolerance ({format_duration(self.platform.tolerance)}), "
                    "or every late start would count as a missed backup",
                )
            )
        elif delay >= MAX_START_DELAY_S:
            problems.append(
                (
                    ("backup_system", "start_delay_max"),
                    f"start_delay_max ({format_duration(delay)}) must be < "
                    f"{format_duration(MAX_START_DELAY_S)}, the longest start delay the fake "
                    "backup system models",
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
            problems.sort(key=lambda p: loc_sort_key(p[0]))
            raise SpecProblems(problems)
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
