"""The §4a declarations: the platform honours them before any plugin call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from conformance.runner import resolve_plugin, run_scenario
from simulator.bridge.protocol import InitializeResult, describe_plugin_class
from simulator.reference import ReferencePlugin


class OneJobNoReplication(ReferencePlugin):
    """The reference, declaring one policy per VM and no replication."""

    max_policies_per_vm: ClassVar[int | None] = 1
    supports_replication: ClassVar[bool] = False


def _trace(tmp_path: Path, plugin: Any) -> list[dict[str, Any]]:
    trace = tmp_path / "trace.jsonl"
    run_scenario("smoke", resolve_plugin(plugin), trace_path=trace)
    return [json.loads(line) for line in trace.read_text().splitlines()]


def test_a_second_policy_and_replication_are_refused_before_any_plugin_call(
    tmp_path: Path,
) -> None:
    trace = _trace(tmp_path, OneJobNoReplication)
    refused = [r for r in trace if r["kind"] == "rejection"]
    assert any(r["code"] == "BC-27" and r["type"] in ("DEPLOY", "RECONFIGURE") for r in refused)
    assert any(
        r["code"] == "BC-46" and r["type"] == "BACKUP_NOW" and "replication" in r["reason"]
        for r in refused
    )
    refused_tasks = {r["task"] for r in refused}
    assert not [r for r in trace if r["kind"] == "call" and r["task"] in refused_tasks]


def test_the_reference_declares_nothing_refused(tmp_path: Path) -> None:
    codes = {r["code"] for r in _trace(tmp_path, ReferencePlugin) if r["kind"] == "rejection"}
    assert "BC-27" not in codes


def test_the_declarations_travel_in_the_initialize_answer() -> None:
    described = InitializeResult.model_validate(describe_plugin_class(OneJobNoReplication))
    assert described.max_policies_per_vm == 1
    assert described.supports_replication is False
    default = InitializeResult.model_validate(describe_plugin_class(ReferencePlugin))
    assert (default.max_policies_per_vm, default.supports_replication) == (None, True)
