"""Hostile plugins through the CLI: every spoiled answer is a finding, never a crash.

The plugins are in ``tests/plugins/hostile_answers.py``; each names the rule it must fail.
A plugin's answer is untrusted input: it is judged at the boundary, and what the judge
keeps is a copy, so neither a spoiled model nor a plugin that mutates what it returned
or what it was handed can reach the checkers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from conformance.exit_codes import ExitCode
from simulator.contract import BackupResult, BackupType, Operation, RestoreResult, ResultState
from simulator.platform.answers import RETURNS, accept_answer
from tests.plugins.hostile_answers import EXPECTED

ROOT = Path(__file__).resolve().parent.parent

#: What the finding's message must name (the offending field or type), per plugin.
NAMED: dict[str, str] = {
    "ListsNone": "listResults returned None, expected list[BackupResult]",
    "NanSizes": "size_bytes: expected int, got nan",
    "EqRaises": "a subclass of BackupResult",
    "UnprintableException": "_Unprintable: <its __str__ raised RuntimeError>",
    "StringDates": "creation_date: expected datetime, got '",
    "NaiveDates": "creation_date: expected a timezone-aware datetime, got a naive",
}


def _run(plugin: str, scenario: str, out: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conformance", "run", scenario, "--plugin", plugin]
    return subprocess.run(
        [*command, "--quiet", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_hostile_answer_is_a_finding_of_its_rule_never_a_traceback(
    tmp_path: Path, name: str
) -> None:
    scenario = "on-demand" if name == "StringDates" else "smoke"
    result = _run(f"tests.plugins.hostile_answers:{name}", scenario, tmp_path)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    report: dict[str, Any] = json.loads((tmp_path / "report.json").read_text())
    failing = {r["id"]: r for r in report["rules"] if r["status"] == "fail"}
    assert EXPECTED[name] in failing, sorted(failing)
    if name in NAMED:
        messages = " | ".join(f["message"] for f in failing[EXPECTED[name]]["findings"])
        assert NAMED[name] in messages


_RESULT = BackupResult(
    provider_id="b-1",
    vm_uuid="vm-1",
    name="b-1",
    type=BackupType.COMPLETE,
    state=ResultState.DONE,
    creation_date="2026-01-01T00:00:00Z",  # type: ignore[arg-type]
)


def test_a_valid_answer_is_accepted_as_a_copy_the_plugin_cannot_change() -> None:
    answer = [_RESULT]
    accepted, problem = accept_answer("listResults", answer)
    assert problem is None
    assert accepted == answer and accepted is not answer and accepted[0] is not _RESULT
    object.__setattr__(_RESULT, "name", "changed")
    try:
        assert accepted[0].name == "b-1"
    finally:
        object.__setattr__(_RESULT, "name", "b-1")


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        ({"provider_id": "b-1"}, "listResults item 0 is a dict, expected BackupResult"),
        ([_RESULT.model_copy(update={"state": "DONE"})], "item 0.state: expected ResultState"),
        ([_RESULT.model_copy(update={"size_bytes": True})], "size_bytes: expected int, got True"),
        (
            [BackupResult.model_construct(**{**dict(_RESULT), "restores": [1]})],
            "item 0.restores: expected tuple, got a list",
        ),
    ],
)
def test_a_spoiled_answer_names_the_offending_field(answer: Any, named: str) -> None:
    if isinstance(answer, dict):
        answer = [answer]
    accepted, problem = accept_answer("listResults", answer)
    assert accepted is None
    assert problem is not None and named in problem


def test_an_attribute_the_model_does_not_declare_is_named() -> None:
    spoiled = _RESULT.model_copy()
    object.__setattr__(spoiled, "secret_note", "x")
    _, problem = accept_answer("executeBackup", spoiled)
    assert problem == (
        "executeBackup's result has an attribute BackupResult does not declare: 'secret_note'"
    )


@pytest.mark.parametrize("field", sorted(BackupResult.model_fields))
def test_every_field_of_a_result_is_judged_by_its_exact_type(field: str) -> None:
    class Odd:
        """A value of no contract type."""

    spoiled = _RESULT.model_copy(update={field: Odd()})
    _, problem = accept_answer("executeBackup", spoiled)
    assert problem is not None
    assert problem.startswith(f"executeBackup's result.{field}: expected ")
    assert problem.endswith(", got a Odd")


@pytest.mark.parametrize("field", ["creation_date", "finish_date", "expiration_date"])
def test_a_naive_date_in_any_date_field_is_named(field: str) -> None:
    spoiled = _RESULT.model_copy(update={field: datetime(2026, 1, 1)})
    _, problem = accept_answer("executeBackup", spoiled)
    assert problem is not None
    assert f"result.{field}: expected a timezone-aware datetime, got a naive" in problem


def test_a_restore_inside_a_result_is_judged_too() -> None:
    restore = RestoreResult.model_construct(
        provider_id="r-1",
        backup_provider_id="b-1",
        state=ResultState.DONE,
        creation_date=datetime(2026, 1, 1),
    )
    spoiled = _RESULT.model_copy(update={"restores": (restore,)})
    _, problem = accept_answer("listResults", [spoiled])
    assert problem is not None
    assert "listResults item 0.restores[0].creation_date: expected a timezone-aware" in problem


def test_every_operation_has_its_return_shape_in_the_table() -> None:
    assert set(RETURNS) == {op.value for op in Operation}


@pytest.mark.parametrize(
    ("op", "answer", "named"),
    [
        ("isBackupExpired", 1, "isBackupExpired returned 1, expected bool"),
        ("getBackupResult", {}, "getBackupResult's result is a dict, expected BackupResult"),
        ("listVirtualMachinesInBackupPolicy", ["vm"], "expected frozenset[str]"),
        ("listNewRestoreResults", None, "returned None, expected list[RestoreResult]"),
        ("applySchedule", True, "applySchedule returned True, expected None"),
    ],
)
def test_the_other_shapes_are_judged_too(op: str, answer: Any, named: str) -> None:
    accepted, problem = accept_answer(op, answer)
    assert accepted is None and problem is not None and named in problem


def test_an_absent_optional_result_and_a_set_are_accepted() -> None:
    assert accept_answer("getRestoreResult", None) == (None, None)
    assert accept_answer("listVirtualMachinesInBackupPolicy", {"a"}) == (frozenset({"a"}), None)
