"""A scenario with a backup manager per datacenter, as one world per datacenter."""

from __future__ import annotations

import hashlib

from simulator.scenario.spec import Scenario

__all__ = ["datacenter_seed", "split_by_datacenter"]


def _round_robin_share(count: int, parts: int, k: int) -> int:
    """How many of ``range(count)`` fall to part ``k`` when dealt round-robin."""
    return count // parts + (1 if k < count % parts else 0)


def datacenter_seed(seed: int, datacenter: int) -> int:
    """The seed of datacenter ``datacenter``'s world: fixed by the scenario's seed."""
    digest = hashlib.sha256(f"bpcert-datacenter:{seed}:{datacenter}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def split_by_datacenter(scenario: Scenario) -> list[Scenario]:
    """One scenario per datacenter, for ``backup_managers: per-datacenter``.

    With a backup manager per datacenter, the datacenters share nothing but the API,
    so each is a world of its own. VMs are dealt to datacenters round-robin by index
    (VM ``i`` is VM ``i // D`` of datacenter ``i % D``), which keeps "the first
    ``deployed_at_start`` VMs are deployed" and moves timeline entries with their VM.
    Workload rates and virtual datacenters are shared out in proportion; policies,
    platform settings, latency and faults (a backup-system outage hits every backup
    manager) are the same in each. Datacenter ``k`` is named ``NAME-dcK`` (from 1) and
    seeded by :func:`datacenter_seed`. A scenario with one backup manager, or one
    datacenter, is returned alone and unchanged.
    """
    fleet = scenario.fleet
    parts = fleet.datacenters
    if not fleet.manager_per_datacenter:
        return [scenario]
    if fleet.vms < parts:
        raise ValueError(
            f"{fleet.vms} VMs cannot fill {parts} datacenters with a backup manager each"
        )
    deployed = fleet.deployed_initially
    vdcs = scenario.platform.vdcs
    out: list[Scenario] = []
    for k in range(parts):
        vms = _round_robin_share(fleet.vms, parts, k)
        share = vms / fleet.vms
        timeline = tuple(
            item.model_copy(update={"vm": item.vm // parts})
            for item in scenario.workload.timeline
            if item.vm % parts == k
        )
        rates = scenario.workload.rates.model_copy(
            update={
                name: value * share for name, value in scenario.workload.rates.model_dump().items()
            }
        )
        out.append(
            scenario.model_copy(
                update={
                    "name": f"{scenario.name}-dc{k + 1}",
                    "seed": datacenter_seed(scenario.seed, k),
                    "fleet": fleet.model_copy(
                        update={
                            "vms": vms,
                            "datacenters": 1,
                            "backup_managers": "one",
                            "deployed_at_start": _round_robin_share(deployed, parts, k),
                        }
                    ),
                    "platform": scenario.platform.model_copy(
                        update={"vdcs": max(1, _round_robin_share(vdcs, parts, k))}
                    ),
                    "workload": scenario.workload.model_copy(
                        update={"rates": rates, "timeline": timeline}
                    ),
                }
            )
        )
    return out
