"""What the checkers of several capabilities share about one run: what the platform has been
told about each result, and when the backup system was down.

The polling checker folds every answer into :class:`Observations`; the on-demand, schedule,
expiry and data checkers read it. Keeping it in one place means no capability keeps its own
copy of another's view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.contract import ResultState
from simulator.platform.invoker import CallRecord
from simulator.world import World

__all__ = ["Observations", "Outages", "Seen"]


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

    def last_poll_now(self) -> float | None:
        """The plugin's ``now`` at the last successful poll, or None before any."""
        return self.poll_windows[-1][1] if self.poll_windows else None
