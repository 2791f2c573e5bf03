"""The backup-policy synchronisation of ``abiquo-6.0``.

Every ``abiquo.backup.policy.sync.delay`` (``PlatformSettings.policy_sync_delay_s``,
86400 s by default, a fixed delay after the previous run ended), the API asks the plugin,
for each backup policy of the datacenter by its code,
``listVirtualMachinesInBackupPolicy(code)``, and makes its own VM-to-policy assignment
match the answer: a VM an administrator added to the policy in the backup system gains
the policy in Abiquo, and one that left loses it. It does **not** call ``applySchedule``
back: the backup system already protects the VM as it says.

*(modelled)*, each a platform setting:

- ``policy_sync_deployed_only``: only a deployed VM gains or loses a policy; a uuid the
  fleet does not know, or of an undeployed VM, is ignored (and counted);
- a policy whose call fails keeps its assignment until the next run; the other policies
  are synchronised regardless.

A run costs one call per policy and O(VMs with a backup configuration) to index the
current assignment, once a day.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simpy

from simulator.contract import BackupPolicy, BackupSchedule, Operation
from simulator.platform.invoker import CallRecord
from simulator.platform.per_id_check import fixed_delay

if TYPE_CHECKING:
    from simulator.platform.core import Platform

__all__ = ["PolicySync", "SyncRecord"]


@dataclass(slots=True)
class SyncRecord:
    """One run of the policy synchronisation."""

    id: int
    start: float
    end: float
    policies: int
    failed: tuple[str, ...]
    gained: int
    lost: int
    ignored: int
    calls: tuple[CallRecord, ...]

    @property
    def ok(self) -> bool:
        """True when every policy's call succeeded."""
        return not self.failed


class PolicySync:
    """The API's periodic policy synchronisation over one platform."""

    def __init__(self, platform: Platform, policies: Mapping[str, BackupPolicy]) -> None:
        self.platform = platform
        self.policies = dict(policies)
        self.runs = 0
        self.running = False

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The periodic process: a run every ``policy_sync_delay_s`` after the last ended."""
        return fixed_delay(self.platform, self.platform.settings.policy_sync_delay_s, self.sync)

    def assignment(self) -> dict[str, set[str]]:
        """The VMs the platform holds in each policy now, by policy code."""
        members: dict[str, set[str]] = {code: set() for code in self.policies}
        for vm, schedule in self.platform.vm_schedule.items():
            for policy in schedule.policies:
                members.setdefault(policy.code, set()).add(vm)
        return members

    def sync(self) -> Generator[simpy.Event, Any, SyncRecord]:
        """One run: ask each policy's VMs, then make the assignment match each answer."""
        platform = self.platform
        env = platform.env
        self.runs += 1
        self.running = True
        start = float(env.now)
        failed: list[str] = []
        calls: list[CallRecord] = []
        gained = lost = ignored = 0
        members = self.assignment()
        for code in sorted(self.policies):
            rec: CallRecord = yield from platform.invoker.call(
                "api",
                platform.instances["api"],
                Operation.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY,
                None,
                (code,),
                pool=platform.cpp_pool,
            )
            calls.append(rec)
            if not rec.ok:
                failed.append(code)
                continue
            g, lo, ig = self._match(code, frozenset(rec.result), members[code])
            gained, lost, ignored = gained + g, lost + lo, ignored + ig
        end = float(env.now)
        record = SyncRecord(
            self.runs,
            start,
            end,
            len(self.policies),
            tuple(failed),
            gained,
            lost,
            ignored,
            tuple(calls),
        )
        platform.trace.emit(
            "sync",
            end,
            sync=record.id,
            start=start,
            end=end,
            duration=end - start,
            policies=record.policies,
            failed=failed,
            gained=gained,
            lost=lost,
            ignored=ignored,
            ok=record.ok,
        )
        self.running = False
        for hook in platform.hooks.sync_end:
            hook(record)
        return record

    def _match(self, code: str, answer: frozenset[str], held: set[str]) -> tuple[int, int, int]:
        """Make policy ``code``'s members ``held`` equal ``answer``; (gained, lost, ignored).

        ``held`` is updated in place.
        """
        platform = self.platform
        fleet = platform.fleet
        policy = self.policies[code]
        gained = lost = ignored = 0
        for vm in sorted(answer - held):
            try:
                index = fleet.index_of(vm)
            except KeyError:
                ignored += 1
                continue
            if platform.settings.policy_sync_deployed_only and not fleet.is_deployed(index):
                ignored += 1
                continue
            current = platform.vm_schedule.get(vm, BackupSchedule())
            held.add(vm)
            if any(p.code == code for p in current.policies):
                # Assigned since the members were read (a deploy or reconfigure ran
                # meanwhile): the platform already holds what the answer says.
                continue
            platform.vm_schedule[vm] = BackupSchedule(policies=(*current.policies, policy))
            gained += 1
            self._trace(vm, code, "gained")
        for vm in sorted(held - answer):
            held.discard(vm)
            current = platform.vm_schedule[vm]
            kept = tuple(p for p in current.policies if p.code != code)
            if kept:
                platform.vm_schedule[vm] = BackupSchedule(policies=kept)
            else:
                del platform.vm_schedule[vm]
            lost += 1
            self._trace(vm, code, "lost")
        return gained, lost, ignored

    def _trace(self, vm: str, code: str, action: str) -> None:
        self.platform.trace.emit(
            "assignment", self.platform.env.now, sync=self.runs, vm=vm, policy=code, action=action
        )
