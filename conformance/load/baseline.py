"""The bare model: the floor a harness cannot beat, for ``make bench``'s ratios.

A minimal aggregated SimPy model of a load scenario, with no plugin, no platform, no
audit and no trace. It has two processes:

- one **calendar** process that wakes at each instant a backup is due and, for every VM
  whose policies fire then, starts its backup: an in-progress result record put in the
  backup system's store, which finishes after the VM's backup duration (its disks' size
  at the scenario's throughput, at least its shortest backup);
- one **check** process that every ``check_delay`` lists the results that started or
  finished since the last check, upserts them by id into the platform's store, and drops
  the results whose retention ended from both stores.

Its per-result work (two tuples made, a heap push and pop, a handful of dictionary
upserts and deletes) is about the least any model of the same scenario must do, so a
load run's wall and CPU time divided by the bare model's, measured in the same
``make bench`` run, says what the harness costs over that floor; unlike absolute times
on a shared machine, that ratio holds from hour to hour.

Which VMs get which policies follows the scenario's ``policy_mix`` (drawn with its
seed); every VM deployed at the start is configured from t=0. A scenario with a backup
manager per datacenter is modelled one datacenter after the other, each a model of its
own (as a load run simulates each as a world of its own), and their figures added up:
the floor of the whole run, in CPU seconds, with the memory of one datacenter. Run
``python -m conformance.load.baseline --vms N --days D`` to time it alone: it takes the
options of ``bpcert load`` that shape the scenario, with the same defaults.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import random
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta

import simpy

from simulator.backend.schedule import occurrences
from simulator.scenario import Scenario, split_by_datacenter

__all__ = ["BaselineResult", "main", "run_baseline"]

#: A result of the bare model: (id, VM, policy code, created at, finished at or None,
#: expires at).
_Record = tuple[int, int, str, float, float | None, float]


@dataclass(frozen=True)
class BaselineResult:
    """What one run of the bare model did, and what it cost this process."""

    vms: int
    days: float
    check_delay_s: float
    datacenters: int
    backups: int
    checks: int
    results_listed: int
    sim_events: int
    wall_s: float
    cpu_s: float


def _fire_times(scenario: Scenario) -> dict[str, list[float]]:
    """Per policy code, the seconds since the start at which one of its backups is due."""
    start = scenario.start
    end = start + timedelta(seconds=scenario.duration)
    out: dict[str, list[float]] = {}
    for policy in scenario.policies:
        times: set[float] = set()
        for config in policy.configurations:
            times.update((t - start).total_seconds() for t in occurrences(config, start, end))
        out[policy.code] = sorted(times)
    return out


def _fleet(scenario: Scenario) -> tuple[dict[str, list[int]], list[float]]:
    """The deployed VMs of each policy code, and each VM's backup duration in seconds.

    Drawn with the scenario's seed: the policies from the policy mix, the disks from the
    fleet's disk counts and sizes.
    """
    fleet, system = scenario.fleet, scenario.backup_system
    rng = random.Random(scenario.seed)
    by_code: dict[str, list[int]] = {p.code: [] for p in scenario.policies}
    entries = [e.policies for e in fleet.policy_mix]
    weights = [e.weight for e in fleet.policy_mix]
    bytes_per_s = system.throughput_mb_per_s * 1e6
    durations: list[float] = []
    for vm in range(fleet.deployed_initially):
        disks = rng.randint(*fleet.disks_per_vm)
        size_gb = sum(rng.uniform(*fleet.disk_size_gb) for _ in range(disks))
        durations.append(max(system.min_backup_duration, size_gb * 1e9 / bytes_per_s))
        if entries:
            for code in rng.choices(entries, weights)[0]:
                by_code[code].append(vm)
    return by_code, durations


def run_baseline(scenario: Scenario) -> BaselineResult:
    """Run the bare model of ``scenario`` in this process and time it.

    With a backup manager per datacenter, each datacenter's model runs in turn, and the
    result adds up their counts and times.

    The cyclic garbage collector is off meanwhile: the model makes no garbage cycles,
    and the collector's walks over its million live records would be most of its time
    (the harness holds them off too, see ``simulator.world``).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        runs = [_run(part) for part in split_by_datacenter(scenario)]
    finally:
        if enabled:
            gc.enable()
    return BaselineResult(
        vms=scenario.fleet.vms,
        days=scenario.duration / 86400.0,
        check_delay_s=scenario.platform.check_delay,
        datacenters=len(runs),
        **{
            name: sum(getattr(r, name) for r in runs)
            for name in ("backups", "checks", "results_listed", "sim_events", "wall_s", "cpu_s")
        },
    )


def _run(scenario: Scenario) -> BaselineResult:
    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    env = simpy.Environment()
    retention = {p.code: p.retention for p in scenario.policies}
    vms_by_code, duration = _fleet(scenario)
    due: list[tuple[float, str]] = [
        (t, code) for code, times in _fire_times(scenario).items() for t in times
    ]
    heapq.heapify(due)
    stored: dict[int, _Record] = {}  # the backup system's results
    known: dict[int, _Record] = {}  # the platform's, as of its last check
    started: list[_Record] = []  # started since the last check
    finishing: list[tuple[float, int]] = []  # (finishes at, id), a heap
    # One queue per retention: records enter in creation order, so each expires in order.
    expiring: dict[float, deque[_Record]] = {r: deque() for r in set(retention.values())}
    counts = {"backups": 0, "checks": 0, "listed": 0, "events": 0}

    def calendar() -> simpy.events.ProcessGenerator:
        next_id = 0
        while due:
            at = due[0][0]
            yield env.timeout(at - env.now)
            counts["events"] += 1
            while due and due[0][0] == at:
                _, code = heapq.heappop(due)
                expires = at + retention[code]
                queue = expiring[retention[code]]
                for vm in vms_by_code[code]:
                    record = (next_id, vm, code, at, None, expires)
                    stored[next_id] = record
                    started.append(record)
                    heapq.heappush(finishing, (at + duration[vm], next_id))
                    queue.append(record)
                    next_id += 1
        counts["backups"] = next_id

    def check() -> simpy.events.ProcessGenerator:
        nonlocal started
        while True:
            now = env.now
            listed = {record[0]: record for record in started}
            started = []
            while finishing and finishing[0][0] <= now:
                finished_at, rid = heapq.heappop(finishing)
                record = stored.get(rid)
                if record is not None:
                    done = (rid, record[1], record[2], record[3], finished_at, record[5])
                    stored[rid] = done
                    listed[rid] = done
            known.update(listed)
            counts["listed"] += len(listed)
            for queue in expiring.values():
                while queue and queue[0][5] <= now:
                    gone = queue.popleft()[0]
                    stored.pop(gone, None)
                    known.pop(gone, None)
            counts["checks"] += 1
            yield env.timeout(scenario.platform.check_delay)
            counts["events"] += 1

    env.process(calendar())
    env.process(check())
    env.run(until=scenario.duration)
    return BaselineResult(
        vms=scenario.fleet.vms,
        days=scenario.duration / 86400.0,
        check_delay_s=scenario.platform.check_delay,
        datacenters=1,
        backups=counts["backups"],
        checks=counts["checks"],
        results_listed=counts["listed"],
        sim_events=counts["events"],
        wall_s=time.perf_counter() - wall0,
        cpu_s=time.process_time() - cpu0,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Time the bare model of the load template (or a scenario) and print it as JSON."""
    from conformance.load.template import build_load_scenario, scenario_for_load

    p = argparse.ArgumentParser(prog="python -m conformance.load.baseline", description=__doc__)
    fleet = p.add_mutually_exclusive_group(required=True)
    fleet.add_argument("--vms", type=int, help="fleet size of the load template")
    fleet.add_argument("--scenario", help="a built-in scenario or a YAML file instead")
    p.add_argument("--days", type=float, default=None, help="simulated days (default 1)")
    p.add_argument("--check-delay", type=float, default=None, help="seconds (default 600)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument(
        "--datacenters",
        type=int,
        default=None,
        help="with --vms: datacenters, each with its own backup manager (default: as "
        "bpcert load, one per 25,000 VMs)",
    )
    args = p.parse_args(argv)
    if args.vms is not None:
        scenario = build_load_scenario(
            args.vms,
            1.0 if args.days is None else args.days,
            check_delay_s=600.0 if args.check_delay is None else args.check_delay,
            seed=args.seed,
            datacenters=args.datacenters,
        )
    else:
        scenario = scenario_for_load(
            args.scenario, days=args.days, check_delay_s=args.check_delay, seed=args.seed
        )
    sys.stdout.write(json.dumps(asdict(run_baseline(scenario))) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
