"""How the fake backup system behaves: speeds, failures, retention, start delays."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from simulator.backend.schedule import DEFAULT_TOLERANCE

__all__ = ["BackupSystemSettings"]


class BackupSystemSettings(BaseModel):
    """How the fake backup system behaves. Every field has a realistic default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    throughput_bytes_per_s: float = Field(200e6, gt=0, description="Backup speed.")
    restore_throughput_bytes_per_s: float = Field(300e6, gt=0, description="Restore speed.")
    failure_probability: float = Field(
        0.02, ge=0, le=1, description="Chance that a backup, or a restore, ends FAILED."
    )
    default_retention_s: float = Field(
        7 * 86400, gt=0, description="Retention of on-demand backups and of unlisted policies."
    )
    retention_by_policy: Mapping[str, float] = Field(
        default_factory=dict, description="Retention in seconds by policy code."
    )
    start_delay_max_s: float = Field(
        300.0,
        ge=0,
        lt=DEFAULT_TOLERANCE.total_seconds(),
        description="A scheduled backup is created within [occurrence, occurrence + this].",
    )
    min_duration_s: float = Field(30.0, ge=0, description="Shortest backup or restore.")
    forget_expired_after_s: float | None = Field(
        None,
        gt=0,
        description=(
            "Purge a backup from memory this long after it expired, so that a long run's "
            "memory stays bounded. None keeps every backup, so that any id can be judged."
        ),
    )

    @field_validator("retention_by_policy")
    @classmethod
    def _positive_retention(cls, value: Mapping[str, float]) -> Mapping[str, float]:
        bad = {code: s for code, s in value.items() if not s > 0}
        if bad:
            raise ValueError(f"retention must be positive seconds, got {bad}")
        return dict(value)

    def retention_s(self, policy_code: str | None) -> float:
        """The retention of a policy's backups (on-demand ones: ``policy_code=None``)."""
        if policy_code is None:
            return self.default_retention_s
        return self.retention_by_policy.get(policy_code, self.default_retention_s)
