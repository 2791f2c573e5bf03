"""Components behave as separate JVMs: a plugin's static state is not shared between them."""

from __future__ import annotations

from conformance.runner import resolve_plugin, run_scenario
from simulator.bridge.loader import component_classes


def test_each_component_gets_its_own_copy_of_the_plugin_module() -> None:
    plugin = resolve_plugin("tests.plugins.static_state:StaticOnDemand")
    copies = component_classes(plugin)
    assert set(copies) == {"api", "virtualfactory", "cpp"}
    modules = {cls.__module__ for cls in copies.values()}
    assert len(modules) == 3
    assert all(cls is not plugin.plugin_class for cls in copies.values())


def test_state_kept_in_a_module_global_is_invisible_to_the_other_components() -> None:
    plugin = resolve_plugin("tests.plugins.static_state:StaticOnDemand")
    run = run_scenario("on-demand", plugin, probes=True)
    assert run.sink.failed("startup.instances-isolated")
    assert run.sink.failed("on-demand.backup-reaches-final-state")


def test_the_reference_plugin_is_unaffected_by_module_copies() -> None:
    run = run_scenario("on-demand", resolve_plugin("reference"))
    assert not run.sink.totals
