"""The simulated Abiquo platform: the API, the Virtual Factory, the results check, locks,
sessions, rollback, the invoker every plugin call goes through, and the workload of user actions.

Import its modules: :mod:`~simulator.platform.core` (the platform),
:mod:`~simulator.platform.invoker`, :mod:`~simulator.platform.workload` and the rest.
Nothing is re-exported here, so that importing one module does not load the others.
"""

__all__: list[str] = []
