"""Scenarios: the strict YAML format, its loading with file/line/field errors, and the built-ins.

A scenario names the fleet, the backup policies, the platform settings, the backup
system, the latency model, the workload, the faults, the seed and the duration. One
module per part:

- :mod:`~simulator.scenario.spec` (the whole :class:`Scenario`), built of
  :mod:`~simulator.scenario.fleet_spec`, :mod:`~simulator.scenario.platform_spec`,
  :mod:`~simulator.scenario.latency_spec` and :mod:`~simulator.scenario.workload_spec`,
  all on :mod:`~simulator.scenario.spec_base`;
- :mod:`~simulator.scenario.durations`: ``30s``, ``1h30m`` and the like;
- :mod:`~simulator.scenario.errors`: :class:`ScenarioError`, naming file, line and field;
- :mod:`~simulator.scenario.loading`: YAML in and out, and the built-in scenarios;
- :mod:`~simulator.scenario.datacenters`: one world per datacenter.

The names meant for use outside the package are re-exported here.
"""

from __future__ import annotations

from simulator.scenario.datacenters import datacenter_seed, split_by_datacenter
from simulator.scenario.durations import format_duration, parse_duration
from simulator.scenario.errors import ScenarioError
from simulator.scenario.fleet_spec import FleetSpec, PolicySpec
from simulator.scenario.latency_spec import LATENCY_OPERATIONS, DistributionSpec
from simulator.scenario.loading import (
    builtin_scenarios,
    dump_scenario,
    load_scenario,
    load_scenario_text,
)
from simulator.scenario.platform_spec import PropertiesSpec
from simulator.scenario.spec import Scenario
from simulator.scenario.workload_spec import (
    ACTIONS,
    BACKEND_ACTIONS,
    TIMELINE_ACTIONS,
    Action,
    BackendAction,
    FaultsSpec,
    OutageSpec,
    TimelineAction,
    TimelineEntry,
    WorkloadSpec,
)

__all__ = [
    "ACTIONS",
    "BACKEND_ACTIONS",
    "LATENCY_OPERATIONS",
    "TIMELINE_ACTIONS",
    "Action",
    "BackendAction",
    "DistributionSpec",
    "FaultsSpec",
    "FleetSpec",
    "OutageSpec",
    "PolicySpec",
    "PropertiesSpec",
    "Scenario",
    "ScenarioError",
    "TimelineAction",
    "TimelineEntry",
    "WorkloadSpec",
    "builtin_scenarios",
    "datacenter_seed",
    "dump_scenario",
    "format_duration",
    "load_scenario",
    "load_scenario_text",
    "parse_duration",
    "split_by_datacenter",
]
