"""The platform's settings in a scenario, and the fake backup system's behind it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from simulator import contract
from simulator.scenario.durations import Duration
from simulator.scenario.errors import SpecProblems
from simulator.scenario.spec_base import MAX_COUNT, Bool, Float, Int, Spec

__all__ = [
    "MAX_START_DELAY_S",
    "MAX_THROUGHPUT_MB_PER_S",
    "MIN_THROUGHPUT_MB_PER_S",
    "BackupManagerSpec",
    "BackupSystemSpec",
    "PlatformSpec",
    "PropertiesSpec",
]

#: The slowest and fastest backup and restore speeds, in MB/s: even the largest fleet's
#: backup then finishes in a few thousand years, within the dates Python represents.
MIN_THROUGHPUT_MB_PER_S = 0.1
MAX_THROUGHPUT_MB_PER_S = 1e6
#: The longest start delay the fake backup system models (its own bound, 15 minutes).
MAX_START_DELAY_S = 900.0


class PropertiesSpec(Spec):
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
            raise SpecProblems(
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


class BackupManagerSpec(Spec):
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


class PlatformSpec(Spec):
    """Abiquo platform settings."""

    check_delay: Duration = Field(
        default=600.0,
        gt=0,
        description=(
            "abiquo.backup.check.delay: the fixed delay between the end of one periodic "
            "check and the start of the next."
        ),
    )
    open_sessions: Int = Field(
        default=2,
        ge=1,
        le=MAX_COUNT,
        description=(
            "abiquo.virtualfactory.backup.openSession: plugin operations running at once "
            "per backup manager (or per virtual datacenter, see session_scope)."
        ),
    )
    session_scope: Literal["backup-manager", "vdc"] = Field(
        default="backup-manager",
        description="What open_sessions counts per: the backup manager or each virtual datacenter.",
    )
    vdcs: Int = Field(
        default=1,
        ge=1,
        le=MAX_COUNT,
        description="Virtual datacenters of the fleet; VMs are assigned round-robin.",
    )
    lock_vm_during_backup: Bool = Field(
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
    vf_workers: Int = Field(
        default=32,
        ge=1,
        le=MAX_COUNT,
        description=(
            "Virtual Factory workers: tasks on different VMs that run at once (plugin calls "
            "are further limited by open_sessions)."
        ),
    )
    expiry_question: Literal["held-done", "past-expiration-date"] = Field(
        default="held-done",
        description=(
            "abiquo-4.0.4: which done results getExpiredResults is asked about: all those "
            "held (held-done, contract.md section 4) or only those past their own "
            "expiration date (past-expiration-date)."
        ),
    )
    expiry_rotation_checks: int = Field(
        default=36,
        ge=1,
        description=(
            "(modelled) with held-done, every done result held is asked about within this "
            "many checks, a share each check in rotation (1: all of them every check)."
        ),
    )
    per_id_steps: tuple[
        Literal["list-new-backups", "list-new-restores", "get-results", "expiry"], ...
    ] = Field(
        default=("list-new-backups", "list-new-restores", "get-results", "expiry"),
        min_length=1,
        description=(
            "abiquo-4.7 and abiquo-6.0 (modelled): the steps of the API's per-id check, in "
            "order; each at most once."
        ),
    )
    start_date_from: Literal["newest-listed", "newest-held"] = Field(
        default="newest-listed",
        description=(
            "abiquo-4.7 and abiquo-6.0 (modelled): listNewBackupResults' start is the creation "
            "date of the newest backup a listing returned, or of the newest one held."
        ),
    )
    unknown_asked_again: bool = Field(
        default=True,
        description=(
            "abiquo-4.7 and abiquo-6.0 (modelled): a null answer keeps the result UNKNOWN "
            "and it is asked about again (false: UNKNOWN is final, as in 4.0.4)."
        ),
    )
    step_failure: Literal["stop-step", "next-id"] = Field(
        default="stop-step",
        description=(
            "abiquo-4.7 and abiquo-6.0 (modelled): a failed call ends its step, or skips "
            "only its id; the check goes on with its next step either way."
        ),
    )
    policy_sync_delay: Duration = Field(
        default=86400.0,
        gt=0,
        description=(
            "abiquo-6.0: abiquo.backup.policy.sync.delay, the fixed delay between policy "
            "synchronisations."
        ),
    )
    policy_sync_deployed_only: bool = Field(
        default=True,
        description=(
            "abiquo-6.0 (modelled): only a deployed VM gains or loses a policy in a policy "
            "synchronisation."
        ),
    )
    properties: PropertiesSpec = Field(
        default=PropertiesSpec(), description="The plugin's properties file."
    )
    backup_manager: BackupManagerSpec = Field(
        default=BackupManagerSpec(), description="The backup manager's connection data."
    )


class BackupSystemSpec(Spec):
    """The fake backup system behind the reference endpoint."""

    throughput_mb_per_s: Float = Field(
        default=200.0,
        ge=MIN_THROUGHPUT_MB_PER_S,
        le=MAX_THROUGHPUT_MB_PER_S,
        description="Backup speed in MB/s; sets how long a backup takes.",
    )
    restore_throughput_mb_per_s: Float = Field(
        default=300.0,
        ge=MIN_THROUGHPUT_MB_PER_S,
        le=MAX_THROUGHPUT_MB_PER_S,
        description="Restore speed in MB/s.",
    )
    failure_probability: Float = Field(
        default=0.02, ge=0, le=1, description="Chance that a backup ends FAILED."
    )
    start_delay_max: Duration = Field(
        default=300.0,
        ge=0,
        description=(
            "A scheduled backup starts up to this long after its occurrence "
            "(must be < platform.tolerance, and below 15m)."
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
