"""The simulated Abiquo platform: the API, the Virtual Factory, the results check, locks,
sessions, rollback, the invoker every plugin call goes through, and the workload of user actions."""
