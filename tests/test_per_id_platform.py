"""The abiquo-4.7 per-id check and the abiquo-6.0 policy synchronisation, from the trace."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from simulator.bridge.process import process_plugin_class
from simulator.contract import (
    BackupPluginError,
    BackupPluginException,
    BackupResult,
    Connection,
)
from simulator.platform.invoker import CallRecord
from simulator.profiles import PROFILE_IDS, ProfileError
from simulator.reference import ReferencePlugin
from simulator.scenario import load_scenario
from simulator.world import World


class Speaks3(ReferencePlugin):
    """The reference plugin declaring every profile."""

    contract_profiles: ClassVar[tuple[str, ...]] = PROFILE_IDS


class Only404(ReferencePlugin):
    """The reference plugin as a plugin written before profiles: it declares 4.0.4 only."""

    contract_profiles: ClassVar[tuple[str, ...]] = ("abiquo-4.0.4",)


def _run(
    tmp: Path, plugin: type, profile: str | None, scenario: str = "smoke"
) -> tuple[World, list[dict[str, Any]], list[CallRecord]]:
    trace = tmp / f"{plugin.__name__}-{profile}.jsonl"
    world = World(load_scenario(scenario), plugin, trace_path=trace, profile=profile)
    records: list[CallRecord] = []
    world.invoker.observers.append(records.append)
    world.run()
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    return world, lines, records


def _ops(lines: list[dict[str, Any]]) -> set[str]:
    return {line["op"] for line in lines if line["kind"] == "call"}


def test_the_newest_declared_profile_runs_by_default(tmp_path: Path) -> None:
    world = World(load_scenario("smoke"), ReferencePlugin)
    assert world.profile.id == "abiquo-6.0"
    assert World(load_scenario("smoke"), Only404).profile.id == "abiquo-4.0.4"
    with pytest.raises(ProfileError, match=r"declares abiquo-4\.0\.4"):
        World(load_scenario("smoke"), Only404, profile="abiquo-4.7")


def test_under_4_7_the_api_polls_per_id_and_never_calls_list_results(tmp_path: Path) -> None:
    world, lines, records = _run(tmp_path, Speaks3, "abiquo-4.7")
    ops = _ops(lines)
    assert {"listResults", "getExpiredResults", "listVirtualMachinesInBackupPolicy"}.isdisjoint(ops)
    assert {"listNewBackupResults", "listNewRestoreResults", "getBackupResult"} <= ops
    assert {"isBackupExpired", "getRestoreResult"} <= ops
    polls = [line for line in lines if line["kind"] == "poll"]
    assert polls and all(p["component"] == "api" and p["ok"] for p in polls)
    per_id = [r for r in records if r.check]
    assert {r.component for r in per_id} == {"api"}
    # start is the creation date of the newest backup held: null only before any is held.
    listings = [r for r in per_id if r.op == "listNewBackupResults"]
    assert listings[0].args == (None,)
    assert any(r.args[0] is not None for r in listings)
    held_newest: datetime | None = None
    for r in listings:
        start = r.args[0]
        assert held_newest is None or start is None or start >= held_newest
    # The same events as the 4.0.4 check of the same world: nothing is lost. The 4.0.4
    # check asks about its held results in rotation, so it removes no more, and later.
    old, _, _ = _run(tmp_path, Speaks3, "abiquo-4.0.4")
    assert world.platform.events == old.platform.events
    assert 0 < old.platform.results.removed_expired <= world.platform.results.removed_expired


class LosesTrackOnce(Speaks3):
    """Answers null for each in-progress backup the first time it is asked about it."""

    asked: ClassVar[set[str]] = set()

    def get_backup_result(self, connection: Connection, backup_id: str) -> BackupResult | None:
        if backup_id not in LosesTrackOnce.asked:
            LosesTrackOnce.asked.add(backup_id)
            return None
        return super().get_backup_result(connection, backup_id)


def test_a_null_answer_holds_the_result_unknown_and_it_is_asked_again(tmp_path: Path) -> None:
    LosesTrackOnce.asked.clear()
    world, lines, records = _run(tmp_path, LosesTrackOnce, "abiquo-4.7")
    asked: dict[str, list[Any]] = {}
    for r in records:
        if r.op == "getBackupResult" and r.check:
            asked.setdefault(r.args[0], []).append(r.result)
    assert asked
    table = world.platform.results
    for provider_id, answers in asked.items():
        assert answers[0] is None  # first a null: held UNKNOWN ...
        # ... then asked again, unless a listing brought its state in first.
        held = table.by_id.get(provider_id)
        assert len(answers) >= 2 or held is None or held.state.value != "UNKNOWN"
    assert any(len(answers) >= 2 for answers in asked.values())
    assert any(p["unknown"] > 0 for p in lines if p["kind"] == "poll")
    reference, _, _ = _run(tmp_path, Speaks3, "abiquo-4.7")
    assert world.platform.events == reference.platform.events  # UNKNOWN was not final


class ListingDown(Speaks3):
    """listNewBackupResults always fails; the other steps work."""

    def list_new_backup_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[BackupResult]:
        raise BackupPluginException(BackupPluginError.BACKEND, "listing is down")


def test_a_failed_step_leaves_the_rest_of_the_check_going(tmp_path: Path) -> None:
    _, lines, _ = _run(tmp_path, ListingDown, "abiquo-4.7")
    polls = [line for line in lines if line["kind"] == "poll"]
    assert all(p["failed_steps"] == ["list-new-backups"] and not p["ok"] for p in polls)
    calls = [line for line in lines if line["kind"] == "call" and line["check"]]
    # The on-demand backups the platform holds in progress are still asked about.
    assert any(c["op"] == "getBackupResult" for c in calls)
    assert any(c["op"] == "listNewRestoreResults" and c["outcome"] == "ok" for c in calls)


class MovesVms(Speaks3):
    """The backup system's GOLD policy holds exactly VM 0 and VM 1 (by uuid), nothing else."""

    members: ClassVar[frozenset[str]] = frozenset()

    def list_virtual_machines_in_backup_policy(
        self, connection: Connection, policy_code: str
    ) -> frozenset[str]:
        return MovesVms.members if policy_code == "GOLD" else frozenset()


def test_policy_sync_makes_the_assignment_match_without_calling_apply_schedule(
    tmp_path: Path,
) -> None:
    probe = World(load_scenario("smoke"), MovesVms)
    MovesVms.members = frozenset({probe.fleet.uuid(0), probe.fleet.uuid(1), "not-a-vm"})
    world, lines, records = _run(tmp_path, MovesVms, "abiquo-6.0")
    syncs = [line for line in lines if line["kind"] == "sync"]
    assert syncs and syncs[0]["ok"] and syncs[0]["policies"] == 3
    assert syncs[0]["ignored"] == 1  # the uuid the fleet does not know
    assignments = [line for line in lines if line["kind"] == "assignment"]
    assert assignments and {a["action"] for a in assignments} <= {"gained", "lost"}
    sync_at = syncs[0]["start"]
    schedule_calls = [
        r for r in records if r.op.startswith("apply") and sync_at <= r.start <= syncs[0]["end"]
    ]
    assert not schedule_calls
    after = world.platform.policy_sync
    assert after is not None
    members = after.assignment()
    gold_now = {vm for vm in members["GOLD"]}
    # Members the sync set remain unless the workload reconfigured them since.
    assert gold_now <= {world.fleet.uuid(i) for i in range(world.fleet.size)}
    for a in assignments:
        if a["policy"] != "GOLD":
            assert a["action"] == "lost"  # the other policies hold nobody in the backup system


def test_an_exec_plugin_declaring_6_0_is_driven_over_the_wire(tmp_path: Path) -> None:
    served = process_plugin_class(
        [
            sys.executable,
            "-m",
            "simulator.bridge.server",
            "tests.plugins.speaks_all:ReferenceSpeaks60",
        ],
        label="speaks-6.0",
    )
    assert served.contract_profiles == ("abiquo-6.0",)
    world, lines, _ = _run(tmp_path, served, None)
    assert world.profile.id == "abiquo-6.0"
    ops = {(line["op"], line["outcome"]) for line in lines if line["kind"] == "call"}
    for op in (
        "listNewBackupResults",
        "listNewRestoreResults",
        "getBackupResult",
        "isBackupExpired",
        "listVirtualMachinesInBackupPolicy",
    ):
        assert (op, "ok") in ops, op
    assert not {op for op, _ in ops} & {"listResults", "getExpiredResults"}
    in_process, _, _ = _run(tmp_path, Speaks3, "abiquo-6.0")
    assert world.platform.events == in_process.platform.events
    syncs = [line for line in lines if line["kind"] == "sync"]
    assert syncs and all(s["ok"] for s in syncs)


class AnswersDicts(Speaks3):
    """get_backup_result answers a plain dict, is_backup_expired a string."""

    def get_backup_result(self, connection: Connection, backup_id: str) -> Any:
        return {"provider_id": backup_id}

    def is_backup_expired(self, connection: Connection, backup_id: str) -> Any:
        return "yes"


def test_a_wrongly_typed_answer_is_a_bad_return_and_the_check_goes_on(tmp_path: Path) -> None:
    world, lines, _ = _run(tmp_path, AnswersDicts, "abiquo-4.7")
    calls = [line for line in lines if line["kind"] == "call" and line["check"]]
    bad = {c["op"] for c in calls if c["outcome"] == "bad-return"}
    assert bad == {"getBackupResult", "isBackupExpired"}
    assert any(c["op"] == "listNewBackupResults" and c["outcome"] == "ok" for c in calls)
    assert world.platform.checks > 1


def test_every_profile_runs_the_lifecycle_scenario(tmp_path: Path) -> None:
    for profile in PROFILE_IDS:
        world, lines, _ = _run(tmp_path, Speaks3, profile, "lifecycle")
        assert world.profile.id == profile
        assert any(line["kind"] == "poll" for line in lines)


@pytest.mark.parametrize("profile", PROFILE_IDS)
def test_results_seen_counts_what_every_profiles_check_received(
    tmp_path: Path, profile: str
) -> None:
    # The summary's "results seen" said 0 under the per-id profiles: it counted only
    # listResults' answers. Each poll line says what its check received.
    world, lines, _ = _run(tmp_path, Speaks3, profile)
    received = sum(line["results"] for line in lines if line["kind"] == "poll")
    assert received > 0
    assert world.platform.results_seen == received
