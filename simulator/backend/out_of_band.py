"""What happens in the fake backup system behind the platform's back, as timeline events.

A scenario's timeline may hold three actions that no user of Abiquo asks for and no
plugin call makes (``simulator.scenario.BACKEND_ACTIONS``):

- ``admin_add``: an administrator protects a VM with a policy in the backup system
  directly, as a vendor's console allows (:meth:`BackupSystem.admin_add_to_policy`: a job
  per configuration of the policy);
- ``admin_remove``: an administrator stops protecting it with that policy
  (:meth:`BackupSystem.admin_remove_from_policy`: its jobs of the policy are deleted);
- ``lose_backup``: the backup system loses the VM's newest backup, or its newest one still
  in progress (:meth:`BackupSystem.lose_backup`): the id is then unknown to every session
  call and counts as removed, which is what the contract's UNKNOWN and ``null`` paths are
  for.

The workload's timeline process runs them at their offset, in file order among entries
of the same instant, so the same scenario and seed make the same changes. Each writes a
``backend`` trace line (``docs/trace.md``). An event that finds nothing to do (a
``lose_backup`` of a VM with no backup, an ``admin_remove`` of a VM not in the policy) is
traced too, with what it found, and is no error: the timeline is not checked against the
backup system's state, as it is not checked against the VMs'.
"""

from __future__ import annotations

from collections.abc import Mapping

import simpy

from simulator.backend.backup_system import BackupSystem
from simulator.backend.fleet import Fleet
from simulator.contract import BackupPolicy
from simulator.trace import TraceWriter

__all__ = ["OutOfBand"]


class OutOfBand:
    """Runs the timeline's backup-system actions on one world's backup system, traced."""

    def __init__(
        self,
        env: simpy.Environment,
        system: BackupSystem,
        fleet: Fleet,
        policies: Mapping[str, BackupPolicy],
        trace: TraceWriter,
    ) -> None:
        self.env = env
        self.system = system
        self.fleet = fleet
        self.policies = dict(policies)
        self.trace = trace
        #: How many of each action ran, by action.
        self.done: dict[str, int] = {}

    def apply(self, action: str, vm: int, *, policy: str | None, in_progress: bool) -> None:
        """Run one action on VM ``vm`` (a fleet index) now, and trace it.

        ``policy`` is the code ``admin_add`` and ``admin_remove`` need; ``in_progress`` says
        which backup ``lose_backup`` loses. A loaded scenario has checked both; anything
        else raises :class:`ValueError` naming the action.
        """
        uuid = self.fleet.uuid(vm)
        self.done[action] = self.done.get(action, 0) + 1
        fields: dict[str, object] = {"action": action, "vm": uuid}
        if action in ("admin_add", "admin_remove"):
            if policy is None or policy not in self.policies:
                raise ValueError(f"{action} needs a known policy code, got {policy!r}")
            if action == "admin_add":
                jobs = self.system.admin_add_to_policy(uuid, self.policies[policy])
            else:
                jobs = self.system.admin_remove_from_policy(uuid, policy)
            fields.update(policy=policy, jobs=jobs)
        elif action == "lose_backup":
            provider_id = self.system.latest_backup_of(uuid, in_progress=in_progress)
            if provider_id is not None:
                self.system.lose_backup(provider_id)
            fields.update(in_progress=in_progress, provider_id=provider_id)
        else:
            raise ValueError(f"{action!r} is no backup-system action")
        self.trace.emit("backend", float(self.env.now), **fields)
