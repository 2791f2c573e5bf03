"""Terminal output with rich: the end-of-run summary and a progress bar over simulated time.

:func:`print_summary` prints, per scenario, the tasks, the plugin calls per operation
with p50/p95 simulated latency, the checks, results seen, rejections and rollbacks; then
the rule table (:func:`verdict_table`), the causes shared by several rules' findings
(:func:`print_causes`) and the verdict line.

:class:`SimProgress` shows a progress bar over *simulated* time while a scenario runs,
when the console is a terminal and the run is not quiet; otherwise it prints nothing, so
CI logs and pipes stay clean.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reports.junit import failure_message
from reports.model import RunReport, ScenarioSummary

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["SimProgress", "print_causes", "print_summary", "scenario_table", "verdict_table"]

_STATUS_STYLE = {"pass": "green", "fail": "bold red", "skip": "dim", "error": "bold yellow"}
_VERDICT_STYLE = {
    "conformant": "bold green",
    "non-conformant": "bold red",
    "incomplete": "bold magenta",
    "interrupted": "bold yellow",
    "completed": "bold blue",
    "error": "bold yellow",
}


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.3g} ms"
    return f"{seconds:.3g} s"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


def scenario_table(scenario: ScenarioSummary) -> Table:
    """The numbers of one scenario: a header grid, then one row per operation."""
    s = scenario
    table = Table(
        title=f"Scenario {s.name} (seed {s.seed}, {s.vms} VMs, {s.duration_s:g} s simulated)",
        title_justify="left",
        show_edge=False,
    )
    table.add_column("operation")
    table.add_column("calls", justify="right")
    table.add_column("p50 (sim)", justify="right")
    table.add_column("p95 (sim)", justify="right")
    table.add_column("outcomes")
    for op in s.operations:
        table.add_row(
            op.op,
            str(op.calls),
            _ms(op.latency_s.p50),
            _ms(op.latency_s.p95),
            _counts(op.outcomes),
        )
    table.caption = (
        f"tasks: {_counts(s.tasks)} · checks: {s.checks_total} "
        f"({s.check_overruns} overruns) · results seen: {s.results_seen} · "
        f"rejections: {_counts(s.rejections)} · rollbacks: {s.rollbacks}"
    )
    table.caption_justify = "left"
    return table


def verdict_table(report: RunReport) -> Table:
    """The rule table: id, status, and the skip reason, error or first finding."""
    table = Table(title="Rules", title_justify="left", show_edge=False)
    # A rule id is never split: it is what a user copies into --rules or a search.
    widest = max((len(rule.id) for rule in report.rules), default=4)
    table.add_column("rule", no_wrap=True, min_width=widest)
    table.add_column("status", no_wrap=True)
    table.add_column("reason / first finding", overflow="fold", ratio=1)
    for rule in report.rules:
        note = failure_message(rule) if rule.status == "fail" else (rule.reason or "")
        label = f"{rule.id} (advisory)" if rule.advisory else rule.id
        status = (
            Text("not exercised", style="bold magenta")
            if rule.not_exercised
            else Text(rule.status, style=_STATUS_STYLE[rule.status])
        )
        table.add_row(label, status, note)
    return table


def print_causes(report: RunReport, console: Console) -> None:
    """The causes shared by several rules' findings, each led by its first finding."""
    if not report.causes:
        return
    console.print(
        Text("Causes (each explains the findings of several rules: fix it first)", style="bold")
    )
    for n, cause in enumerate(report.causes, 1):
        console.print(Text(f" {n}. {cause.headline()}", style="bold red"))
        console.print(Text(f"    rules: {cause.rules_text()}"))
        console.print(Text(f"    first ({cause.where()}): {cause.first.message}"))
        if cause.first.replay:
            console.print(Text(f"    replay: {cause.first.replay}", style="dim"))
    console.print()


def _verdict_line(report: RunReport) -> Text:
    c = report.counts()
    line = Text("verdict: ")
    line.append(report.verdict, style=_VERDICT_STYLE[report.verdict])
    line.append(
        f"  ({c['pass']} passed, {c['fail']} failed, {c['skip']} skipped, {c['error']} errors;"
        f" profile {report.profile}; seed {report.seed}; exit code {report.exit_code})"
    )
    if report.plugin.shared_process and report.rules:
        # Last, so that the counts before it read as they always did.
        line.append(" in-process, for development", style="yellow")
    return line


def print_summary(report: RunReport, console: Console) -> None:
    """Print the scenarios, the rule table and the verdict line to ``console``."""
    for scenario in report.scenarios:
        console.print(scenario_table(scenario))
        console.print()
    if report.rules:
        console.print(verdict_table(report))
        console.print()
    print_causes(report, console)
    console.print(_verdict_line(report))
    for note in report.notes:
        console.print(Text(note, style="yellow"))
    if report.verdict != "conformant":
        console.print(Text(f"replay: {report.replay}", style="dim"))


class SimProgress:
    """A progress bar over simulated time, silent unless the console is an interactive terminal.

    Use as a context manager; call :meth:`update` with the current simulated second and
    any counts to show (``tasks=..., calls=..., checks=...``). The bar is drawn only when
    ``console.is_terminal`` and not ``quiet``; otherwise every call is a cheap no-op.
    rich redraws at most 10 times a second, but callers on a hot path should still call
    :meth:`update` every so many events rather than on each one.
    """

    def __init__(self, console: Console, total_s: float, label: str, quiet: bool = False) -> None:
        if total_s < 0:
            raise ValueError(f"total_s must be >= 0 simulated seconds, got {total_s!r}")
        self.console = console
        self.total_s = float(total_s)
        self.label = label
        self.enabled = console.is_terminal and not quiet
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> SimProgress:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[sim]}"),
                TextColumn("{task.fields[counts]}", style="dim"),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(
                self.label, total=self.total_s or None, sim=self._sim(0.0), counts=""
            )
        return self

    def _sim(self, t_s: float) -> str:
        if self.total_s <= 2 * 3600:
            scale, unit = 60.0, "min"
        elif self.total_s <= 3 * 86400:
            scale, unit = 3600.0, "h"
        else:
            scale, unit = 86400.0, "days"
        return f"{t_s / scale:.1f}/{self.total_s / scale:.1f} {unit} simulated"

    def update(self, t_s: float, **counts: int) -> None:
        """Move the bar to simulated second ``t_s`` and show ``counts``."""
        if self._progress is None or self._task is None:
            return
        text = " ".join(f"{k}={v}" for k, v in counts.items())
        self._progress.update(
            self._task, completed=min(t_s, self.total_s), sim=self._sim(t_s), counts=text
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            if self._task is not None and exc_type is None:
                self._progress.update(
                    self._task, completed=self.total_s, sim=self._sim(self.total_s)
                )
            self._progress.stop()
            self._progress = None
            self._task = None
