"""Write every report file of a run directory, or re-render them from ``report.json``.

A run directory holds::

    report.json    the report model (the source of everything else)
    junit.xml      one test case per rule, for CI servers
    report.html    one self-contained page with evidence and plots
    summary.md     a short summary for a pull-request comment
    plots/*.png    the plots embedded in report.html, as files

:func:`write_report` is what a run calls; :func:`render_run_dir` is what
``bpcert report RUN_DIR`` calls to rebuild the derived files from ``report.json`` (for
example after upgrading bpcert, or after copying only ``report.json`` out of CI).
Neither runs a simulation.
"""

from __future__ import annotations

from pathlib import Path

from reports.html import write_html
from reports.json_writer import write_json
from reports.junit import write_junit
from reports.markdown import write_markdown
from reports.model import ReportError, RunReport, load_report
from reports.plots import render_plots, write_plots

__all__ = ["REPORT_FILE", "render_run_dir", "write_report"]

#: The file a run directory is re-rendered from.
REPORT_FILE = "report.json"


def _write_derived(
    report: RunReport, out_dir: Path, *, plots_wanted: bool = True
) -> dict[str, Path]:
    plots = render_plots(report) if plots_wanted else []
    written = {
        "junit.xml": write_junit(report, out_dir / "junit.xml"),
        "report.html": write_html(report, out_dir / "report.html", plots),
        "summary.md": write_markdown(report, out_dir / "summary.md"),
    }
    plots_dir = out_dir / "plots"
    paths = write_plots(report, plots_dir, plots)
    keep = {p.name for p in paths.values()}
    if plots_dir.is_dir():
        # A re-render must not leave plots of an older report next to the new ones.
        for old in sorted(plots_dir.glob("*.png")):
            if old.name not in keep:
                old.unlink()
    for plot in plots:
        written[f"plots/{plot.filename}"] = paths[plot.name]
    return written


def write_report(
    report: RunReport, out_dir: Path, *, trace_path: Path | None = None, plots: bool = True
) -> dict[str, Path]:
    """Write all report files of ``report`` into ``out_dir`` (created if needed).

    ``plots=False`` leaves the plots out (an interrupted run has seconds to end in;
    ``bpcert report`` draws them later).

    Returns ``{relative name: path}`` for every file written, e.g. ``"report.json"``,
    ``"plots/smoke-latency.png"``, plus ``"trace"`` when ``trace_path`` is given (the
    trace is written by the run, not here; it is listed so callers can show one map).
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"{out_dir}: cannot create the output directory ({exc})") from exc
    written = {REPORT_FILE: write_json(report, out_dir / REPORT_FILE)}
    written.update(_write_derived(report, out_dir, plots_wanted=plots))
    if trace_path is not None:
        written["trace"] = trace_path
    return written


def render_run_dir(run_dir: Path) -> dict[str, Path]:
    """Re-render the derived files of ``run_dir`` from its ``report.json``.

    ``run_dir`` may also be the ``report.json`` file itself. ``report.json`` is read, not
    rewritten. Raises :class:`~reports.model.ReportError` naming the file and the problem
    when it is missing or not a valid report.
    """
    if run_dir.is_file():
        source, out_dir = run_dir, run_dir.parent
    elif run_dir.is_dir():
        source, out_dir = run_dir / REPORT_FILE, run_dir
    else:
        raise ReportError(
            f"{run_dir}: no such run directory; pass the --out directory of a bpcert run "
            f"(it holds {REPORT_FILE})"
        )
    report = load_report(source)
    written = {REPORT_FILE: source}
    written.update(_write_derived(report, out_dir))
    return written
