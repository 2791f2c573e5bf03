"""Findings point at the bug: what the backup system did, what the plugin said, both instants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
