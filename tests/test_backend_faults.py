"""The fake backend's own failures end a run as a harness error, never as the plugin's."""

from __future__ import annotations

import pytest

from simulator.backend.backup_system import BackupSystemFault
from simulator.reference import ReferencePlugin
from simulator.scenario import load_scenario
from simulator.world import World


def test_an_overflow_in_the_backend_ends_the_run_instead_of_blaming_the_plugin() -> None:
    world = World(load_scenario("on-demand"), ReferencePlugin, trace_level="off")
    outcomes: list[str] = []
    world.invoker.observers.append(lambda record: outcomes.append(record.outcome))
    system = world.backup_system
    # A retention no scenario may write (it ends past year 9999): set behind the
    # scenario's ranges, as a bug of the backend's own arithmetic would.
    system.settings = system.settings.model_copy(
        update={
            "default_retention_s": 1e15,
            "retention_by_policy": dict.fromkeys(system.settings.retention_by_policy, 1e15),
        }
    )
    with pytest.raises(BackupSystemFault, match="fake backup system failed in its own arithmetic"):
        world.run()
    assert "foreign-error" not in outcomes, "the backend's overflow was blamed on the plugin"
