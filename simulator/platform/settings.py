"""The platform's configuration: Abiquo's properties and the simulation's knobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from simulator.platform.per_id_check import PER_ID_STEPS

__all__ = ["PlatformSettings"]


@dataclass(frozen=True)
class PlatformSettings:
    """The platform's configuration (Abiquo properties and simulation knobs).

    The last five drive the ``abiquo-4.7`` and ``abiquo-6.0`` procedures; each is a
    *(modelled)* choice (``docs/contract.md``):

    - ``per_id_steps``: the order of the per-id check's steps (``PER_ID_STEPS``);
    - ``start_date_from``: ``"newest-listed"`` (the creation date of the newest backup a
      ``listNewBackupResults`` returned: Java's ``startDateFromLastProcessedResult``) or
      ``"newest-held"`` (the newest backup the platform holds, also one an on-demand
      ``executeBackup`` answered). With ``newest-held``, a scheduled backup created just
      before an on-demand one is never listed: the platform's loss, not the plugin's;
    - ``unknown_asked_again``: a ``null`` answer keeps the result UNKNOWN and it is
      asked again (``False``: UNKNOWN is final, as in 4.0.4);
    - ``step_failure``: a failed call ends its step (``"stop-step"``) or only skips its
      id (``"next-id"``); the run goes on with the next step either way;
    - ``policy_sync_delay_s`` (``abiquo.backup.policy.sync.delay``) and
      ``policy_sync_deployed_only``: see :mod:`simulator.platform.policy_sync`.

    The ``abiquo-4.0.4`` check's ``getExpiredResults`` question (contract.md §4):

    - ``expiry_question``: ``"held-done"`` (§4: the ids of the done results it holds,
      with or without an expiration date) or ``"past-expiration-date"`` (only those whose
      own date has passed, as the 4.7 check does; a backup the backup system removes
      without being asked is then the platform's blind spot);
    - ``expiry_rotation_checks`` *(modelled)*: with ``"held-done"``, each check asks about
      a share of the done results held, in rotation, so that every one is asked within
      this many checks (1: all of them every check). It bounds a check's cost at
      O(held / rotation) ids; the default 36 reaches every id within six hours at the
      default 10-minute delay (docs/contract.md gives the measured cost).
    """

    check_delay_s: float = 600.0
    open_sessions: int = 2
    session_scope: str = "backup-manager"
    vdcs: int = 1
    lock_vm_during_backup: bool = True
    hypervisor_job_s: float = 10.0
    vf_workers: int = 32
    per_id_steps: tuple[str, ...] = PER_ID_STEPS
    start_date_from: Literal["newest-listed", "newest-held"] = "newest-listed"
    unknown_asked_again: bool = True
    step_failure: Literal["stop-step", "next-id"] = "stop-step"
    policy_sync_delay_s: float = 86400.0
    policy_sync_deployed_only: bool = True
    expiry_question: Literal["held-done", "past-expiration-date"] = "held-done"
    expiry_rotation_checks: int = 36

    def __post_init__(self) -> None:
        if self.expiry_rotation_checks < 1:
            raise ValueError(
                f"expiry_rotation_checks must be at least 1, got {self.expiry_rotation_checks}"
            )
        bad = [step for step in self.per_id_steps if step not in PER_ID_STEPS]
        if bad or len(set(self.per_id_steps)) != len(self.per_id_steps):
            raise ValueError(
                f"per_id_steps must name each of {', '.join(PER_ID_STEPS)} at most once, "
                f"got {list(self.per_id_steps)}"
            )
        if self.policy_sync_delay_s <= 0:
            raise ValueError(
                f"policy_sync_delay_s must be positive, got {self.policy_sync_delay_s}"
            )
