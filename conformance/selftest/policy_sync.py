"""Mutants that break the policy-synchronisation rule (:mod:`conformance.rules.policy_sync`).

Each is the reference plugin, run under ``abiquo-6.0``, with **one** bug of the kind
vendors really ship, and names in its docstring the rule id that should catch it. None of
this is an example to follow.
"""

from __future__ import annotations

from simulator.contract import Connection
from simulator.reference import ReferencePlugin

__all__ = ["MUTANTS", "FirstPageOfMembersPlugin"]


class FirstPageOfMembersPlugin(ReferencePlugin):
    """Bug: the backend pages a policy's members three at a time, and the plugin reads only
    the first page, so a policy with more VMs loses the rest.

    Rule: ``policy-sync.members-exact``.
    """

    def list_virtual_machines_in_backup_policy(
        self, connection: Connection, policy_code: str
    ) -> frozenset[str]:
        """The first page only."""
        members = sorted(super().list_virtual_machines_in_backup_policy(connection, policy_code))
        return frozenset(members[:3])


#: Mutant name -> (class, the rule it breaks).
MUTANTS: dict[str, tuple[type, str]] = {
    "first-page-of-members": (FirstPageOfMembersPlugin, "policy-sync.members-exact"),
}
