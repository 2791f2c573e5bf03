"""The ``bpcert load`` and ``bpcert sweep`` command lines: parsers, handlers, output.

:func:`add_load_parsers` registers both subcommands on the front door's parser;
:data:`LOAD_COMMANDS` maps their names to handlers. Options that both commands take
(duration, policy mix, latency) are declared once, in :func:`_load_options`, and
become :class:`~conformance.load.job.LoadJob` fields in :func:`_load_job` (load) and
:func:`_cmd_sweep` (sweep): an option of both, such as a contract profile, goes there.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import shlex
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from conformance.load.cluster import LOCAL, DaskCluster, parse_executor
from conformance.load.executors import WorkerDied, process_pool
from conformance.load.job import LoadJob, LoadResult
from conformance.load.plots import write_wall_growth_plot
from conformance.load.report import format_seconds, load_run_report, sweep_run_report
from conformance.load.run import run_load_job
from conformance.load.sweep import GROWTH_LIMIT, SweepInterrupted, run_sweep, sweep_jobs
from conformance.load.template import (
    DAY_S,
    MIX_EXAMPLE,
    VMS_PER_DATACENTER,
    LoadError,
    parse_policy_mix,
)
from conformance.run_dir import open_run_dir, write_run_report
from conformance.usage import add_max_wall, max_wall_s
from reports.model import RunReport

# WorkerDied is here for the front door, which reports it with exit code 3.
__all__ = ["LOAD_COMMANDS", "WorkerDied", "add_load_parsers"]

T = TypeVar("T")


def _usage(message: str) -> Exception:
    from conformance.usage import UsageError

    return UsageError(message)


def _parsed_list(
    text: str, flag: str, convert: Callable[[str], T], what: str, example: str
) -> list[T]:
    """A comma-separated list of ``flag`` values, or a usage error naming the bad part."""
    values: list[T] = []
    for part in text.split(","):
        try:
            values.append(convert(part.strip()))
        except ValueError:
            raise _usage(
                f"{flag} {text!r}: {part.strip()!r} is not {what}; "
                f"expected a comma-separated list, e.g. {flag} {example}"
            ) from None
    return values


def _int_list(text: str, flag: str) -> list[int]:
    return _parsed_list(text, flag, int, "a whole number", "1000,2000,4000")


def _float_list(text: str, flag: str) -> list[float]:
    return _parsed_list(text, flag, float, "a number of seconds", "300,600")


_MIX_HELP = (
    "which backups the VMs get: comma-separated TERM:WEIGHT entries, e.g. "
    f"'{MIX_EXAMPLE}' (the default is the template's 'night:0.85,night+hourly:0.1,none:0.05'). "
    "TERM is 'none' or '+'-joined parts: 'night' (one nightly backup, spread over "
    "22:00..02:00 UTC), 'hourly' (a snapshot every 4 hours) or a policy code of "
    "scenarios/load-s.yaml; weights are relative"
)


def _load_options(p: argparse.ArgumentParser, *, unset: bool = False) -> None:
    # unset: the defaults are None, so that `load` can tell which options were given
    # (the template's fleet options do not go with --scenario) and fill in the rest.
    p.add_argument(
        "--days",
        type=float,
        default=None if unset else 1.0,
        help="simulated days (default 1; with --scenario, the scenario's duration)",
    )
    p.add_argument("--policy-mix", default=None, help=_MIX_HELP)
    p.add_argument(
        "--latency",
        choices=("measured", "fixed"),
        default=None if unset else "measured",
        help="measured (default): a call's simulated duration is its wall time x "
        "--latency-factor, so a slow plugin makes long checks (not byte-reproducible); "
        "fixed: the template's 50 ms a call (reproducible)",
    )
    p.add_argument(
        "--latency-factor",
        type=float,
        default=None if unset else 1.0,
        help="measured latency: simulated seconds per wall second (default 1)",
    )


def _executor_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--executor",
        default=LOCAL,
        help=f"where the {what} run: 'local' (default), a process pool on this machine, or "
        "'dask://HOST:PORT', a task each on the Dask cluster whose scheduler is there "
        "(needs pip install 'bpcert[dask]', and bpcert and the plugin on the workers)",
    )


def add_load_parsers(sub: Any, common: Callable[..., None]) -> None:
    """Register the ``load`` and ``sweep`` subcommands on ``sub``."""
    load = sub.add_parser(
        "load",
        help="load-test polling at fleet scale (one fleet size)",
        description="Run the load template (scenarios/load-s.yaml) at the fleet size given "
        "(--vms), or a scenario as it stands (--scenario, e.g. load-m), and report check "
        "durations against the interval, results per check, freshness, Virtual Factory "
        "waits, call latency, peak memory and simulation speed. Exit code 1 when a check "
        "overran its interval, 2 when --max-wall stopped it first.",
    )
    common(load)
    fleet = load.add_mutually_exclusive_group(required=True)
    fleet.add_argument("--vms", type=int, help="fleet size (VMs) of the load template")
    fleet.add_argument(
        "--scenario",
        default=None,
        help="run this built-in scenario (load-s, load-m, load-l, ...) or YAML file as a "
        "load run instead of the template; it sets the fleet, datacenters, policies, "
        "workload and latency, and --days, --check-delay and --seed may change its own",
    )
    load.add_argument(
        "--datacenters",
        type=int,
        default=None,
        help="datacenters, each with its own backup manager, Virtual Factory and check "
        f"(default: one per {VMS_PER_DATACENTER:,} VMs); they share nothing, so they run "
        "in parallel",
    )
    load.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes simulating datacenters at once (default: the CPU count); "
        "0 runs them in this process",
    )
    _executor_option(load, "datacenters")
    load.add_argument(
        "--check-delay",
        type=float,
        default=None,
        help="seconds between the end of a check and the next (default 600; with "
        "--scenario, the scenario's)",
    )
    _load_options(load, unset=True)
    load.add_argument(
        "--trace-level",
        choices=("calls", "off"),
        default="calls",
        help="calls (default): write trace.jsonl without per-result lines; off: no trace",
    )
    add_max_wall(load, "every datacenter's simulation")

    sweep = sub.add_parser(
        "sweep",
        help="a grid of load runs in parallel, with the growth exponent of the check cost",
        description="Run load jobs for every fleet size x check delay x seed on a process pool "
        "and fit, per check delay, the exponent of the check cost (p95 of the check "
        f"durations) against the fleet size. Exit code 1 when it exceeds {GROWTH_LIMIT:g} "
        "(worse than linear) or a check overran, 2 when --max-wall stopped it first.",
    )
    common(sweep)
    sweep.add_argument(
        "--vms", required=True, help="fleet sizes, comma-separated, e.g. 1000,2000,4000"
    )
    sweep.add_argument(
        "--check-delays", default="600", help="check delays in seconds, comma-separated"
    )
    sweep.add_argument(
        "--seeds", default=None, help="seeds, comma-separated (default: --seed, or the template's)"
    )
    _load_options(sweep)
    sweep.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: the CPU count); 0 runs the jobs in this process",
    )
    _executor_option(sweep, "jobs")
    sweep.add_argument(
        "--limit",
        type=float,
        default=GROWTH_LIMIT,
        help=f"flag a growth exponent above this (default {GROWTH_LIMIT:g})",
    )
    add_max_wall(sweep, "the sweep (jobs running stop where they are, the rest never start)")


def _properties(args: argparse.Namespace) -> tuple[tuple[str, str], ...] | None:
    from conformance.usage import read_properties

    props = read_properties(args.properties)
    return None if props is None else tuple(sorted(props.items()))


def _check_mix(text: str | None) -> None:
    if text is not None:
        try:
            parse_policy_mix(text)
        except LoadError as exc:
            raise _usage(str(exc)) from None


#: Options that shape the load template; a scenario given with --scenario sets them itself.
_TEMPLATE_ONLY = ("policy_mix", "datacenters", "latency", "latency_factor")


def _load_job(args: argparse.Namespace) -> tuple[LoadJob, str]:
    """The job ``bpcert load`` was asked for, and its run id; usage errors raised."""
    settings: dict[str, Any] = {
        "isolation": args.isolation,
        "call_timeout_s": args.call_timeout,
        "properties": _properties(args),
        "trace_level": args.trace_level,
        "profile": args.profile,
        "properties_file": args.properties,
    }
    try:
        if args.scenario is not None:
            given = [name for name in _TEMPLATE_ONLY if getattr(args, name) is not None]
            if given:
                flags = ", ".join("--" + name.replace("_", "-") for name in given)
                raise LoadError(
                    f"{flags} shape{'s' if len(given) == 1 else ''} the load template and "
                    f"cannot go with --scenario: {args.scenario!r} sets "
                    f"{'it' if len(given) == 1 else 'them'} itself (edit a copy of its YAML "
                    "to change that)"
                )
            job = LoadJob.for_scenario(
                args.scenario,
                plugin=args.plugin,
                days=args.days,
                check_delay_s=args.check_delay,
                seed=args.seed,
                **settings,
            )
            run_id = f"load-{job.scenario().name}"
        else:
            _check_mix(args.policy_mix)
            job = LoadJob(
                plugin=args.plugin,
                vms=args.vms,
                days=1.0 if args.days is None else args.days,
                check_delay_s=600.0 if args.check_delay is None else args.check_delay,
                seed=args.seed,
                policy_mix=args.policy_mix,
                latency="measured" if args.latency is None else args.latency,
                latency_factor=1.0 if args.latency_factor is None else args.latency_factor,
                datacenters=args.datacenters,
                **settings,
            )
            job.scenario()  # refuses values that cannot make a scenario
            run_id = f"load-{args.vms}vms"
    except LoadError as exc:
        raise _usage(str(exc)) from None
    return job, run_id


def _cluster(args: argparse.Namespace, console: Any) -> DaskCluster | None:
    """The Dask cluster ``--executor`` names, connected, or None for ``local``.

    A malformed or unreachable address, or ``--workers`` beside a cluster, is a usage
    error.
    """
    if args.workers is not None and args.workers < 0:
        raise _usage(f"--workers must be 0 (run here) or more, got {args.workers}")
    try:
        address = parse_executor(args.executor)
        if address is None:
            return None
        if args.workers is not None:
            raise LoadError(
                "--workers sizes the local process pool; with --executor dask:// the "
                "cluster's workers run the tasks (leave --workers out)"
            )
        cluster = DaskCluster.connect(address)
    except LoadError as exc:
        raise _usage(str(exc)) from None
    if not args.quiet:
        console.print(
            f"executor: the Dask scheduler at {address}, {cluster.workers} workers",
            markup=False,
            highlight=False,
        )
    return cluster


def _check_profile(args: argparse.Namespace) -> None:
    """A profile the plugin does not declare, or an unknown one, is a usage error here,
    before any world runs."""
    if args.profile is None:
        return
    from conformance.runner import profile_of, resolve_plugin

    profile_of(resolve_plugin(args.plugin, isolation=args.isolation), args.profile)


def _print_load(report: RunReport, console: Any) -> None:
    from rich.table import Table

    load = report.load
    if load is None:
        return
    table = Table(title=f"bpcert {report.kind}: {report.plugin.spec}", title_justify="left")
    table.add_column("measure")
    table.add_column("value", overflow="fold")
    rpc = load.results_per_check
    rows = [
        ("fleet", f"{load.vms} VMs x {load.days:g} days, check every {load.check_delay_s:g} s"),
        ("check overruns", str(load.overruns)),
        (
            "results per check",
            f"p50 {rpc.p50 or 0:.0f}, p95 {rpc.p95 or 0:.0f}, max {rpc.max or 0:.0f}",
        ),
        (
            "freshness p50 / p95 / p99",
            " / ".join(
                format_seconds(v)
                for v in (load.freshness_p50_s, load.freshness_p95_s, load.freshness_p99_s)
            ),
        ),
        ("peak memory", f"{load.peak_memory_mb or 0:.0f} MB"),
        ("VM-days per wall second", f"{load.vm_days_per_wall_s or 0:.0f}"),
        (
            "SimPy events per backup",
            "n/a" if load.events_per_backup is None else f"{load.events_per_backup:.3f}",
        ),
    ]
    if report.kind == "sweep":
        rows.append(
            (
                "growth exponent",
                "n/a" if load.growth_exponent is None else f"{load.growth_exponent:.2f}",
            )
        )
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    for note in report.notes:
        console.print(f"  {note}", markup=False, highlight=False)
    if load.flagged:
        console.print(f"[bold red]flagged:[/] {load.flag_reason}", highlight=False)
    console.print(f"exit code {report.exit_code} · replay: {report.replay}", markup=False)


def _warm_up_plots() -> None:
    """Prepare matplotlib on a CPU the simulation no longer needs (about 0.7 s saved)."""
    from reports.plots import warm_up

    # Only a head start: drawing the plots meets, and reports, the same error.
    with contextlib.suppress(Exception):
        warm_up()


def _cmd_load(args: argparse.Namespace, console: Any) -> int:
    started = datetime.now(UTC)
    max_wall = max_wall_s(args)
    job, run_id = _load_job(args)
    _check_profile(args)
    cluster = _cluster(args, console)
    with open_run_dir(args.out, run_id) as run_dir:
        job = dataclasses.replace(job, trace_path=str(run_dir.path / "trace.jsonl"))
        return _run_load(args, console, job, run_dir.path, cluster, started, max_wall)


def _run_load(
    args: argparse.Namespace,
    console: Any,
    job: LoadJob,
    out: Path,
    cluster: DaskCluster | None,
    started: datetime,
    max_wall: float | None,
) -> int:
    """``bpcert load`` once its run directory is open: run, report, print."""
    from reports.terminal import SimProgress, scenario_table

    total = job.days * DAY_S
    deadline = None if max_wall is None else time.time() + max_wall

    def task_done(done: int, tasks: int) -> None:
        if not args.quiet:
            console.print(f"  datacenters done: {done}/{tasks}", markup=False, highlight=False)

    wall0 = time.perf_counter()
    with (
        cluster or contextlib.nullcontext(),
        SimProgress(console, total, f"load {job.vms} VMs", args.quiet) as bar,
    ):
        result = run_load_job(
            job,
            progress=bar.update,
            run_dir=out,
            workers=args.workers,
            on_idle_core=_warm_up_plots,
            cluster=cluster,
            on_task_done=task_done,
            deadline=deadline,
        )
    report = load_run_report(
        result, started=started, wall_s=time.perf_counter() - wall0, max_wall_s=max_wall
    )
    trace = job.trace_file()
    if result.datacenters > 1:
        trace = None  # one trace per datacenter, named in the summary
    paths = write_run_report(report, out, trace_path=trace)
    console.print(scenario_table(result.summary))
    _print_load(report, console)
    console.print(f"report: {paths.get('report.html', out)}", markup=False)
    return report.exit_code


def _sweep_replay(args: argparse.Namespace, job: LoadJob) -> str:
    """The ``bpcert sweep`` command that runs this sweep again, as it was launched."""
    from conformance.replay import launcher

    words = [*launcher(), "sweep", *job.replay_flags().args(), "--vms", args.vms]
    words += ["--check-delays", args.check_delays, "--days", f"{args.days:g}"]
    if args.seeds:
        words += ["--seeds", args.seeds]
    elif args.seed is not None:
        words += ["--seed", str(args.seed)]
    if args.policy_mix is not None:
        words += ["--policy-mix", args.policy_mix]
    if args.latency != "measured":
        words += ["--latency", args.latency]
    elif args.latency_factor != 1.0:
        words += ["--latency-factor", f"{args.latency_factor:g}"]
    if args.limit != GROWTH_LIMIT:
        words += ["--limit", f"{args.limit:g}"]
    return shlex.join(words)


def _cmd_sweep(args: argparse.Namespace, console: Any) -> int:
    _check_mix(args.policy_mix)
    max_wall = max_wall_s(args)
    sizes = _int_list(args.vms, "--vms")
    delays = _float_list(args.check_delays, "--check-delays")
    seeds: list[int | None] = list(_int_list(args.seeds, "--seeds")) if args.seeds else [args.seed]
    if not (math.isfinite(args.limit) and args.limit > 0):
        raise _usage(f"--limit must be a positive exponent, e.g. 1.3, got {args.limit}")
    try:
        jobs = sweep_jobs(
            args.plugin,
            vms=sizes,
            check_delays=delays,
            seeds=seeds,
            days=args.days,
            policy_mix=args.policy_mix,
            latency=args.latency,
            latency_factor=args.latency_factor,
            isolation=args.isolation,
            call_timeout_s=args.call_timeout,
            properties=_properties(args),
            properties_file=args.properties,
            profile=args.profile,
        )
        for job in jobs:
            job.scenario()
    except LoadError as exc:
        raise _usage(str(exc)) from None
    from conformance.runner import profile_of, resolve_plugin

    # A bad spec, or a profile the plugin does not declare, fails here, once.
    plugin = resolve_plugin(args.plugin, isolation=args.isolation)
    profile_of(plugin, args.profile)
    cluster = _cluster(args, console)
    kind = plugin.metadata.type if plugin.metadata is not None else "plugin"
    with open_run_dir(args.out, f"sweep-{kind}") as run_dir:
        return _run_sweep_jobs(args, console, jobs, cluster, run_dir.path, max_wall)


def _run_sweep_jobs(
    args: argparse.Namespace,
    console: Any,
    jobs: list[LoadJob],
    cluster: DaskCluster | None,
    out: Path,
    max_wall: float | None,
) -> int:
    """``bpcert sweep`` once its run directory is open: run the grid, report, print."""
    started = datetime.now(UTC)
    wall0 = time.perf_counter()
    deadline = None if max_wall is None else time.time() + max_wall
    done = 0
    failed: list[tuple[LoadJob, str]] = []
    interrupted: str | None = None  # a signal that stopped jobs in worker processes

    def say(text: str) -> None:
        nonlocal done
        done += 1
        if not args.quiet:
            console.print(f"  done {done}/{len(jobs)}: {text}", markup=False, highlight=False)

    def show(r: LoadResult) -> None:
        say(
            f"{r.job.vms} VMs, delay {r.job.check_delay_s:g} s, seed {r.seed}: "
            f"check p95 {format_seconds(r.check_p95_s)}, {r.overruns} overruns, "
            f"{r.wall_s:.1f} s"
        )

    def show_failure(job: LoadJob, error: str) -> None:
        failed.append((job, error))
        say(f"{job.vms} VMs, delay {job.check_delay_s:g} s, seed {job.seed}: FAILED: {error}")

    if cluster is not None:
        with cluster:
            results = run_sweep(
                jobs, cluster, on_result=show, on_failure=show_failure, deadline=deadline
            )
        if not results:
            raise WorkerDied(f"every sweep job's Dask task failed: {failed[0][1]}")
    elif args.workers == 0:
        results = run_sweep(jobs, None, on_result=show, deadline=deadline)
    else:
        with process_pool(args.workers) as pool:
            try:
                results = run_sweep(jobs, pool, on_result=show, deadline=deadline)
            except SweepInterrupted as exc:
                results, interrupted = exc.results, str(exc)
    # A job queued in a worker when the deadline passed stops before its first step.
    results = [r for r in results if r.stopped_at_s != 0.0] or results[:1]
    # Jobs are frozen values (results come back from other processes as copies).
    ran = {r.job for r in results} | {job for job, _ in failed}
    not_run = [job for job in jobs if job not in ran]
    report = sweep_run_report(
        results,
        started=started,
        wall_s=time.perf_counter() - wall0,
        replay=_sweep_replay(args, jobs[0]),
        limit=args.limit,
        failed=failed,
        not_run=not_run,
        max_wall_s=max_wall,
        interrupted=interrupted,
    )
    paths = write_run_report(report, out)
    wall_plot = write_wall_growth_plot(results, out)
    _print_load(report, console)
    if wall_plot is not None:
        console.print(f"wall-time growth: {wall_plot}", markup=False)
    console.print(f"report: {paths.get('report.html', out)}", markup=False)
    return report.exit_code


#: The subcommands this module adds to ``bpcert``: name -> handler(args, console).
LOAD_COMMANDS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "load": _cmd_load,
    "sweep": _cmd_sweep,
}
