"""Verdicts that once came out wrong (issue 25), each through the CLI.

- A plugin that refuses a repeated ``apply_schedule`` was judged conformant: the built-in
  scenarios now repeat schedule calls, and a refused repeat fails ``schedules.idempotent``.
- A ``validate_configuration`` that never fails was judged conformant: an accepted reduced
  configuration now runs a short lifecycle, and its failure fails the missing-property rule.
- A scenario of one second failed the reference plugin on startup validation.
- A rule could go unexercised by accident and sit among the passes: the default check of
  the reference (and of the Node example) now leaves none unexercised without a declared
  reason, under every profile.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.exit_codes import ExitCode
from conformance.rules.base import ISOLATED, NEEDS

ROOT = Path(__file__).resolve().parent.parent


def _check(plugin: str, out: Path, *args: str) -> tuple[int, str, dict[str, Any]]:
    """``bpcert check`` in a child process, as a user runs it; its exit code, output, rules."""
    command = [sys.executable, "-m", "conformance", "check", "--plugin", plugin]
    done = subprocess.run(
        [*command, "--quiet", "--out", str(out), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    report = json.loads((out / "report.json").read_text())
    return done.returncode, done.stdout + done.stderr, {r["id"]: r for r in report["rules"]}


def test_a_refused_repeat_of_apply_schedule_is_non_conformant(tmp_path: Path) -> None:
    plugin = "tests.plugins.refuses_repeat:RefusesRepeatedApplyPlugin"
    code, output, rules = _check(plugin, tmp_path, "--scenario", "smoke", "--examples", "0")
    assert code == ExitCode.FINDINGS, output
    idempotent = rules["schedules.idempotent"]
    assert idempotent["status"] == "fail"
    first = idempotent["findings"][0]
    assert "applySchedule repeated with the same arguments" in first["message"]
    assert "INVALID_SCHEDULE" in first["message"] and "job already exists" in first["message"]
    assert "Traceback" not in output


def test_a_validation_that_never_fails_is_non_conformant(tmp_path: Path) -> None:
    plugin = "tests.plugins.validates_nothing:ValidatesNothingPlugin"
    code, output, rules = _check(plugin, tmp_path, "--scenario", "smoke", "--examples", "0")
    assert code == ExitCode.FINDINGS, output
    missing = rules["startup.validate-detects-missing-properties"]
    assert missing["status"] == "fail"
    messages = " ".join(f["message"] for f in missing["findings"])
    assert "validate_configuration accepted" in messages
    # The reference lists without its properties: the lifecycle is what shows the need.
    assert "executeBackup then failed" in messages


def test_a_one_second_scenario_gives_the_reference_no_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "blink.yaml"
    scenario.write_text("name: blink\nduration: 1s\nfleet:\n  vms: 2\n")
    out = tmp_path / "out"
    code = main(["run", str(scenario), "--plugin", "reference", "--quiet", "--out", str(out)])
    capsys.readouterr()
    report = json.loads((out / "report.json").read_text())
    rules = {r["id"]: r for r in report["rules"]}
    # One second exercises few rules: no finding, and a run of one scenario says which rules
    # it did not exercise (verdict completed, exit 0) instead of calling itself conformant.
    assert code == ExitCode.OK and report["verdict"] == "completed"
    assert not [r for r in rules.values() if r["status"] in ("fail", "error")]
    assert any(n.startswith("not exercised in this scenario") for n in report["notes"])
    assert rules["startup.validate-passes-with-complete-properties"]["status"] == "pass"


#: What the default check of the reference does not pass, each for a declared reason (the
#: start of the reason): nothing declared unsupported, the out-of-process-only rules, and
#: under abiquo-4.0.4 the check's duration, which fixed simulated latencies cannot judge.
_DECLARED_SKIPS = {
    "errors.unsupported-raises-unsupported": "the plugin declares nothing unsupported",
    "errors.no-crash": NEEDS[ISOLATED],
    "protocol.stdout-clean": NEEDS[ISOLATED],
}
_FIXED_LATENCY = {"polling.fits-interval": "simulated call durations are fixed"}


@pytest.mark.parametrize("profile", [None, "abiquo-4.7", "abiquo-4.0.4"])
def test_the_default_check_of_the_reference_exercises_every_rule_without_a_declared_reason(
    tmp_path: Path, profile: str | None
) -> None:
    args = () if profile is None else ("--profile", profile)
    code, output, rules = _check("reference", tmp_path / "out", *args)
    assert code == ExitCode.OK, output
    # Any rule that stops being exercised, or is skipped for a new reason, shows here.
    expected = _DECLARED_SKIPS | (_FIXED_LATENCY if profile == "abiquo-4.0.4" else {})
    unexpected = {i: r["reason"] for i, r in rules.items() if r["status"] != "pass"}
    assert set(unexpected) == set(expected), unexpected
    for rule_id, reason in expected.items():
        assert unexpected[rule_id].startswith(reason), (rule_id, unexpected[rule_id])
    if profile == "abiquo-4.0.4":
        assert rules["expiry.expiration-date-advice"]["status"] == "pass"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_the_default_check_of_the_node_example_exercises_every_rule(tmp_path: Path) -> None:
    plugin = f"exec:node {ROOT / 'examples' / 'node-plugin' / 'plugin.js'}"
    code, output, rules = _check(plugin, tmp_path / "out", "--examples", "0")
    assert code == ExitCode.OK, output
    unexpected = {i: r["reason"] for i, r in rules.items() if r["status"] != "pass"}
    assert unexpected == {
        "errors.unsupported-raises-unsupported": _DECLARED_SKIPS[
            "errors.unsupported-raises-unsupported"
        ]
    }
