"""The ``bpcert`` command line.

Subcommands: ``run`` (one scenario), ``check`` (every built-in scenario and the
property-based suite, a verdict per rule), ``load`` and ``sweep`` (polling at fleet
scale), ``report`` (re-render a run directory), ``schema`` (the report's JSON Schema),
``plugins`` and ``scenarios`` (what is installed).

Exit codes (:class:`conformance.exit_codes.ExitCode`): 0 conformant or completed,
1 findings, 2 incomplete, 3 harness error, 4 usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from rich.console import Console

if TYPE_CHECKING:
    pass

from conformance.certify import CERTIFY_COMMANDS, add_certify_parsers
from conformance.exit_codes import ExitCode
from conformance.load import commands as load
from conformance.progress import progress_for as _progress_for
from conformance.run_dir import RunDir, open_run_dir, write_run_report
from conformance.usage import UsageError, add_max_wall, max_wall_s, read_properties
from simulator.bridge.loader import PluginSpecError, installed_plugins
from simulator.interrupts import harness_interrupts
from simulator.profiles import NEWEST, PROFILES, ContractProfile, ProfileError, get_profile
from simulator.scenario import ScenarioError, builtin_scenarios
from simulator.trace import OutputError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit with :data:`ExitCode.USAGE`."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(int(ExitCode.USAGE), f"{self.prog}: error: {message}\n")


def _common(p: argparse.ArgumentParser, *, plugin_default: str | None = "reference") -> None:
    p.add_argument(
        "--plugin",
        default=plugin_default,
        help="an installed plugin name, module:Class, or 'exec:COMMAND' (default: reference)",
    )
    p.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    p.add_argument("--out", type=Path, default=None, help="the run directory (default out/<id>)")
    p.add_argument(
        "--isolation",
        choices=("in-process", "process"),
        default="in-process",
        help="serve a Python plugin from a child process (default in-process)",
    )
    p.add_argument("--properties", default=None, help="the plugin's properties file")
    p.add_argument(
        "--call-timeout",
        type=float,
        default=10.0,
        help="wall seconds a plugin call may take before it is indeterminate (default 10)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the verdict")
    p.add_argument(
        "--profile",
        default=None,
        metavar="PROFILE",
        help="the contract profile to run: abiquo-4.0.4, abiquo-4.7 or abiquo-6.0 (default: "
        "the newest the plugin declares; see `bpcert profiles`)",
    )


def _run_dir(args: argparse.Namespace, run_id: str) -> RunDir:
    """``--out``, or a fresh default directory for this run (``out/latest`` points at it)."""
    max_wall_s(args)
    return open_run_dir(args.out, run_id)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bpcert",
        description="Simulation and conformance harness for Abiquo backup plugins.",
        epilog=(
            "Exit codes: 0 ok, 1 findings, 2 incomplete, 3 harness error, 4 usage error, "
            "130 interrupted."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="run one scenario against a plugin",
        description="Run one scenario and judge every rule it exercises. The rules it does "
        "not exercise are named; with no finding the verdict is then 'completed' (exit 0), "
        "'conformant' only if it exercised every rule. `bpcert check` runs the scenarios "
        "that exercise them all, and is 'incomplete' (exit 2) if a rule still is not.",
    )
    run.add_argument("scenario", help="a built-in scenario name or a YAML file")
    _common(run)
    run.add_argument(
        "--trace-level", choices=("full", "calls", "off"), default="full", help="trace detail"
    )
    run.add_argument(
        "--trace-wall-time",
        action="store_true",
        help="write measured wall_ms into the trace (the trace is then not reproducible)",
    )
    add_max_wall(run)

    check = sub.add_parser("check", help="judge a plugin against every rule")
    _common(check)
    check.add_argument("--rules", action="append", default=[], help="only rules matching GLOB")
    check.add_argument("--skip", action="append", default=[], help="skip rules matching GLOB")
    check.add_argument(
        "--examples", type=int, default=10, help="property-based examples (default 10, 0 = none)"
    )
    check.add_argument(
        "--scenario",
        action="append",
        default=[],
        help="run these scenarios instead of the default set (repeatable)",
    )
    check.add_argument(
        "--rerun-failed",
        type=Path,
        default=None,
        metavar="REPORT",
        help="rerun only the failed rules of this report.json, in the scenarios (and "
        "examples) where they failed, with that run's own flags",
    )
    add_max_wall(check)

    report = sub.add_parser("report", help="render a run directory again from report.json")
    report.add_argument("run_dir", type=Path)

    sub.add_parser("schema", help="print the JSON Schema of report.json")
    rules = sub.add_parser("rules", help="list every rule id with its statement")
    rules.add_argument("--markdown", action="store_true", help="print docs/rules.md")
    rules.add_argument(
        "--profile", default=None, metavar="PROFILE", help="only the rules of this profile"
    )
    sub.add_parser("profiles", help="list the contract profiles (Abiquo generations)")
    sub.add_parser("plugins", help="list the installed plugins")
    sub.add_parser("scenarios", help="list the built-in scenarios")

    load.add_load_parsers(sub, _common)
    add_certify_parsers(sub)
    return parser


def _console() -> Console:
    """Standard output; ``--quiet`` only drops the progress bar, never the verdict."""
    return Console(highlight=False, soft_wrap=False)


def _cmd_run(args: argparse.Namespace, console: Console) -> int:
    from conformance.runner import resolve_plugin, run
    from reports.terminal import print_summary

    plugin = resolve_plugin(args.plugin, isolation=args.isolation, call_timeout_s=args.call_timeout)
    from conformance.runner import run_id
    from simulator.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    with _run_dir(args, run_id("run", plugin, [scenario.name], args.seed)) as run_dir:
        out = run_dir.path
        report = run(
            plugin,
            scenarios=[args.scenario],
            seed=args.seed,
            out=out,
            properties=read_properties(args.properties),
            properties_file=args.properties,
            call_timeout_s=args.call_timeout,
            kind="run",
            progress=_progress_for(console, args.quiet),
            trace_level=args.trace_level,
            trace_wall_time=args.trace_wall_time,
            max_wall_s=args.max_wall,
            profile=args.profile,
        )
        paths = write_run_report(report, out, trace_path=out / "trace.jsonl")
    print_summary(report, console)
    console.print(f"report: {paths.get('report.html', out)}")
    return report.exit_code


def _cmd_check(args: argparse.Namespace, console: Console) -> int:
    from conformance.check import CheckRequest, run_check
    from conformance.runner import resolve_plugin, run_id
    from reports.terminal import print_summary

    if args.rerun_failed is not None:
        from conformance.rerun import plan_rerun

        plan = plan_rerun(args.rerun_failed, _build_parser().parse_args)
        console.print(plan.describe(args.rerun_failed), markup=False)
        request = plan.request
        plugin = resolve_plugin(
            request.plugin, isolation=request.isolation, call_timeout_s=request.call_timeout_s
        )
    else:
        plugin = resolve_plugin(
            args.plugin, isolation=args.isolation, call_timeout_s=args.call_timeout
        )
        request = CheckRequest.from_args(args, plugin)
    with _run_dir(args, run_id("check", plugin, [], request.seed)) as run_dir:
        out = run_dir.path
        report = run_check(
            request,
            out=out,
            plugin=plugin,
            progress=_progress_for(console, args.quiet),
            max_wall_s=args.max_wall,
        )
        write_run_report(report, out)
    print_summary(report, console)
    console.print(f"report: {out / 'report.html'}")
    return report.exit_code


def _cmd_report(args: argparse.Namespace, console: Console) -> int:
    from reports.model import ReportError, load_report
    from reports.render import REPORT_FILE, render_run_dir

    try:
        paths = render_run_dir(args.run_dir)
        report = load_report(paths[REPORT_FILE])
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    for name, path in sorted(paths.items()):
        console.print(f"{name}: {path}")
    # The run's own verdict: a CI step that re-renders a failing run still fails.
    console.print(f"verdict: {report.verdict} (exit code {report.exit_code})", markup=False)
    return report.exit_code


def _cmd_schema(args: argparse.Namespace, console: Console) -> int:
    from reports.schema import report_json_schema

    sys.stdout.write(json.dumps(report_json_schema(), indent=2) + "\n")
    return int(ExitCode.OK)


def _cmd_rules(args: argparse.Namespace, console: Console) -> int:
    from conformance.rules import RULES, rules_markdown
    from conformance.rules.registry import rules_for

    if args.markdown:
        sys.stdout.write(rules_markdown())
        return int(ExitCode.OK)
    rules = RULES if args.profile is None else tuple(rules_for(_known_profile(args.profile)))
    for rule in rules:
        sys.stdout.write(f"{rule.id}\t{rule.statement}\n")
    return int(ExitCode.OK)


def _known_profile(profile_id: str) -> ContractProfile:
    try:
        return get_profile(profile_id)
    except ProfileError as exc:
        raise UsageError(str(exc)) from None


def _cmd_profiles(args: argparse.Namespace, console: Console) -> int:
    for profile in PROFILES.values():
        newest = " (newest)" if profile is NEWEST else ""
        sys.stdout.write(f"{profile.id}\tAbiquo {profile.releases}{newest}\t{profile.summary}\n")
    return int(ExitCode.OK)


def _cmd_plugins(args: argparse.Namespace, console: Console) -> int:
    for name, target in installed_plugins().items():
        console.print(f"{name}\t{target}")
    return int(ExitCode.OK)


def _cmd_scenarios(args: argparse.Namespace, console: Console) -> int:
    for name, path in builtin_scenarios().items():
        console.print(f"{name}\t{path}")
    return int(ExitCode.OK)


_COMMANDS: dict[str, Callable[[argparse.Namespace, Console], int]] = {
    "run": _cmd_run,
    "check": _cmd_check,
    "report": _cmd_report,
    "schema": _cmd_schema,
    "rules": _cmd_rules,
    "profiles": _cmd_profiles,
    "plugins": _cmd_plugins,
    "scenarios": _cmd_scenarios,
}


def _tolerate_unencodable_output() -> None:
    """Print what the terminal cannot encode as an escape instead of failing on it.

    A plugin's message can hold a lone surrogate (bytes decoded with
    ``surrogateescape``); on a strict UTF-8 terminal printing it would end the run with
    a traceback after the reports were written.
    """
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            # A stream that cannot change now is left as it is.
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bpcert`` with ``argv``; return the exit code (see :class:`ExitCode`)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    _tolerate_unencodable_output()
    console = _console()
    # soft_wrap: an error names files, and a path broken across lines cannot be copied.
    err = Console(stderr=True, highlight=False, soft_wrap=True)

    commands: dict[str, Callable[[argparse.Namespace, Console], int]] = {
        **_COMMANDS,
        **load.LOAD_COMMANDS,
        **CERTIFY_COMMANDS,
    }
    try:
        # SIGINT and SIGTERM end the run as Ctrl-C does; a KeyboardInterrupt the plugin
        # raises itself is the plugin's (simulator.interrupts).
        with harness_interrupts(sigterm=True):
            return commands[args.command](args, console)
    except (UsageError, PluginSpecError, ScenarioError, ProfileError) as exc:
        err.print(f"bpcert {args.command}: error: {exc}", markup=False)
        return int(ExitCode.USAGE)
    except OutputError as exc:
        err.print(f"bpcert {args.command}: error: {exc}", markup=False)
        return int(ExitCode.USAGE)
    except load.WorkerDied as exc:
        err.print(f"bpcert {args.command}: error: {exc}", markup=False)
        return int(ExitCode.HARNESS_ERROR)
    except KeyboardInterrupt:
        err.print("bpcert: interrupted", markup=False)
        return int(ExitCode.INTERRUPTED)
    except Exception:  # noqa: BLE001 - a harness bug: reported with its traceback
        err.print(
            "bpcert: internal error (a bug in bpcert, not in your plugin). Please report it "
            "with this traceback:",
            markup=False,
        )
        err.print(traceback.format_exc(), markup=False)
        return int(ExitCode.HARNESS_ERROR)
