"""What a vendor reads after a failing run: the terminal at 80 columns, the HTML, `report`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.exit_codes import ExitCode
from conformance.rules.registry import rules_for
from reports.model import load_report
from reports.plots import render_plots
from simulator.profiles import get_profile

ROOT = Path(__file__).resolve().parent.parent
MUTANT = "conformance.selftest.mutants:DuplicateIdsPlugin"


def _bpcert(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": str(columns)},
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A non-conformant check's run directory, and what it printed at 80 columns."""
    out = tmp_path_factory.mktemp("failing") / "run"
    result = _bpcert(
        *("check", "--plugin", MUTANT, "--scenario", "smoke", "--examples", "0"),
        *("--quiet", "--out", str(out)),
    )
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    return out, result.stdout


def test_at_80_columns_the_rule_table_never_splits_a_rule_id(
    failing_run: tuple[Path, str],
) -> None:
    out, printed = failing_run
    lines = printed.splitlines()
    assert all(len(line) <= 80 for line in lines)
    profile = json.loads((out / "report.json").read_text())["profile"]
    for rule in rules_for(get_profile(profile)):  # the run's profile's rules are listed
        assert any(rule.id in line for line in lines), rule.id


def test_report_html_shows_the_failures_first_with_their_evidence_open(
    failing_run: tuple[Path, str],
) -> None:
    out, _ = failing_run
    page = (out / "report.html").read_text()
    rows = re.findall(r'<tr id="rule-([^"]+)" class="rule s-row-(\w+)"', page)
    assert rows[0] == ("polling.unique-ids-per-answer", "fail")
    assert [status for _, status in rows].count("fail") == 1
    assert "<details open><summary>Evidence:" in page


def test_bpcert_report_of_a_non_conformant_run_exits_with_its_verdict(
    failing_run: tuple[Path, str],
) -> None:
    out, _ = failing_run
    result = _bpcert("report", str(out))
    assert result.returncode == ExitCode.FINDINGS, result.stdout + result.stderr
    assert "non-conformant" in result.stdout


def test_a_plot_with_nothing_to_show_is_left_out(failing_run: tuple[Path, str]) -> None:
    out, _ = failing_run
    plots = {p.stem for p in (out / "plots").glob("*.png")}
    # Every call of the smoke scenario takes exactly 1 simulated second: no latency CDF.
    assert "smoke-latency" not in plots
    assert {"smoke-checks", "smoke-results"} <= plots
    # Its Virtual Factory queue stays at 0: the queue panel is left out, lock waits stay.
    report = load_report(out / "report.json")
    smoke = report.scenarios[0]
    assert smoke.queue_depth and not any(v for _, v in smoke.queue_depth)
    queued = report.model_copy(
        update={"scenarios": [smoke.model_copy(update={"queue_depth": [(0.0, 0.0), (60.0, 2.0)]})]}
    )
    drawn = {p.name: p.png for p in render_plots(report, workers=1)}
    with_queue = {p.name: p.png for p in render_plots(queued, workers=1)}
    assert _png_height(drawn["smoke-vf"]) < _png_height(with_queue["smoke-vf"])


def _png_height(png: bytes) -> int:
    return int.from_bytes(png[20:24], "big")  # IHDR: width, then height


def test_the_timeline_plots_mark_where_findings_happened(failing_run: tuple[Path, str]) -> None:
    out, _ = failing_run
    report = load_report(out / "report.json")
    unmarked = report.model_copy(
        update={"rules": [r.model_copy(update={"findings": []}) for r in report.rules]}
    )
    marked = {p.name: p.png for p in render_plots(report, workers=1)}
    plain = {p.name: p.png for p in render_plots(unmarked, workers=1)}
    assert marked["smoke-checks"] != plain["smoke-checks"]
    assert marked["smoke-results"] != plain["smoke-results"]
