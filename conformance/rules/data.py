"""Data: a restore puts back exactly the content its backup captured.

Only the fake backup system knows what a VM's disks held, so this capability judges at the
very end (``ground_truth``), from the backup system's record of every restore.
"""

from __future__ import annotations

from conformance.rules.base import FAKE_BACKEND, Checker, EndOfRun, Rule, declare
from simulator.contract import Operation

__all__ = ["RULES", "DataChecker"]

RULES: tuple[Rule, ...] = (
    declare(
        "data.restore-integrity",
        "A restore puts the VM's disks back to exactly the content they had when that backup "
        "was taken.",
        [Operation.EXECUTE_RESTORE],
        [FAKE_BACKEND],
    ),
)


class DataChecker(Checker):
    """Restores against the fake backup system's ground truth."""

    rules = RULES

    def ground_truth(self, end: EndOfRun) -> None:
        """Every finished restore wrote back the backup the platform asked for, intact."""
        if not self.observed.uses_fake_backend:
            return
        checked = False
        for truth in self.world.backup_system.truth_restores():
            if truth.verified is None:
                continue
            checked = True
            self.sink.exercise("data.restore-integrity")
            asked = self.observed.restore_requests.get(truth.provider_id)
            if asked is not None and asked[0] != truth.backup_provider_id:
                self.sink.fail(
                    "data.restore-integrity",
                    f"restore {truth.provider_id} wrote back backup {truth.backup_provider_id}, "
                    f"but the platform asked to restore {asked[0]}",
                    expected=f"the content of {asked[0]}",
                    actual=f"the content of {truth.backup_provider_id}",
                    calls=[asked[1]],
                )
            elif not truth.verified:
                self.sink.fail(
                    "data.restore-integrity",
                    f"restore {truth.provider_id} of backup {truth.backup_provider_id} left the "
                    "VM's disks different from the content the backup captured",
                    evidence=[{"restore": truth.provider_id, "backup": truth.backup_provider_id}],
                )
        if not checked:
            self.sink.not_exercisable(
                "data.restore-integrity",
                "no restore that the fake backup system could verify finished in this run",
            )
