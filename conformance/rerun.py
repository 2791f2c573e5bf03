"""``bpcert check --rerun-failed REPORT``: run again only what failed, with the run's own flags.

The run's flags come from its report's ``replay`` line (exact since replays carry every
flag that changed the outcome), read by bpcert's own argument parser. The rerun keeps
the failed rules only (``--rules`` with their ids), the scenarios where their findings
happened, and the property-based examples only when a failed rule's findings came from
them. A report with nothing failed has nothing to rerun: a usage error, not a pass.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from conformance.check import CheckRequest
from conformance.runner import DEFAULT_SCENARIOS
from conformance.usage import UsageError
from reports.model import ReportError, RunReport, load_report
from simulator.scenario import load_scenario

__all__ = ["RerunPlan", "plan_rerun"]

#: The scenario name of findings made by the property-based suite.
_PROPERTY_SCENARIOS = frozenset({"property-based", "property-failure"})


@dataclass(frozen=True)
class RerunPlan:
    """What ``--rerun-failed`` runs, and the sentence that says so."""

    request: CheckRequest
    failed: tuple[str, ...]
    scenarios: tuple[str, ...]
    examples: int

    def describe(self, report_path: Path) -> str:
        """``rerunning 2 failed rules (a, b) in smoke, outage ...`` for the terminal."""
        where = ", ".join(self.scenarios) or "no scenario"
        examples = f" and {self.examples} property-based examples" if self.examples else ""
        return (
            f"rerunning {len(self.failed)} failed rule(s) of {report_path} "
            f"({', '.join(self.failed)}) in {where}{examples}, with the run's own flags"
        )


def _check_words(replay: str, source: Path) -> list[str]:
    words = shlex.split(replay)
    if "check" not in words:
        raise UsageError(
            f"{source}: --rerun-failed takes the report.json of a `bpcert check` run; this "
            f"one was made by {replay!r}"
        )
    return words[words.index("check") :]


def plan_rerun(report_path: Path, parse: Callable[[list[str]], argparse.Namespace]) -> RerunPlan:
    """The rerun of ``report_path``'s failed rules; ``parse`` is bpcert's argument parser.

    Raises :class:`UsageError` for a report that cannot be read, that is not a check's,
    or in which nothing failed.
    """
    try:
        report: RunReport = load_report(report_path)
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    failed = [r for r in report.rules if r.status == "fail"]
    if not failed:
        raise UsageError(
            f"{report_path}: no rule failed in that run ({report.verdict}); nothing to rerun"
        )
    args = parse(_check_words(report.replay, report_path))
    base = CheckRequest(
        plugin=args.plugin,
        isolation=args.isolation,
        properties_file=args.properties,
        call_timeout_s=args.call_timeout,
        seed=args.seed,
        examples=args.examples,
        profile=getattr(args, "profile", None),
    )
    found_in = {f.scenario for r in failed for f in r.findings if f.scenario}
    # A finding names its scenario; the run named it by a built-in name or a file.
    refs = list(args.scenario) or list(DEFAULT_SCENARIOS)
    scenarios = tuple(ref for ref in refs if load_scenario(ref).name in found_in)
    examples = base.examples if found_in & _PROPERTY_SCENARIOS else 0
    ids = tuple(r.id for r in failed)
    request = replace(base, scenarios=scenarios, examples=examples, rules=ids, skip=())
    return RerunPlan(request=request, failed=ids, scenarios=scenarios, examples=examples)
