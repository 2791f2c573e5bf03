"""Findings point at the bug: what the backup system did, what the plugin said, both instants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.exit_codes import ExitCode


def _failing(plugin: str, out: Path, scenario: str = "smoke") -> dict[str, dict[str, Any]]:
    code = main(
        [
            *("check", "--plugin", plugin, "--scenario", scenario),
            *("--examples", "0", "--quiet", "--out", str(out)),
        ]
    )
    assert code == ExitCode.FINDINGS
    report = json.loads((out / "report.json").read_text())
    return {r["id"]: r for r in report["rules"] if r["status"] == "fail"}


def test_failed_backups_left_out_of_list_results_are_named_as_the_backup_system_ran_them(
    tmp_path: Path,
) -> None:
    # outage: a scheduled backup fails there (smoke's failures are on-demand ones).
    failing = _failing("tests.plugins.omits_failed:OmitsFailedBackups", tmp_path, "outage")
    # Its dates are right: nothing to group by a date cause.
    assert json.loads((tmp_path / "report.json").read_text())["causes"] == []
    schedule = failing["schedules.backups-at-scheduled-times"]["findings"][0]
    assert "the backup system created backup" in schedule["message"]
    assert "FAILED" in schedule["message"]
    assert "the plugin never reported it" in schedule["message"]
    assert "no backup was created" not in schedule["message"]
    # Judged against the backup system's record, not the plugin's own final listing.
    for rule_id in ("polling.window-complete", "polling.no-lost-results"):
        assert rule_id in failing, rule_id
        finding = failing[rule_id]["findings"][0]
        assert "the backup system's record" in finding["message"]
        assert finding["evidence"][-1]["state"] == "FAILED"


def test_a_date_after_now_shows_both_instants_and_the_offset(tmp_path: Path) -> None:
    failing = _failing("tests.plugins.time_zone:LocalTimeAsUtc", tmp_path)
    message = failing["polling.dates-well-formed"]["findings"][0]["message"]
    assert "is after now 2026-" in message
    assert "ahead by" in message and "the plugin's date is off by 1:00:00" in message


def test_the_findings_of_a_time_zone_bug_are_grouped_under_one_cause_led_by_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    failing = _failing("tests.plugins.time_zone:LocalTimeAsUtc", tmp_path)
    stdout = " ".join(capsys.readouterr().out.split())
    report = json.loads((tmp_path / "report.json").read_text())
    assert len(report["causes"]) == 1, [c["cause"] for c in report["causes"]]
    cause = report["causes"][0]
    assert "dates are 1:00:00 later than the backup system's record" in cause["cause"]
    by_rule = cause["findings_by_rule"]
    # One bug, many rules: the date rule and those it knocks over.
    for rule_id in (
        "polling.dates-well-formed",
        "polling.states-move-forward",
        "schedules.backups-at-scheduled-times",
        "on-demand.backup-reaches-final-state",
    ):
        assert by_rule[rule_id] > 0, rule_id
    assert set(by_rule) <= set(failing) and list(by_rule) == [r for r in failing if r in by_rule]
    assert cause["findings_total"] == sum(by_rule.values())
    assert (
        by_rule["polling.dates-well-formed"]
        <= failing["polling.dates-well-formed"]["findings_total"]
    )
    # Led by the first of its findings, which shows both instants.
    first = cause["first"]
    assert first["cause"] == cause["cause"]
    kept = [f for r in failing.values() for f in r["findings"] if f["cause"] == cause["cause"]]
    assert first["at"] == min(f["at"] for f in kept if f["at"] is not None)
    assert "the backup system created backup" in first["message"]
    assert "the plugin reported it as DONE, created at" in first["message"]
    changed = failing["polling.states-move-forward"]["findings"][0]["message"]
    assert "creation_date changed from 2026-" in changed and " to 2026-" in changed
    # Every output leads with it.
    assert "Causes" in stdout
    assert f"{cause['findings_total']:,} findings of {len(by_rule)} rules" in stdout
    assert " ".join(first["message"].split()) in stdout
    summary = (tmp_path / "summary.md").read_text()
    assert summary.index("### Causes") < summary.index("### Failing rules")
    assert cause["cause"] in summary
    html = (tmp_path / "report.html").read_text()
    assert 0 < html.index('id="causes"') < html.index('id="rules"')
