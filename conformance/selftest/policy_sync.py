"""Mutants that break the policy-synchronisation rule (:mod:`conformance.rules.policy_sync`).

Each is the reference plugin, run under ``abiquo-6.0``, with **one** bug of the kind
vendors really ship, and names in its docstring the rule id that should catch it. None of
this is an example to follow.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from simulator.contract import Connection, PluginContext
from simulator.reference import ReferencePlugin

__all__ = ["MUTANTS", "CachedMembersPlugin", "FirstPageOfMembersPlugin"]


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


class CachedMembersPlugin(ReferencePlugin):
    """Bug: the backend's membership query is slow, so the plugin caches each policy's
    members for a week, assuming that only Abiquo changes them (and Abiquo already knows
    its own changes). A VM an administrator adds to or removes from the policy in the
    backup system directly is never reported.

    Rule: ``policy-sync.members-exact``.
    """

    def __init__(self, context: PluginContext) -> None:
        super().__init__(context)
        # In the API instance, which makes every synchronisation's calls.
        self._members: dict[str, tuple[datetime, frozenset[str]]] = {}

    def list_virtual_machines_in_backup_policy(
        self, connection: Connection, policy_code: str
    ) -> frozenset[str]:
        """The members as first read, for a week."""
        cached = self._members.get(policy_code)
        now = self.now()
        if cached is not None and now - cached[0] < timedelta(days=7):
            return cached[1]
        members = super().list_virtual_machines_in_backup_policy(connection, policy_code)
        self._members[policy_code] = (now, members)
        return members


#: Mutant name -> (class, the rule it breaks).
MUTANTS: dict[str, tuple[type, str]] = {
    "first-page-of-members": (FirstPageOfMembersPlugin, "policy-sync.members-exact"),
    "cached-members": (CachedMembersPlugin, "policy-sync.members-exact"),
}
