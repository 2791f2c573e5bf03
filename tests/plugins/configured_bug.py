"""A plugin whose bug shows only with one property set: a replay without --properties passes.

With ``vendor.restore=latest`` in its properties it restores the VM's latest backup
whatever backup was asked (``data.restore-integrity``, in several scenarios); without
it, it is the reference plugin.
"""

from __future__ import annotations

from conformance.selftest.data import RestoresLatestBackupPlugin
from simulator.contract import Connection, RestoreResult, VirtualMachineInfo
from simulator.reference import ReferencePlugin

#: The property that switches the bug on.
BUG_PROPERTY = "vendor.restore"


class RestoresLatestWhenConfigured(RestoresLatestBackupPlugin):
    """Restores the latest backup only when its properties say ``vendor.restore=latest``."""

    def execute_restore(
        self, connection: Connection, vm: VirtualMachineInfo, backup_id: str
    ) -> RestoreResult:
        """The mutant's restore when configured so, the reference's otherwise."""
        if self.context.properties.get(BUG_PROPERTY) == "latest":
            return super().execute_restore(connection, vm, backup_id)
        return ReferencePlugin.execute_restore(self, connection, vm, backup_id)
