"""The fleet of a scenario (VMs, hypervisors, datacenters) and its backup policies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from simulator import contract
from simulator.scenario.durations import Duration
from simulator.scenario.errors import SpecProblems, brief
from simulator.scenario.spec_base import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    MAX_COUNT,
    Bool,
    Float,
    Int,
    Spec,
)

__all__ = [
    "MAX_DISKS_PER_VM",
    "MAX_DISK_GB",
    "MAX_HYPERVISORS",
    "MAX_VMS",
    "FleetSpec",
    "PolicyMixEntry",
    "PolicySpec",
]

#: The most VMs a fleet has.
MAX_VMS = 10_000_000
#: The most hypervisors of a fleet, over every datacenter.
MAX_HYPERVISORS = 100_000
#: The most disks of one VM.
MAX_DISKS_PER_VM = 64
#: The largest disk, in GB (a petabyte).
MAX_DISK_GB = 1e6


class PolicyMixEntry(Spec):
    """One weighted choice of policies for a deployed VM."""

    policies: tuple[str, ...] = Field(
        description="Policy codes a VM gets with this entry; [] = no backup configuration."
    )
    weight: Float = Field(gt=0, le=1e9, description="Relative weight of this entry.")

    @field_validator("policies")
    @classmethod
    def _unique(cls, policies: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(policies)) != len(policies):
            raise ValueError(
                f"each policy may appear once in an entry, got {brief(list(policies))}"
            )
        return policies


class FleetSpec(Spec):
    """The simulated VMs and hypervisors."""

    vms: Int = Field(ge=1, le=MAX_VMS, description="How many VMs the fleet has.")
    datacenters: Int = Field(
        default=1,
        ge=1,
        le=1_000,
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
    hypervisors_per_datacenter: Int = Field(
        default=4, ge=1, le=MAX_COUNT, description="Hypervisors per datacenter."
    )
    disks_per_vm: tuple[Int, Int] = Field(
        default=(1, 3), description="[min, max] disks per VM, uniform."
    )
    disk_size_gb: tuple[Float, Float] = Field(
        default=(10.0, 200.0), description="[min, max] disk size in GB, uniform."
    )
    guest_write_interval: Duration = Field(
        default=3600.0, gt=0, description="How often, on average, a guest writes to its disks."
    )
    deployed_at_start: Int | None = Field(
        default=None,
        ge=0,
        le=MAX_VMS,
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
        if not 1 <= value[0] <= value[1] <= MAX_DISKS_PER_VM:
            raise ValueError(
                f"expected [min, max] with 1 <= min <= max <= {MAX_DISKS_PER_VM}, got {list(value)}"
            )
        return value

    @field_validator("disk_size_gb")
    @classmethod
    def _size_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1] <= MAX_DISK_GB:
            raise ValueError(
                f"expected [min, max] with 0 < min <= max <= {MAX_DISK_GB:g}, got {list(value)}"
            )
        return value

    @model_validator(mode="after")
    def _deployed_within_fleet(self) -> FleetSpec:
        hosts = self.datacenters * self.hypervisors_per_datacenter
        if hosts > MAX_HYPERVISORS:
            raise SpecProblems(
                [
                    (
                        ("hypervisors_per_datacenter",),
                        f"datacenters x hypervisors_per_datacenter is {hosts:,}; a fleet has "
                        f"at most {MAX_HYPERVISORS:,} hypervisors",
                    )
                ]
            )
        if self.deployed_at_start is not None and self.deployed_at_start > self.vms:
            raise SpecProblems(
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


class PolicySpec(Spec):
    """A backup policy of the datacenters (see :class:`~simulator.contract.BackupPolicy`)."""

    code: str = Field(min_length=1, description="Unique code; vendors match it to their jobs.")
    name: str = Field(min_length=1, description="Human name.")
    description: str = Field(default="", description="Free text.")
    replication: Bool = Field(default=False, description="The policy replicates its backups.")
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
                raise SpecProblems(
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
            if c.subtype is contract.Periodicity.DEFINED_HOUR and c.time is not None:
                year = int(c.time.split("/", 1)[0])
                if not EARLIEST_YEAR <= year < LATEST_YEAR:
                    raise SpecProblems(
                        [
                            (
                                (i, "time"),
                                f"the DEFINED_HOUR instant {c.time!r} is outside the years "
                                f"{EARLIEST_YEAR} .. {LATEST_YEAR - 1} a scenario covers",
                            )
                        ]
                    )
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
