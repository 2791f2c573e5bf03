"""What the API refuses before any plugin call, and why.

Abiquo's API checks a user's request against the VM's state and the plugin's
declarations (unsupported operations, backup types, periodicities, policies per VM,
replication) and refuses it with a BC code before the Virtual Factory runs it; the Virtual
Factory checks again when the task starts, since the VM may have changed while it waited
(:meth:`simulator.platform.core.Platform.submit`). A refused task makes no plugin call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.contract import Operation, ResultState
from simulator.platform.records import PROBE, Task

if TYPE_CHECKING:
    from simulator.platform.core import Platform

__all__ = ["REJECTION_CODES", "TASK_NEEDS", "api_refusal"]

#: The refusals the API makes before any plugin call. BC codes are Abiquo's where it
#: published one; BC-47 and VM-STATE are *(modelled)*. BC-27 is Abiquo's code for a VM with
#: more policies than allowed, used for the plugin's ``max_policies_per_vm``.
REJECTION_CODES: dict[str, str] = {
    "BC-22": "the backup result is not done, so it cannot be restored",
    "BC-27": "the VM would have more backup policies than the plugin allows",
    "BC-38": "backup plugin not loaded",
    "BC-41": "the backup result does not exist (or its VM is undeployed)",
    "BC-42": "an on-demand backup needs a deployed VM",
    "BC-43": "a restore needs a deployed VM",
    "BC-44": "a restore needs the VM powered off",
    "BC-46": "the plugin declares this operation unsupported",
    "BC-47": "a policy uses a backup type or periodicity the plugin does not support",
    "VM-STATE": "the VM is not in the state the task needs",
}
#: Which plugin operation a task's BACKUP_SCHEDULE job or action needs.
TASK_NEEDS: dict[str, Operation | None] = {
    "BACKUP_NOW": Operation.EXECUTE_BACKUP,
    "RESTORE": Operation.EXECUTE_RESTORE,
}


def api_refusal(platform: Platform, task: Task) -> tuple[str, str] | None:
    """The API's refusal of ``task`` as (code, reason), or None to accept it."""
    i, kind = task.vm_index, task.kind
    if kind == PROBE:
        return None
    deployed = platform.fleet.is_deployed(i)
    needs_plugin = kind in TASK_NEEDS or (
        kind in ("DEPLOY", "RECONFIGURE") and bool(task.schedule and task.schedule.policies)
    )
    if kind == "UNDEPLOY" and platform._has_schedule(task.vm_uuid):
        needs_plugin = True
    if needs_plugin and not platform.plugin_loaded("virtualfactory"):
        return ("BC-38", REJECTION_CODES["BC-38"])
    op = TASK_NEEDS.get(kind)
    if op is not None and op in platform._unsupported:
        return ("BC-46", f"{op.value} is declared unsupported by the plugin")
    if kind in ("DEPLOY", "RECONFIGURE") and task.schedule is not None:
        schedule_op = Operation.APPLY_SCHEDULE if kind == "DEPLOY" else Operation.APPLY_NEW_SCHEDULE
        if schedule_op in platform._unsupported and task.schedule.policies:
            return ("BC-46", f"{schedule_op.value} is declared unsupported by the plugin")
        n_policies = len(task.schedule.policies)
        if platform._max_policies is not None and n_policies > platform._max_policies:
            return (
                "BC-27",
                f"{n_policies} backup policies, but the plugin allows "
                f"{platform._max_policies} per VM (max_policies_per_vm)",
            )
        for policy, config in task.schedule.configurations():
            if platform._types and config.type not in platform._types:
                return ("BC-47", f"policy {policy.code} uses backup type {config.type.value}")
            if platform._periodicities and config.subtype not in platform._periodicities:
                return (
                    "BC-47",
                    f"policy {policy.code} uses periodicity {config.subtype.value}",
                )
    if kind == "DEPLOY" and deployed:
        return ("VM-STATE", "the VM is already deployed")
    if kind in ("RECONFIGURE", "UNDEPLOY", "POWER_OFF", "POWER_ON") and not deployed:
        return ("VM-STATE", "the VM is not deployed")
    if kind == "POWER_OFF" and not platform.fleet.is_powered_on(i):
        return ("VM-STATE", "the VM is already powered off")
    if kind == "POWER_ON" and platform.fleet.is_powered_on(i):
        return ("VM-STATE", "the VM is already powered on")
    if kind == "BACKUP_NOW" and not deployed:
        return ("BC-42", REJECTION_CODES["BC-42"])
    if kind == "BACKUP_NOW" and task.replication and not platform._replication:
        return ("BC-46", "replication is declared unsupported (supports_replication)")
    if kind == "RESTORE":
        if not deployed:
            return ("BC-43", REJECTION_CODES["BC-43"])
        if platform.fleet.is_powered_on(i):
            return ("BC-44", REJECTION_CODES["BC-44"])
        held = platform.results.by_id.get(task.backup_id or "")
        if held is None or held.vm_uuid != task.vm_uuid:
            return ("BC-41", f"no backup result {task.backup_id!r} for this VM")
        if held.state is not ResultState.DONE:
            return ("BC-22", f"backup {held.provider_id} is {held.state.value}, not DONE")
    return None
