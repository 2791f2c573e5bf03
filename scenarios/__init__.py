"""The built-in scenarios: YAML data shipped with bpcert.

Each ``<name>.yaml`` here is a scenario that ``bpcert run <name>`` and
:func:`simulator.scenario.load_scenario` find by name; see ``docs/scenarios.md``.
This package holds data only and imports nothing.
"""
