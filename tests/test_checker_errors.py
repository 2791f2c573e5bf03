"""A checker that fails never stops the run: its rules get an ``error`` verdict, through the CLI.

The failing checkers are injected through the registry (``registry.CHECKERS``), not provoked
by a plugin's answer: the invoker's boundary validation (issue 25, point 1) is meant to stop
every malformed answer before a checker sees it, so no test plugin can be relied on to reach
an unforeseen path in a checker for long.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.exit_codes import ExitCode
from conformance.rules import registry
from conformance.rules.base import Checker, EndOfRun, Gen
from simulator.contract import Operation
from simulator.platform.invoker import CallRecord


class _FailsOnTheFirstCheck(Checker):
    """Raises on the periodic check's first list_results, and only there."""

    rules = (registry.rule("polling.sizes-non-negative"),)

    def on_call(self, rec: CallRecord) -> None:
        if rec.op == Operation.LIST_RESULTS.value and rec.check == 1:
            raise ZeroDivisionError("a path nobody foresaw")


class _FailsInTheAudit(Checker):
    """Raises at the end of the run, before any probe."""

    rules = (registry.rule("expiry.sticky"),)

    def audit(self, end: EndOfRun) -> Gen:
        yield from ()
        raise _UnprintableError


class _UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("and its message cannot be shown either")


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, dict[str, Any]]:
    # The failing checkers hook into listResults: the 4.0.4 profile's check.
    args = (
        "check --plugin reference --profile abiquo-4.0.4 --scenario smoke --examples 0 "
        "--seed 1 --quiet --out"
    )
    code = main([*args.split(), str(tmp_path)])
    out = capsys.readouterr()
    report = json.loads((tmp_path / "report.json").read_text())
    return code, out.out + out.err, {r["id"]: r for r in report["rules"]}


def test_a_failing_checker_gives_its_rule_an_error_naming_it_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    checkers = (_FailsOnTheFirstCheck, *registry.CHECKERS, _FailsInTheAudit)
    monkeypatch.setattr(registry, "CHECKERS", checkers)
    code, output, rules = _check(tmp_path, capsys)

    assert code == ExitCode.HARNESS_ERROR
    assert "Traceback" not in output
    assert "verdict: error" in output and "2 errors" in output
    online = rules["polling.sizes-non-negative"]
    assert online["status"] == "error"
    assert "_FailsOnTheFirstCheck.on_call" in online["reason"]
    assert "listResults" in online["reason"] and "ZeroDivisionError" in online["reason"]
    at_the_end = rules["expiry.sticky"]
    assert at_the_end["status"] == "error"
    assert "_FailsInTheAudit.audit" in at_the_end["reason"]
    assert "cannot be shown" in at_the_end["reason"]
    # The run went on: later calls, the other checkers' audits and the probes still judged.
    assert rules["polling.no-lost-results"]["status"] == "pass"
    assert rules["startup.validate-detects-missing-properties"]["status"] == "pass"
    assert rules["on-demand.restore-refuses-bad-backup"]["status"] == "pass"


def test_a_finding_outweighs_a_checker_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "CHECKERS", (*registry.CHECKERS, _FailsOnTheFirstCheck))
    plugin = "conformance.selftest.mutants:NegativeSizePlugin"
    args = f"check --plugin {plugin} --scenario smoke --examples 0 --quiet --out"
    code = main([*args.split(), str(tmp_path)])
    report = json.loads((tmp_path / "report.json").read_text())
    rules = {r["id"]: r for r in report["rules"]}
    assert code == ExitCode.FINDINGS and report["verdict"] == "non-conformant"
    assert rules["polling.sizes-non-negative"]["status"] == "fail"
    assert "_FailsOnTheFirstCheck.on_call" in rules["polling.sizes-non-negative"]["reason"]
