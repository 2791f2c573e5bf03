"""What the checkers of several capabilities share about one run: what the platform has been
told about each result, and when the backup system was down.

The polling checker folds every answer into :class:`Observations`; the on-demand, schedule,
expiry and data checkers read it. :class:`Removals` says which backups the backup system
has removed, the truth expiry is judged by. Keeping it in one place means no capability
keeps its own copy of another's view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from simulator.contract import BackupResult, ResultState
from simulator.platform.invoker import CallRecord
from simulator.world import World

__all__ = ["Observations", "Outages", "Removals", "Seen"]


class Outages:
    """The scenario's declared backup-system outage windows, in simulated seconds."""

    def __init__(self, world: World) -> None:
        # The world's own list: outages declared during the run are seen too.
        self.windows = world.outages

    def contains(self, t: float) -> bool:
        """True when the backup system is down at ``t``."""
        return any(a <= t < b for a, b in self.windows)

    def overlaps(self, a: float, b: float) -> bool:
        """True when [a, b] touches an outage."""
        return any(a < wb and b >= wa for wa, wb in self.windows)


@dataclass(slots=True)
class Seen:
    """What the platform has been told about one result, across all answers."""

    vm: str
    type: str
    on_demand: bool
    state: ResultState
    creation_s: float
    finish_s: float | None
    expiration_s: float | None
    first_seq: int
    final_seen: bool = False
    polls: list[int] = field(default_factory=list)


@dataclass
class Observations:
    """One run's shared view, filled as the run goes."""

    #: Provider id -> what the platform's polls (and on-demand answers) said about it.
    results: dict[str, Seen] = field(default_factory=dict)
    #: Successful polls: (window start, plugin's now), both in simulated seconds.
    poll_windows: list[tuple[float | None, float]] = field(default_factory=list)
    #: Provider id -> the seq of the get_expired_results call that first reported it.
    reported_expired: dict[str, int] = field(default_factory=dict)
    #: Restore id the plugin returned -> (backup id the platform asked for, the call).
    restore_requests: dict[str, tuple[str, CallRecord]] = field(default_factory=dict)
    #: Whether the plugin opened any session on the fake backup system (set at the end).
    uses_fake_backend: bool = False
    #: Provider id -> the creation date (s) of its last answer, where it changed from the
    #: first one (which :attr:`results` keeps).
    changed_creation_s: dict[str, float] = field(default_factory=dict)

    def reported_creation_s(self, provider_id: str) -> float | None:
        """The creation date (s) the plugin last reported for ``provider_id``, if any."""
        changed = self.changed_creation_s.get(provider_id)
        if changed is not None:
            return changed
        seen = self.results.get(provider_id)
        return None if seen is None else seen.creation_s

    def last_poll_now(self) -> float | None:
        """The plugin's ``now`` at the last successful poll, or None before any."""
        return self.poll_windows[-1][1] if self.poll_windows else None


class Removals:
    """Which backups the backup system has removed, and when (contract.md §4a).

    A backup is *gone* once the backup system removed it (its retention ran out, by time
    or by restore-point count, or the system lost it), whatever the plugin's
    ``expiration_date`` said. Two sources of that truth:

    - the plugin uses the fake backup system: its ground truth, exact at any instant
      (:attr:`knows_now`);
    - the plugin has its own backend: the full listings taken so far
      (:meth:`learn_from_listing`). A DONE backup the platform was told about that has
      left a full listing is gone since at most that listing; one a listing still shows
      was live then. Between the two, nothing can be told.
    """

    def __init__(self, world: World) -> None:
        self._system = world.backup_system
        # A plugin's own backend: the last listing that showed each id, the first without it.
        self._present: dict[str, float] = {}
        self._left: dict[str, float] = {}

    @property
    def knows_now(self) -> bool:
        """Whether the exact truth is known: the plugin uses the fake backup system."""
        return self._system.sessions_opened_total > 0

    def removed_at(self, provider_id: str) -> float | None:
        """When the fake backup system removed the backup (simulated seconds), if it did.

        ``None`` while it holds it, for an id it never had, and for a plugin with its own
        backend (whose removal instants are known only to within a listing).
        """
        if not self.knows_now:
            return None
        try:
            return self._system.removed_at(provider_id)
        except KeyError:
            return None

    def lost(self, provider_id: str) -> bool:
        """Whether the fake backup system lost the backup (a scenario's ``lose_backup``).

        A lost backup was removed by no retention and may never have turned final: the
        rules that expect a final state or a date from it excuse it, and judge the UNKNOWN
        and ``None`` answers the contract keeps for it instead. Always ``False`` for a
        plugin with its own backend, which never sees the harness's losses.
        """
        return self.knows_now and self._system.is_lost(provider_id)

    def state_at(self, provider_id: str, t: float) -> Literal["gone", "live"] | None:
        """Whether the backup was gone or live at ``t``; ``None`` when that is unknown."""
        if self.knows_now:
            try:
                removed = self._system.removed_at(provider_id)
            except KeyError:
                return None
            return "gone" if removed is not None and removed <= t else "live"
        left = self._left.get(provider_id)
        if left is not None and left <= t:
            return "gone"
        present = self._present.get(provider_id)
        return "live" if present is not None and present >= t else None

    def describe_removal(self, provider_id: str) -> str:
        """How the removal is known, for a finding's message."""
        removed = self.removed_at(provider_id)
        if removed is not None and removed != float("-inf"):
            return (
                f"was removed by the backup system at {self._system.clock.at(removed).isoformat()}"
            )
        left = self._left.get(provider_id)
        if left is not None:
            return (
                "has left the plugin's full listing (taken at "
                f"{self._system.clock.at(left).isoformat()}), so its backup system removed it"
            )
        return "was removed by the backup system"

    def learn_from_listing(
        self, listing: Iterable[BackupResult], at: float, observed: Observations
    ) -> None:
        """Fold in a full listing taken at ``at``: what it shows is live, what it lacks of
        the DONE results seen before is gone."""
        listed = {r.provider_id for r in listing}
        for pid in listed:
            self._present[pid] = at
        for pid, seen in observed.results.items():
            if seen.state is ResultState.DONE and pid not in listed:
                self._left.setdefault(pid, at)
