"""Policy synchronisation: what ``abiquo-6.0``'s daily policy sync is told.

Online, the checker judges every ``list_virtual_machines_in_backup_policy(code)`` answer
of the platform's synchronisation (:mod:`simulator.platform.policy_sync`); at the end
(``probe``) it asks about every policy of the scenario once more, so that a run shorter
than the sync delay is judged too. The answer is compared with:

- for a plugin on the fake backup system, **the backup system's truth**: the VMs with a
  job of the policy, the changes an administrator made in the backup system directly
  (a scenario's ``admin_add`` / ``admin_remove``) included;
- for a plugin with its own backend, which never sees the harness's out-of-band changes,
  **what the platform configured**: the VMs whose last successful schedule call gave
  them the policy. The finding says which of the two judged it.

VMs whose membership changed while the call ran (a schedule call beside it, an
administrator's change) are not judged by that call.
"""

from __future__ import annotations

from conformance.rules.base import Checker, Context, EndOfRun, Gen, Rule, declare
from simulator.contract import BackupSchedule, Operation
from simulator.platform.invoker import CallRecord

__all__ = ["RULES", "PolicySyncChecker"]

_O = Operation
_EXACT = "policy-sync.members-exact"
_SCHEDULE_OPS = frozenset(
    op.value for op in (_O.APPLY_SCHEDULE, _O.APPLY_NEW_SCHEDULE, _O.REMOVE_SCHEDULE)
)

RULES: tuple[Rule, ...] = (
    declare(
        _EXACT,
        "list_virtual_machines_in_backup_policy(code) equals the VMs the backup system "
        "protects with that policy, including changes made in the backup system directly.",
        [_O.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY],
        (),
        "policy-sync",
    ),
)


def _codes(schedule: BackupSchedule | None) -> set[str]:
    return {p.code for p in schedule.policies} if schedule is not None else set()


class PolicySyncChecker(Checker):
    """Policy membership answers: exactly the VMs the backup system protects with a policy."""

    rules = RULES

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        #: What the platform configured: VM -> the policy codes of its last schedule call.
        self.configured: dict[str, set[str]] = {}
        #: (start, end) of every schedule call, by VM: memberships in flux then.
        self.changing: dict[str, list[tuple[float, float]]] = {}

    def _applies(self) -> bool:
        return self.world.profile.policy_sync

    def on_call(self, rec: CallRecord) -> None:
        """Follow what the platform configures; judge each membership answer."""
        if rec.op in _SCHEDULE_OPS and rec.component == "virtualfactory":
            vm = rec.args[0].uuid
            self.changing.setdefault(vm, []).append((rec.start, rec.end))
            if rec.outcome == "ok":
                if rec.op == _O.APPLY_SCHEDULE.value:
                    self.configured[vm] = _codes(rec.args[1])
                elif rec.op == _O.APPLY_NEW_SCHEDULE.value:
                    self.configured[vm] = _codes(rec.args[2])
                else:
                    self.configured.pop(vm, None)
            return
        if (
            rec.op == _O.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY.value
            and rec.outcome == "ok"
            and self._applies()
        ):
            self._judge(rec)

    def _in_flux(self, vm: str, rec: CallRecord) -> bool:
        if any(a <= rec.end and b >= rec.start for a, b in self.changing.get(vm, ())):
            return True
        return any(
            rec.start <= t <= rec.end and who == vm
            for t, who, _, _ in self.world.backup_system.admin_changes
        )

    def _judge(self, rec: CallRecord) -> None:
        (code,) = rec.args
        answer = set(rec.result)
        system = self.world.backup_system
        if system.sessions_opened_total > 0:
            expected = set(system.policy_members(code))
            judge = "the fake backup system's truth (administrator changes included)"
        else:
            expected = {vm for vm, codes in self.configured.items() if code in codes}
            judge = (
                "what the platform configured (the plugin has its own backend, which never "
                "sees the harness's out-of-band changes)"
            )
        self.sink.exercise(_EXACT)
        extra = sorted(vm for vm in answer - expected if not self._in_flux(vm, rec))
        missing = sorted(vm for vm in expected - answer if not self._in_flux(vm, rec))
        if not extra and not missing:
            return
        parts = []
        if missing:
            parts.append(f"{len(missing)} protected VM(s) left out: {', '.join(missing[:5])}")
        if extra:
            parts.append(f"{len(extra)} VM(s) not in the policy: {', '.join(extra[:5])}")
        self.sink.fail(
            _EXACT,
            f"list_virtual_machines_in_backup_policy({code!r}): {'; '.join(parts)}",
            expected=f"{len(expected)} VM(s), judged against {judge}",
            actual=f"{len(answer)} VM(s)",
            at=rec.start,
            calls=[rec],
        )

    def probe(self, end: EndOfRun) -> Gen:
        """Ask about every policy once more, after the run."""
        if not self._applies() or not self.ctx.supported(_O.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY):
            return
        for code in sorted(self.world.policies):
            yield from self.ctx.cpp_call(
                self.ctx.results_instance(), _O.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY, (code,)
            )
