"""bpcert's simulator: a simulated Abiquo world that a backup plugin is run in.

Plugin authors import :mod:`simulator.contract` (the plugin contract) and, for an example,
:mod:`simulator.reference`; the rest is the harness's. The subpackages, lowest first:
``backend`` (the fake backup system and fleet) and ``scenario`` (the YAML format), then
``bridge`` (how a plugin is loaded and called across processes), ``platform`` (Abiquo's
API, Virtual Factory and check) and :mod:`simulator.world`, which wires one world.
"""

__all__: list[str] = []
