"""What users do in a scenario (random rates and a scripted timeline), and its faults."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import (
    Field,
    model_validator,
)

from simulator.scenario.durations import Duration
from simulator.scenario.errors import Loc, SpecProblems, brief
from simulator.scenario.fleet_spec import MAX_VMS
from simulator.scenario.spec_base import MAX_RATE_PER_DAY, Bool, Float, Int, Spec

__all__ = [
    "ACTIONS",
    "BACKEND_ACTIONS",
    "TIMELINE_ACTIONS",
    "Action",
    "BackendAction",
    "FaultsSpec",
    "OutageSpec",
    "RatesSpec",
    "TimelineAction",
    "TimelineEntry",
    "WorkloadSpec",
]

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

BackendAction = Literal["admin_add", "admin_remove", "lose_backup"]
#: What happens in the fake backup system behind the platform's back (timeline only, no
#: rates): an administrator adds a VM to a policy or removes it, or the system loses a
#: backup. Executed by :mod:`simulator.backend.out_of_band`.
BACKEND_ACTIONS: tuple[BackendAction, ...] = get_args(BackendAction)

TimelineAction = Literal[Action, BackendAction]
#: Every action a timeline entry may take: the users' (:data:`ACTIONS`), then the backup
#: system's (:data:`BACKEND_ACTIONS`).
TIMELINE_ACTIONS: tuple[TimelineAction, ...] = get_args(TimelineAction)


class RatesSpec(Spec):
    """Fleet-wide Poisson rates of workload actions, in events per simulated day."""

    deploy: Float = Field(
        default=0.0, ge=0, le=MAX_RATE_PER_DAY, description="Deploys of undeployed VMs per day."
    )
    reconfigure: Float = Field(
        default=0.0,
        ge=0,
        le=MAX_RATE_PER_DAY,
        description="Backup reconfigurations of deployed VMs per day.",
    )
    undeploy: Float = Field(
        default=0.0, ge=0, le=MAX_RATE_PER_DAY, description="Undeploys per day."
    )
    redeploy: Float = Field(
        default=0.0,
        ge=0,
        le=MAX_RATE_PER_DAY,
        description="Redeploys of VMs undeployed earlier, per day.",
    )
    backup_now: Float = Field(
        default=0.0, ge=0, le=MAX_RATE_PER_DAY, description="On-demand backups per day."
    )
    restore: Float = Field(default=0.0, ge=0, le=MAX_RATE_PER_DAY, description="Restores per day.")
    power_off: Float = Field(
        default=0.0, ge=0, le=MAX_RATE_PER_DAY, description="Power-offs per day."
    )
    power_on: Float = Field(
        default=0.0, ge=0, le=MAX_RATE_PER_DAY, description="Power-ons per day."
    )

    def per_day(self) -> dict[Action, float]:
        """Every action's rate, in :data:`ACTIONS` order."""
        return {action: float(getattr(self, action)) for action in ACTIONS}


class TimelineEntry(Spec):
    """One scripted action at a fixed offset from the start."""

    at: Duration = Field(description="When, as an offset from the scenario start.")
    action: TimelineAction = Field(description="What happens.")
    vm: Int = Field(ge=0, lt=MAX_VMS, description="The VM, by fleet index (0 .. fleet.vms - 1).")
    policies: tuple[str, ...] | None = Field(
        default=None,
        description=(
            "deploy and reconfigure: the policy codes the VM gets ([] = none); "
            "omitted = drawn from fleet.policy_mix."
        ),
    )
    replication: Bool = Field(default=False, description="backup_now: ask for replication.")
    repeat: Bool = Field(
        default=False,
        description=(
            "deploy, redeploy, reconfigure, undeploy: the platform repeats the schedule call "
            "with the same arguments, as it does after a timeout or a retried task."
        ),
    )
    backup: str = Field(
        default="latest",
        min_length=1,
        description=(
            "restore: 'latest' = the VM's newest DONE result the platform knows, "
            "'oldest' = its oldest DONE result not yet expired, "
            "'latest-any' = its newest result in any state, or a literal provider id."
        ),
    )
    policy: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "admin_add and admin_remove (required): the code of the policy an administrator "
            "adds the VM to, or removes it from, in the backup system directly."
        ),
    )
    in_progress: Bool = Field(
        default=False,
        description=(
            "lose_backup: lose the VM's newest backup still in progress, instead of its "
            "newest backup in any state."
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
                    (
                        ("policies",),
                        f"each policy may appear once, got {brief(list(self.policies))}",
                    )
                )
        if self.replication and self.action != "backup_now":
            problems.append(
                (("replication",), f"only backup_now takes replication, not {self.action}")
            )
        if self.repeat and self.action not in ("deploy", "reconfigure", "undeploy", "redeploy"):
            schedule_actions = "deploy, redeploy, reconfigure and undeploy"
            problems.append(
                (("repeat",), f"only {schedule_actions} take repeat, not {self.action}")
            )
        if self.backup != "latest" and self.action != "restore":
            problems.append((("backup",), f"only restore takes backup, not {self.action}"))
        if self.action in ("admin_add", "admin_remove"):
            if self.policy is None:
                problems.append(
                    (
                        ("policy",),
                        f"{self.action} needs the code of a policy, e.g. policy: GOLD",
                    )
                )
        elif self.policy is not None:
            problems.append(
                (("policy",), f"only admin_add and admin_remove take policy, not {self.action}")
            )
        if self.in_progress and self.action != "lose_backup":
            problems.append(
                (("in_progress",), f"only lose_backup takes in_progress, not {self.action}")
            )
        if problems:
            raise SpecProblems(problems)
        return self


class WorkloadSpec(Spec):
    """What users do: random actions at Poisson rates, plus a scripted timeline."""

    rates: RatesSpec = Field(
        default=RatesSpec(), description="Events per simulated day, fleet-wide, Poisson."
    )
    invalid_fraction: Float = Field(
        default=0.0,
        ge=0,
        le=1,
        description=(
            "Share of random backup_now/restore requests aimed to break an API "
            "precondition (BC-41, BC-22, BC-42, BC-43, BC-44)."
        ),
    )
    replication_fraction: Float = Field(
        default=0.0, ge=0, le=1, description="Share of random backup_now asking for replication."
    )
    timeline: tuple[TimelineEntry, ...] = Field(
        default=(), description="Scripted actions at fixed offsets."
    )


class OutageSpec(Spec):
    """A window in which the backup system is unreachable."""

    start: Duration = Field(description="When it begins, as an offset from the scenario start.")
    duration: Duration = Field(gt=0, description="How long it lasts.")

    @property
    def end(self) -> float:
        """When it ends, in seconds from the scenario start."""
        return self.start + self.duration


class FaultsSpec(Spec):
    """Faults injected into the world."""

    outages: tuple[OutageSpec, ...] = Field(
        default=(), description="Backup-system outage windows, not overlapping."
    )
