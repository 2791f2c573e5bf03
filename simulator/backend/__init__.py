"""The fake world behind the plugin: the backup system (reached by endpoint), the hypervisor
fleet and the schedule arithmetic both share.

Import its modules: :mod:`~simulator.backend.backup_system` (what plugins use),
:mod:`~simulator.backend.fleet` and :mod:`~simulator.backend.schedule`. Nothing is re-exported
here, so that importing one module does not load the others.
"""

__all__: list[str] = []
