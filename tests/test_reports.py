"""The report writers: JSON (schema, determinism), JUnit XML, HTML, Markdown, plots, terminal.

Reports are built by hand here: ``reports`` never runs a simulation, so neither do
these tests.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from rich.console import Console

from reports.html import render_html
from reports.junit import JUNIT_XSD, junit_xml
from reports.markdown import summary_markdown
from reports.model import (
    SCHEMA_VERSION,
    CheckSample,
    Finding,
    GrowthPoint,
    HistogramData,
    LoadMetrics,
    OperationStats,
    PluginInfo,
    ReportError,
    RuleResult,
    RunReport,
    ScenarioSummary,
    ToolInfo,
    from_json,
    to_json,
)
from reports.plots import Plot, render_plots
from reports.render import render_run_dir, write_report
from reports.schema import WALL_TIME_FIELDS, report_json_schema, strip_wall_time
from reports.terminal import SimProgress, print_summary
from simulator.metrics import StreamingHistogram

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REPLAY = "bpcert run smoke --plugin reference --seed 42"
# Text that must never become markup or a resource reference in any writer.
HOSTILE = '<script>alert("x")</script> & <img src="https://evil.example/x.png"> \x01'


# ---------------------------------------------------------------------- builders


def _hist(values: list[float]) -> HistogramData:
    h = StreamingHistogram()
    for v in values:
        h.add(v)
    return HistogramData.from_histogram(h)


def _scenario(name: str = "smoke", *, wall: float = 1.25) -> ScenarioSummary:
    interval = 300.0
    checks = []
    for i in range(48):
        start = i * interval
        duration = 420.0 if i in (10, 11) else 20.0 + (i % 5)
        checks.append(
            CheckSample(
                start=start,
                end=start + duration,
                duration=duration,
                results=3 + i % 4,
                expired=1 if i % 12 == 0 else 0,
                ok=i != 30,
            )
        )
    ops = [
        OperationStats(
            op="listResults",
            calls=48,
            outcomes={"ok": 47, "error": 1},
            latency_s=_hist([0.05 + 0.01 * (i % 7) for i in range(48)]),
            wall_ms=_hist([0.3 + 0.01 * i for i in range(48)]),
        ),
        OperationStats(
            op="applySchedule",
            calls=12,
            outcomes={"ok": 12},
            latency_s=_hist([0.2 + 0.05 * i for i in range(12)]),
            wall_ms=_hist([0.5] * 12),
        ),
    ]
    return ScenarioSummary(
        name=name,
        seed=42,
        duration_s=48 * interval,
        vms=25,
        check_delay_s=interval,
        tasks={"schedule": 12, "backup": 30},
        rejections={"BC-4": 2},
        rollbacks=1,
        events={"BACKUP_COMPLETED": 30},
        checks=checks,
        checks_total=48,
        check_overruns=2,
        results_seen=200,
        operations=ops,
        freshness_s=_hist([30.0 + 10 * (i % 9) for i in range(30)]),
        queue_depth=[(i * 600.0, float(i % 6)) for i in range(24)],
        lock_wait_s=[(i * 600.0, 0.5 * (i % 3)) for i in range(24)],
        lock_wait_hist=_hist([0.5 * (i % 3) for i in range(24)]),
        outages=[(3000.0, 3900.0)],
        trace_file="trace.jsonl",
        wall_seconds=wall,
        sim_events=12345,
        backups_taken=30,
    )


def _plugin() -> PluginInfo:
    return PluginInfo(
        spec="reference",
        type="reference",
        friendly_name="Reference plugin",
        version="1.0",
        supported_versions=["4.0.4", "4.5"],
        connection_metadata={"password": "secret field", "endpoint": "https://backup.invalid"},
        unsupported_operations=["executeRestore"],
    )


def _report(**kw: object) -> RunReport:
    base: dict[str, object] = {
        "tool": ToolInfo(version="0.1.0"),
        "kind": "run",
        "run_id": "smoke-42",
        "created_at": "2026-01-05T10:00:00+00:00",
        "wall_seconds": 2.5,
        "plugin": _plugin(),
        "seed": 42,
        "replay": REPLAY,
        "verdict": "conformant",
        "exit_code": 0,
        "rules": [
            RuleResult(
                id="polling.no-lost-results",
                statement="Every result appears in some poll.",
                category="polling",
                status="pass",
            ),
            RuleResult(
                id="restore.reported",
                statement="A restore is reported inside its backup.",
                category="restore",
                status="skip",
                reason="plugin declares executeRestore unsupported",
            ),
        ],
        "scenarios": [_scenario()],
    }
    base.update(kw)
    return RunReport.model_validate(base)


def _failing_rule() -> RuleResult:
    findings = [
        Finding(
            rule_id="polling.no-duplicates",
            message=f"result r-{i} returned twice in one window",
            expected="each provider id at most once per listResults",
            actual=f"r-{i} at positions 3 and 7 {HOSTILE}",
            at=3600.0 + i,
            scenario="smoke",
            evidence=[
                {"seq": 10 + i, "op": "listResults", "args": {"since": "10:00"}, "result": 8},
                {"seq": 11 + i, "op": "listResults", "note": HOSTILE},
            ],
            replay=f"bpcert run smoke --plugin reference --seed 42 --until {3600 + i}",
        )
        for i in range(3)
    ]
    return RuleResult(
        id="polling.no-duplicates",
        statement="A poll never returns the same result twice.",
        category="polling",
        status="fail",
        findings=findings,
        findings_total=7,
    )


def _failing_report() -> RunReport:
    rules = [
        *_report().rules,
        _failing_rule(),
        RuleResult(
            id="schedule.applied",
            statement="An applied schedule fires at its times.",
            category="schedule",
            status="error",
            reason="harness bug: KeyError 'vm-3'",
        ),
    ]
    return _report(verdict="non-conformant", exit_code=1, rules=rules, notes=[HOSTILE])


def _load_report() -> RunReport:
    load = LoadMetrics(
        vms=10000,
        days=7,
        check_delay_s=300,
        overruns=4,
        results_per_check=_hist([float(100 + i % 50) for i in range(200)]),
        freshness_p50_s=40.0,
        freshness_p95_s=250.5,
        freshness_p99_s=290.0,
        peak_memory_mb=512.3,
        vm_days_per_wall_s=1234.5,
        events_per_backup=3.2,
        growth=[GrowthPoint(vms=n, check_cost_s=0.001 * n**1.1) for n in (100, 1000, 10000)],
        growth_exponent=1.1,
        flagged=True,
        flag_reason="check cost grows faster than linearly",
    )
    return _report(kind="load", verdict="completed", load=load)


REPORTS = {
    "conformant": _report,
    "non-conformant": _failing_report,
    "load": _load_report,
}


@pytest.fixture(params=sorted(REPORTS))
def any_report(request: pytest.FixtureRequest) -> RunReport:
    return REPORTS[request.param]()


# ---------------------------------------------------------------------- report.json


def test_report_json_validates_against_its_schema(any_report: RunReport) -> None:
    schema = report_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(to_json(any_report)), schema)
    assert schema["$id"].endswith(SCHEMA_VERSION)


def test_schema_rejects_a_typo_and_marks_wall_time_fields() -> None:
    data = json.loads(to_json(_report()))
    data["verdictt"] = "conformant"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, report_json_schema())
    text = json.dumps(report_json_schema())
    assert text.count('"x-wall-time": true') == len(WALL_TIME_FIELDS)
    assert WALL_TIME_FIELDS == [
        "created_at",
        "wall_seconds",
        "scenarios[].operations[].wall_ms",
        "scenarios[].wall_seconds",
        "load.peak_memory_mb",
        "load.vm_days_per_wall_s",
        "load.memory_by_day_mb",
    ]


def test_json_round_trip_and_identical_bytes(any_report: RunReport) -> None:
    text = to_json(any_report)
    again = from_json(text)
    assert to_json(again) == text
    assert to_json(any_report) == text
    assert again.counts() == any_report.counts()


def test_floats_are_rounded_and_counters_sorted() -> None:
    s = _scenario()
    s.duration_s = 1 / 3
    s.tasks = {"zeta": 1, "alpha": 2}
    text = to_json(_report(scenarios=[s]))
    assert '"duration_s": 0.333333' in text
    data = json.loads(text)
    assert list(data["scenarios"][0]["tasks"]) == ["alpha", "zeta"]


def test_report_json_refuses_a_number_json_cannot_hold() -> None:
    # The models refuse one; a copy made without validation can still carry it.
    report = _report().model_copy(update={"wall_seconds": float("nan")})
    with pytest.raises(ValueError, match="cannot hold nan"):
        to_json(report)


def test_report_json_has_the_indented_layout_of_the_json_module(any_report: RunReport) -> None:
    text = to_json(any_report)
    reference = json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    # The same lines, indentation and keys; only the spelling of a number may differ.
    number = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
    assert number.sub("N", text) == number.sub("N", reference)


def test_strip_wall_time_makes_two_runs_comparable() -> None:
    a = json.loads(to_json(_load_report()))
    other = _load_report()
    other.created_at = "2026-02-01T00:00:00+00:00"
    other.wall_seconds = 99.0
    other.scenarios = [_scenario(wall=7.0)]
    other.scenarios[0].operations[0].wall_ms = _hist([9.0])
    assert other.load is not None
    other.load.peak_memory_mb = 1.0
    b = json.loads(to_json(other))
    assert a != b
    assert strip_wall_time(a) == strip_wall_time(b)
    stripped = strip_wall_time(a)
    assert "created_at" not in stripped and "wall_seconds" not in stripped
    assert "wall_ms" not in stripped["scenarios"][0]["operations"][0]
    assert "peak_memory_mb" not in stripped["load"]
    assert "created_at" in a  # the input is left alone
    # A change that is not wall time still shows.
    other.seed = 43
    assert strip_wall_time(a) != strip_wall_time(json.loads(to_json(other)))


def test_model_rejects_nan_and_unknown_major_version() -> None:
    with pytest.raises(ValueError, match="finite"):
        HistogramData(sum=float("nan"))
    data = json.loads(to_json(_report()))
    data["schema_version"] = "2.0"
    with pytest.raises(ReportError, match=r"schema_version '2.0' is not supported"):
        from_json(json.dumps(data), source="x/report.json")


# ---------------------------------------------------------------------- junit.xml


def _junit_tree(report: RunReport) -> ET.Element:
    text = junit_xml(report)
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(text)
    return ET.fromstring(text.encode("utf-8"))


def test_junit_validates_and_counts_are_right(any_report: RunReport) -> None:
    root = _junit_tree(any_report)
    assert root.tag == "testsuites"
    cases = root.findall("testsuite/testcase")
    counts = any_report.counts()
    assert len(cases) == len(any_report.rules)
    assert int(root.get("tests", "-1")) == len(any_report.rules)
    assert int(root.get("failures", "-1")) == counts["fail"]
    assert int(root.get("errors", "-1")) == counts["error"]
    for suite in root.findall("testsuite"):
        suite_cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(suite_cases)
        assert int(suite.get("failures", "-1")) == len(
            [c for c in suite_cases if c.find("failure") is not None]
        )
        assert int(suite.get("errors", "-1")) == len(
            [c for c in suite_cases if c.find("error") is not None]
        )
        assert int(suite.get("skipped", "-1")) == len(
            [c for c in suite_cases if c.find("skipped") is not None]
        )
        props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
        assert props["seed"] == "42"
        assert props["plugin"] == "reference"
        assert props["replay"] == REPLAY


def test_junit_failure_carries_evidence_and_skip_carries_reason() -> None:
    root = _junit_tree(_failing_report())
    by_name = {c.get("name", "").split(":")[0]: c for c in root.iter("testcase")}
    failure = by_name["polling.no-duplicates"].find("failure")
    assert failure is not None
    assert failure.get("type") == "non-conformance"
    assert "7 findings: result r-0 returned twice" in failure.get("message", "")
    text = failure.text or ""
    assert "expected: each provider id at most once per listResults" in text
    assert '"op": "listResults"' in text  # the call records
    assert "--until 3600" in text and REPLAY in text
    assert "\\x01" in text  # an XML-illegal control character, made visible, not dropped
    skipped = by_name["restore.reported"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "plugin declares executeRestore unsupported"
    error = by_name["schedule.applied"].find("error")
    assert error is not None and "KeyError" in error.get("message", "")
    assert by_name["polling.no-lost-results"].get("classname") == "bpcert.polling"
    assert list(by_name["polling.no-lost-results"]) == []  # a pass has no child


def test_junit_with_no_rules_is_still_valid() -> None:
    root = _junit_tree(_report(rules=[], kind="load", verdict="completed"))
    assert root.get("tests") == "0"
    assert len(root.findall("testsuite")) == 1


def test_junit_schema_rejects_what_ci_servers_would() -> None:
    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    good = junit_xml(_failing_report())
    assert schema.is_valid(good)
    assert not schema.is_valid(good.replace('tests="', 'tests="x', 1))
    assert not schema.is_valid(
        good.replace("<testsuites", "<suites", 1).replace("</testsuites>", "</suites>")
    )


# ---------------------------------------------------------------------- report.html

_PLOTS: dict[str, list[Plot]] = {}


def _html(report: RunReport) -> str:
    """render_html, with each report's plots drawn once per test session (they are slow)."""
    # Plots depend only on the scenarios and the load metrics.
    key = json.dumps([s.model_dump(mode="json") for s in report.scenarios]) + (
        report.load.model_dump_json() if report.load else ""
    )
    if key not in _PLOTS:
        _PLOTS[key] = render_plots(report)
    return render_html(report, _PLOTS[key])


_RESOURCE_REF = re.compile(
    r"""(?:\b(?:src|href|action|poster|data|srcset)\s*=\s*["']?\s*(?!data:|#)[a-z][a-z0-9+.-]*:)"""
    r"""|@import|url\(\s*["']?\s*(?!data:)""",
    re.IGNORECASE,
)


def test_html_is_self_contained(any_report: RunReport) -> None:
    page = _html(any_report)
    assert "http://" not in page.replace('"https://backup.invalid"', "")
    assert not _RESOURCE_REF.search(page), _RESOURCE_REF.search(page)
    assert "<link" not in page
    assert not re.search(r"<script[^>]+src", page)
    imgs = re.findall(r"<img\b[^>]*>", page)
    assert imgs, "expected embedded plots"
    for img in imgs:
        src = re.search(r'src="([^"]*)"', img)
        assert src and src.group(1).startswith("data:image/png;base64,"), img
        assert 'class="plot"' in img and re.search(r'alt="[^"]+"', img)
        assert base64.b64decode(src.group(1).split(",", 1)[1]).startswith(PNG_MAGIC)
    assert "default-src 'none'" in page  # the browser enforces it too


def test_html_shows_verdict_and_escaped_evidence() -> None:
    page = _html(_failing_report())
    assert re.search(r'<[^>]+id="verdict"[^>]*>non-conformant<', page)
    assert 'class="banner v-non-conformant"' in page
    assert "<details>" in page and "result r-0 returned twice in one window" in page
    assert "each provider id at most once per listResults" in page
    assert "<th>seq</th><th>op</th>" in page  # call records as a table
    assert REPLAY in page
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert '<img src="https://evil' not in page
    assert "plugin declares executeRestore unsupported" in page
    assert "harness bug: KeyError" in page


def test_html_shows_load_metrics() -> None:
    page = _html(_load_report())
    assert 'id="load"' in page and "check cost grows faster than linearly" in page
    assert 'alt="load: check cost against fleet size"' in page


def _chromium() -> str | None:
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def test_html_renders_offline_in_headless_chromium(tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.fail(
            "chromium is not installed, so report.html cannot be checked in a real browser; "
            "run `make browser` (it installs Debian's chromium) and re-run the tests"
        )
    report = _failing_report()
    written = write_report(report, tmp_path / "run")
    html_path = written["report.html"]
    expected = len(render_plots(report))
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        html_path.resolve().as_uri(),
    ]
    env = {**os.environ, "HOME": str(tmp_path)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90, env=env, check=False)
    dom = proc.stdout
    assert proc.returncode == 0 and dom, (
        f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    )
    assert re.search(r'id="verdict"[^>]*>non-conformant<', dom)
    body = re.search(r"<body\b[^>]*>", dom)
    assert body, dom[:500]
    loaded = re.search(r'data-plots-loaded="(\d+)"', body.group(0))
    total = re.search(r'data-plots-total="(\d+)"', body.group(0))
    assert total and int(total.group(1)) == expected
    assert loaded and int(loaded.group(1)) == expected, (
        f"{loaded.group(1) if loaded else 'no'} of {expected} plots decoded in chromium"
    )


# ---------------------------------------------------------------------- summary.md


def test_summary_is_short_and_names_the_failing_rule() -> None:
    md = summary_markdown(_failing_report())
    assert md.count("\n") < 60
    assert "non-conformant" in md and "`reference`" in md and "seed** 42" in md
    assert "1 passed · 1 failed · 1 skipped · 1 errors" in md
    assert "| `polling.no-duplicates` | fail | 7 | result r-0 returned twice" in md
    assert "<details><summary>1 skipped rules</summary>" in md
    assert "plugin declares executeRestore unsupported" in md
    assert REPLAY in md


def test_summary_stays_short_with_many_rules() -> None:
    many = [
        RuleResult(
            id=f"cat.rule-{i}",
            statement="s",
            category="cat",
            status="fail" if i % 2 else "skip",
            reason="r | with a pipe\nand a newline",
        )
        for i in range(80)
    ]
    md = summary_markdown(_report(rules=many, verdict="non-conformant", exit_code=1))
    assert md.count("\n") < 60
    assert "… and 28 more" in md and "… and 30 more" in md
    assert "r \\| with a pipe and a newline" in md


# ---------------------------------------------------------------------- plots, render


def test_plots_are_png_deterministic_and_skip_empty_data() -> None:
    plots = render_plots(_load_report())
    names = [p.name for p in plots]
    assert names == [
        "smoke-latency",
        "smoke-checks",
        "smoke-results",
        "smoke-freshness",
        "smoke-vf",
        "load-growth",
        "load-results",
    ]
    assert all(p.png.startswith(PNG_MAGIC) for p in plots)
    # Same data, same bytes (the scenario plots are compared in test_write_report_...).
    load_only = render_plots(_report(scenarios=[], load=_load_report().load))
    assert [(p.name, p.png) for p in load_only] == [(p.name, p.png) for p in plots[-2:]]
    empty = ScenarioSummary(name="empty run", seed=1, duration_s=0)
    assert render_plots(_report(scenarios=[empty])) == []


def test_plots_drawn_in_forked_processes_are_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = _load_report()
    here = render_plots(report, workers=1)
    forked = render_plots(report, workers=2)
    assert [(p.name, p.title, p.png) for p in forked] == [(p.name, p.title, p.png) for p in here]
    # With another thread running, forking is not safe: the plots are drawn here.
    import reports.plots as plots_module

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("forked although another thread was running")

    monkeypatch.setattr(plots_module, "ProcessPoolExecutor", no_pool)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        drawn = render_plots(report, workers=2)
    finally:
        release.set()
        other.join()
    assert [p.png for p in drawn] == [p.png for p in here]


def test_write_report_writes_every_file(tmp_path: Path) -> None:
    report = _failing_report()
    written = write_report(report, tmp_path / "out", trace_path=tmp_path / "trace.jsonl")
    assert {"report.json", "junit.xml", "report.html", "summary.md", "trace"} <= set(written)
    pngs = sorted(k for k in written if k.startswith("plots/"))
    assert len(pngs) == 5
    for key in pngs:
        assert written[key].read_bytes().startswith(PNG_MAGIC)
    again = write_report(report, tmp_path / "again")
    for key in ("report.json", "junit.xml", "report.html", "summary.md", *pngs):
        assert written[key].read_bytes() == again[key].read_bytes(), key


def test_render_run_dir_rerenders_from_report_json(tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = write_report(_failing_report(), run)
    before = {k: p.read_bytes() for k, p in first.items()}
    stale = run / "plots" / "old-scenario-latency.png"
    stale.write_bytes(PNG_MAGIC)
    for name in ("junit.xml", "report.html", "summary.md"):
        (run / name).unlink()
    again = render_run_dir(run)
    assert set(again) == set(first)
    for key, path in again.items():
        assert path.read_bytes() == before[key], key
    assert not stale.exists()


def test_render_run_dir_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such run directory"):
        render_run_dir(tmp_path / "missing")
    with pytest.raises(ReportError, match=r"report\.json: not found"):
        render_run_dir(tmp_path)
    (tmp_path / "report.json").write_text('{"kind": "run",', encoding="utf-8")
    with pytest.raises(ReportError, match=r"report\.json: not valid JSON .* line 1"):
        render_run_dir(tmp_path)
    (tmp_path / "report.json").write_text('{"kind": "walk"}', encoding="utf-8")
    with pytest.raises(ReportError, match=r"not a valid bpcert report[\s\S]*kind"):
        render_run_dir(tmp_path)
    # The report.json file itself may be named instead of its directory.
    write_report(_report(scenarios=[]), tmp_path)
    assert set(render_run_dir(tmp_path / "report.json")) == {
        "report.json",
        "junit.xml",
        "report.html",
        "summary.md",
    }


# ---------------------------------------------------------------------- terminal


def test_print_summary_shows_scenarios_rules_and_verdict() -> None:
    console = Console(record=True, width=160, force_terminal=False)
    print_summary(_failing_report(), console)
    out = console.export_text()
    assert "Scenario smoke" in out and "listResults" in out and "BC-4 2" in out
    assert "polling.no-duplicates" in out and "7 findings: result r-0" in out
    assert "verdict: non-conformant" in out and REPLAY in out


def test_sim_progress_is_silent_off_a_terminal() -> None:
    console = Console(record=True, force_terminal=False)
    with SimProgress(console, 3600.0, "smoke", quiet=False) as progress:
        progress.update(1800.0, tasks=3, calls=10, checks=2)
    assert not progress.enabled
    assert console.export_text() == ""


def test_sim_progress_draws_on_a_terminal() -> None:
    console = Console(record=True, force_terminal=True, width=120)
    with SimProgress(console, 3600.0, "smoke", quiet=False) as progress:
        progress.update(1800.0, tasks=3, calls=10, checks=2)
    assert progress.enabled
    out = console.export_text()
    assert "smoke" in out and "calls=10" in out and "60.0/60.0 min simulated" in out
    quiet = Console(record=True, force_terminal=True)
    with SimProgress(quiet, 60.0, "q", quiet=True) as p:
        p.update(30.0, calls=1)
    assert quiet.export_text() == ""


def test_importing_reports_loads_no_matplotlib() -> None:
    code = (
        "import sys, reports, reports.render; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('matplotlib', 'pytest', 'hypothesis')]; "
        "assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=root)


def test_docs_list_the_same_wall_time_fields_as_the_code() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "reports.md").read_text("utf-8")
    section = docs.split("### Wall-time fields", 1)[1].split("\n#", 1)[0]
    listed = re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)
    assert listed == WALL_TIME_FIELDS


def _plots_in_a_pool_worker(report: RunReport) -> list[bytes]:
    return [p.png for p in render_plots(report, workers=2)]


def test_plots_are_drawn_in_a_daemonic_pool_worker_without_forking() -> None:
    # A multiprocessing.Pool worker is daemonic and may not start processes of its own.
    import multiprocessing

    report = _load_report()
    with multiprocessing.get_context("fork").Pool(1) as pool:
        drawn = pool.apply(_plots_in_a_pool_worker, (report,))
    assert drawn == [p.png for p in render_plots(report, workers=1)]
