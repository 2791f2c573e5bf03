"""What ``make bench`` measures, and the targets the figures are judged against.

Each :class:`Benchmark` is a built-in scenario (or ``bpcert load`` as typed, through a
``bpcert-load:`` name) that :mod:`conformance.load.bench` runs and measures; each
:class:`Target` is a line of the targets table that :mod:`conformance.load.bench_doc`
writes into ``docs/performance.md``. Add a benchmark or a target here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BASELINE",
    "BENCHMARKS",
    "LOAD_COMMAND",
    "TARGETS",
    "VERSUS",
    "Benchmark",
    "Target",
]

#: A benchmark scenario ``bpcert-load:N:D`` is what ``bpcert load --vms N --days D`` runs,
#: ``bpcert-load:N:D:K`` what it runs with ``--datacenters K``, and ``bpcert-load:N:D:K:P``
#: what it runs with ``--profile P`` as well.
LOAD_COMMAND = "bpcert-load:"

#: A measured name ``baseline:SCENARIO`` is the bare model of a benchmark's scenario.
BASELINE = "baseline:"


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: a built-in scenario, optionally shortened to ``days``.

    A scenario ``bpcert-load:N:D`` is the load template at N VMs for D days, with the
    defaults of ``bpcert load`` (measured latency), as that command builds it;
    ``bpcert-load:N:D:K`` adds ``--datacenters K``.
    """

    name: str
    scenario: str
    days: float | None = None
    what: str = ""


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("load-s", "load-s", None, "5,000 VMs x 7 days, check every 600 s"),
    Benchmark("fleet-10k", "fleet-10k", None, "10,000 VMs x 7 days, 1 s calls"),
    Benchmark("load-m", "load-m", None, "100,000 VMs x 30 days, check every 600 s"),
    Benchmark("load-l", "load-l", None, "1,000,000 VMs x 7 days, check every 600 s"),
    Benchmark(
        "load-cmd-100k",
        f"{LOAD_COMMAND}100000:30",
        None,
        "bpcert load --vms 100000 --days 30, as typed (the template; trace, report, plots)",
    ),
    Benchmark(
        "load-1dc-100k",
        f"{LOAD_COMMAND}100000:30:1",
        None,
        "bpcert load --vms 100000 --days 30 --datacenters 1: one backup manager's world",
    ),
    Benchmark(
        "load-1dc-100k-4.0.4",
        f"{LOAD_COMMAND}100000:30:1:abiquo-4.0.4",
        None,
        "the same with --profile abiquo-4.0.4 (load-1dc-100k runs the reference's newest, "
        "abiquo-6.0): the per-id check against listResults",
    ),
)

#: A target's field ``wall_vs:NAME`` is the benchmark's wall time over benchmark NAME's.
VERSUS = "wall_vs:"


@dataclass(frozen=True)
class Target:
    """A performance target and how to judge it from the results."""

    text: str
    bench: str
    field: str
    limit: float | None


TARGETS: tuple[Target, ...] = (
    Target("fleet-10k in < 30 s wall", "fleet-10k", "wall_s", 30.0),
    Target("load-m in <= 120 s wall", "load-m", "wall_s", 120.0),
    Target("load-m in <= 2 GB peak memory", "load-m", "peak_rss_mb", 2000.0),
    Target("bpcert load --vms 100000 --days 30 in <= 120 s wall", "load-cmd-100k", "wall_s", 120.0),
    Target(
        "bpcert load --vms 100000 --days 30 in <= 2 GB peak memory",
        "load-cmd-100k",
        "peak_rss_mb",
        2000.0,
    ),
    Target("load-l completes with bounded memory", "load-l", "completes", None),
    Target("<= 0.3 SimPy events per backup (load-m)", "load-m", "events_per_backup", 0.3),
    Target(
        "bpcert load --vms 100000 --days 30 --datacenters 1 in <= 3.0x the bare model's CPU",
        "load-1dc-100k",
        "cpu_ratio",
        3.0,
    ),
    Target(
        "the same under abiquo-6.0 in <= 1.5x the wall time of abiquo-4.0.4 (issue 20)",
        "load-1dc-100k",
        f"{VERSUS}load-1dc-100k-4.0.4",
        1.5,
    ),
)
