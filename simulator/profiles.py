"""Contract profiles: the generations of the Abiquo backup plugin interface.

Abiquo changed the interface twice after 4.0.4 (``docs/contract.md``, "Contract
generations"). A profile is the data that tells them apart, plus the name of the
platform procedure that drives each one:

- which operations exist (``operations``);
- which component runs the periodic results check, and how (``results_component``,
  ``results_check``): the Cloud Provider Proxy calls ``listResults`` and
  ``getExpiredResults`` until 4.6, the API polls per id from 4.7;
- whether the platform synchronises backup policies (``policy_sync``, from 6.0);
- which rules apply (``capabilities``: a rule that needs a capability applies only to
  the profiles that have it; every other rule applies to all).

Adding a generation means adding a profile here, its platform procedure under
``simulator.platform`` and its rules, never a second copy of the platform.

A Python plugin declares the profiles it implements as the class attribute
``contract_profiles`` (default ``("abiquo-4.0.4",)``); an exec plugin lists them as
``profiles`` in its ``initialize`` answer. The harness runs the newest profile both sides
speak unless one is asked for (:func:`select_profile`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from simulator.contract import DEFAULT_CONTRACT_PROFILES, Component, Operation

__all__ = [
    "ABIQUO_4_0_4",
    "ABIQUO_4_7",
    "ABIQUO_6_0",
    "CAPABILITIES",
    "NEWEST",
    "PROFILES",
    "PROFILE_IDS",
    "ContractProfile",
    "ProfileError",
    "ResultsCheck",
    "declared_profiles",
    "get_profile",
    "select_profile",
]

#: How the periodic results check runs: ``listResults`` + ``getExpiredResults`` (4.0.4)
#: or the per-id polling of 4.7 (``listNew*Results``, ``get*Result``, ``isBackupExpired``).
ResultsCheck = Literal["list-results", "per-id-polling"]

#: The capabilities a profile may have; rules name the one they need.
CAPABILITIES: tuple[str, ...] = ("list-results", "per-id-polling", "policy-sync")

_O = Operation
_COMMON: frozenset[Operation] = frozenset(
    {
        _O.APPLY_SCHEDULE,
        _O.APPLY_NEW_SCHEDULE,
        _O.REMOVE_SCHEDULE,
        _O.EXECUTE_BACKUP,
        _O.EXECUTE_RESTORE,
    }
)
_PER_ID: frozenset[Operation] = frozenset(
    {
        _O.IS_BACKUP_EXPIRED,
        _O.GET_BACKUP_RESULT,
        _O.GET_RESTORE_RESULT,
        _O.LIST_NEW_BACKUP_RESULTS,
        _O.LIST_NEW_RESTORE_RESULTS,
    }
)

#: What does an operation's job in the generations that dropped it: 4.7's per-id results
#: check replaced 4.0.4's listing and its expiry question.
_SUCCESSORS: dict[Operation, frozenset[Operation]] = {
    _O.LIST_RESULTS: frozenset({_O.LIST_NEW_BACKUP_RESULTS}),
    _O.GET_EXPIRED_RESULTS: frozenset({_O.IS_BACKUP_EXPIRED}),
}


@dataclass(frozen=True)
class ContractProfile:
    """One generation of the contract: what exists in it and how the platform drives it."""

    id: str
    releases: str
    summary: str
    operations: frozenset[Operation]
    results_component: Component
    results_check: ResultsCheck
    policy_sync: bool
    capabilities: frozenset[str]

    def has(self, op: Operation) -> bool:
        """True when ``op`` is part of this generation's interface."""
        return op in self.operations

    def as_called(self, ops: Iterable[Operation]) -> frozenset[Operation]:
        """``ops`` as this generation calls them: an operation it lacks is replaced by the
        one that does its job here (``listResults`` by ``listNewBackupResults``,
        ``getExpiredResults`` by ``isBackupExpired`` from 4.7 on), or dropped.

        A rule names what it needs in 4.0.4's terms; a plugin that declares an operation
        this generation never calls unsupported gives no reason to skip the rule.
        """
        called: set[Operation] = set()
        for op in ops:
            if op in self.operations:
                called.add(op)
            else:
                called.update(o for o in _SUCCESSORS.get(op, ()) if o in self.operations)
        return frozenset(called)

    def applies(self, capability: str | None) -> bool:
        """True when a rule needing ``capability`` (``None``: none) applies to this profile."""
        return capability is None or capability in self.capabilities

    def describe(self) -> dict[str, Any]:
        """A JSON-able description, for ``bpcert profiles`` and the report."""
        return {
            "id": self.id,
            "releases": self.releases,
            "summary": self.summary,
            "results_component": self.results_component,
            "results_check": self.results_check,
            "policy_sync": self.policy_sync,
            "operations": sorted(op.value for op in self.operations),
        }


ABIQUO_4_0_4 = ContractProfile(
    id="abiquo-4.0.4",
    releases="4.0.4 to 4.6.x",
    summary="listResults(lastCheckDate, inProgressIds) and getExpiredResults(ids), "
    "called by the Cloud Provider Proxy",
    operations=_COMMON | {_O.LIST_RESULTS, _O.GET_EXPIRED_RESULTS},
    results_component="cpp",
    results_check="list-results",
    policy_sync=False,
    capabilities=frozenset({"list-results"}),
)
ABIQUO_4_7 = ContractProfile(
    id="abiquo-4.7",
    releases="4.7.0 to 5.4.x",
    summary="per-id polling by the API: listNewBackupResults, listNewRestoreResults, "
    "getBackupResult, getRestoreResult, isBackupExpired",
    operations=_COMMON | _PER_ID,
    results_component="api",
    results_check="per-id-polling",
    policy_sync=False,
    capabilities=frozenset({"per-id-polling"}),
)
ABIQUO_6_0 = ContractProfile(
    id="abiquo-6.0",
    releases="6.0.0 to 6.1.x and the development line",
    summary="abiquo-4.7 plus backup-policy synchronisation (listVirtualMachinesInBackupPolicy)",
    operations=_COMMON | _PER_ID | {_O.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY},
    results_component="api",
    results_check="per-id-polling",
    policy_sync=True,
    capabilities=frozenset({"per-id-polling", "policy-sync"}),
)

#: Every profile, oldest first, by id.
PROFILES: dict[str, ContractProfile] = {p.id: p for p in (ABIQUO_4_0_4, ABIQUO_4_7, ABIQUO_6_0)}
#: The known profile ids, oldest first.
PROFILE_IDS: tuple[str, ...] = tuple(PROFILES)
#: The current generation.
NEWEST: ContractProfile = ABIQUO_6_0


class ProfileError(ValueError):
    """A profile that is unknown, or that the plugin does not declare; a usage error.

    The message lists what would have been accepted.
    """


def get_profile(profile_id: str) -> ContractProfile:
    """The profile ``profile_id``; :class:`ProfileError` listing the known ones otherwise."""
    profile = PROFILES.get(profile_id)
    if profile is None:
        raise ProfileError(
            f"unknown contract profile {profile_id!r}; the known profiles are "
            f"{', '.join(PROFILE_IDS)} (see `bpcert profiles`)"
        )
    return profile


def declared_profiles(plugin_class: type) -> tuple[str, ...]:
    """The profile ids ``plugin_class`` declares (``contract_profiles``), checked.

    A class that declares nothing speaks ``abiquo-4.0.4``. Raises :class:`ProfileError`
    for a declaration that is not a non-empty tuple of known ids.
    """
    declared: Any = getattr(plugin_class, "contract_profiles", DEFAULT_CONTRACT_PROFILES)
    name = getattr(plugin_class, "__qualname__", repr(plugin_class))
    if isinstance(declared, str) or not isinstance(declared, Iterable):
        raise ProfileError(
            f"plugin {name}: contract_profiles must be a tuple of profile ids such as "
            f"('abiquo-6.0',), got {declared!r}"
        )
    ids = tuple(declared)
    if not ids:
        raise ProfileError(f"plugin {name}: contract_profiles is empty; declare at least one")
    unknown = [p for p in ids if p not in PROFILES]
    if unknown:
        raise ProfileError(
            f"plugin {name} declares unknown contract profile(s) {', '.join(map(repr, unknown))}; "
            f"the known profiles are {', '.join(PROFILE_IDS)}"
        )
    return ids


def select_profile(declared: Iterable[str], requested: str | None = None) -> ContractProfile:
    """The profile a run uses: ``requested``, or the newest one ``declared`` lists.

    Raises :class:`ProfileError` for an unknown ``requested`` (listing the known
    profiles) and for one the plugin does not declare (listing what it declares).
    """
    ids = tuple(declared)
    if requested is not None:
        profile = get_profile(requested)
        if profile.id not in ids:
            raise ProfileError(
                f"the plugin does not declare contract profile {profile.id!r}; it declares "
                f"{', '.join(ids) or 'nothing'}"
            )
        return profile
    spoken = [p for p in PROFILES.values() if p.id in ids]
    if not spoken:
        raise ProfileError(
            f"the plugin declares no profile this harness speaks ({', '.join(ids)}); "
            f"the known profiles are {', '.join(PROFILE_IDS)}"
        )
    return spoken[-1]
