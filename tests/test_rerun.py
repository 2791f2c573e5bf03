"""``bpcert check --rerun-failed REPORT``: only the failed rules run again, and fail again."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from conformance.exit_codes import ExitCode

ROOT = Path(__file__).resolve().parent.parent
MUTANT = "conformance.selftest.mutants:RestoresLatestBackupPlugin"


def _bpcert(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        check=False,
    )


def _report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text())
    return data


def test_rerun_failed_reruns_only_the_failed_rules_where_they_failed_and_they_fail_again(
    tmp_path: Path,
) -> None:
    first = tmp_path / "first"
    checked = _bpcert(
        *("check", "--plugin", MUTANT, "--call-timeout", "30"),
        *("--examples", "0", "--quiet", "--out", str(first)),
    )
    assert checked.returncode == ExitCode.FINDINGS, checked.stderr
    before = _report(first)
    failed = {r["id"] for r in before["rules"] if r["status"] == "fail"}
    where = {f["scenario"] for r in before["rules"] if r["id"] in failed for f in r["findings"]}
    assert failed and where < {s["name"] for s in before["scenarios"]}

    again = tmp_path / "again"
    rerun = _bpcert(
        "check", "--rerun-failed", str(first / "report.json"), "--quiet", "--out", str(again)
    )
    assert rerun.returncode == ExitCode.FINDINGS, rerun.stderr
    said = " ".join(rerun.stdout.split())
    assert f"rerunning {len(failed)} failed rule(s)" in said
    assert all(rule_id in said for rule_id in failed)
    after = _report(again)
    assert {r["id"]: r["status"] for r in after["rules"]} == dict.fromkeys(failed, "fail")
    assert {s["name"] for s in after["scenarios"]} == where
    # With the run's own flags, and a replay of the rerun that says so.
    assert "--call-timeout" in shlex.split(after["replay"])


def test_rerun_failed_of_a_report_where_nothing_failed_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "ok"
    assert _bpcert("run", "smoke", "--quiet", "--out", str(out)).returncode == ExitCode.OK
    rerun = _bpcert("check", "--rerun-failed", str(out / "report.json"), "--quiet")
    assert rerun.returncode == ExitCode.USAGE
    assert "nothing to rerun" in " ".join(rerun.stderr.split())


def test_rerun_failed_of_a_missing_report_is_a_usage_error(tmp_path: Path) -> None:
    rerun = _bpcert("check", "--rerun-failed", str(tmp_path / "nope.json"), "--quiet")
    assert rerun.returncode == ExitCode.USAGE
    assert "nope.json" in rerun.stderr and "Traceback" not in rerun.stderr
