"""Contract profiles: declaration, selection, and the per-id methods on the wire."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from simulator.bridge.protocol import InitializeResult, WireError, load_model
from simulator.bridge.server import PluginServer
from simulator.contract import (
    BackupPluginBase,
    BackupPluginError,
    BackupPluginException,
    BackupResult,
    BackupType,
    Connection,
    ConnectionData,
    Operation,
    PluginContext,
    PluginMetadata,
    RestoreResult,
    ResultState,
)
from simulator.profiles import (
    PROFILE_IDS,
    ProfileError,
    declared_profiles,
    get_profile,
    select_profile,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)


class _Clock:
    def now(self) -> datetime:
        return T0


def test_the_three_generations_oldest_first() -> None:
    assert PROFILE_IDS == ("abiquo-4.0.4", "abiquo-4.7", "abiquo-6.0")
    old, mid, new = (get_profile(p) for p in PROFILE_IDS)
    assert old.results_component == "cpp" and old.has(Operation.LIST_RESULTS)
    assert mid.results_component == "api" and not mid.has(Operation.LIST_RESULTS)
    assert mid.has(Operation.GET_BACKUP_RESULT) and not mid.policy_sync
    assert new.policy_sync and new.has(Operation.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY)
    for profile in (old, mid, new):
        assert profile.has(Operation.APPLY_SCHEDULE) and profile.has(Operation.EXECUTE_RESTORE)
    assert old.applies(None) and old.applies("list-results") and not old.applies("policy-sync")
    assert new.applies("per-id-polling") and not new.applies("list-results")


def test_a_plugin_that_declares_nothing_speaks_4_0_4() -> None:
    class Plain:
        pass

    assert declared_profiles(Plain) == ("abiquo-4.0.4",)
    assert select_profile(declared_profiles(Plain)).id == "abiquo-4.0.4"
    assert BackupPluginBase.contract_profiles == ("abiquo-4.0.4",)


def test_the_newest_profile_both_sides_speak_is_the_default() -> None:
    assert select_profile(("abiquo-4.0.4", "abiquo-6.0", "abiquo-4.7")).id == "abiquo-6.0"
    assert select_profile(("abiquo-4.0.4", "abiquo-4.7")).id == "abiquo-4.7"
    assert select_profile(PROFILE_IDS, "abiquo-4.0.4").id == "abiquo-4.0.4"


def test_asking_for_an_undeclared_profile_lists_what_the_plugin_declares() -> None:
    with pytest.raises(ProfileError, match=r"declares abiquo-4\.0\.4"):
        select_profile(("abiquo-4.0.4",), "abiquo-6.0")


def test_an_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"abiquo-4\.0\.4, abiquo-4\.7, abiquo-6\.0"):
        select_profile(PROFILE_IDS, "abiquo-9")


@pytest.mark.parametrize(
    ("declared", "problem"),
    [("abiquo-6.0", "tuple of profile ids"), ((), "empty"), (("abiquo-5",), "unknown")],
)
def test_a_bad_declaration_is_named(declared: Any, problem: str) -> None:
    class Bad:
        contract_profiles = declared

    with pytest.raises(ProfileError, match=problem):
        declared_profiles(Bad)


def test_the_base_class_raises_unsupported_for_every_new_method() -> None:
    class Bare(BackupPluginBase):
        metadata: ClassVar[PluginMetadata] = PluginMetadata(
            type="bare", friendly_name="Bare", version="1"
        )

    plugin = Bare(PluginContext(_Clock()))
    calls = [
        (Operation.LIST_NEW_BACKUP_RESULTS, lambda c: plugin.list_new_backup_results(c, None)),
        (Operation.LIST_NEW_RESTORE_RESULTS, lambda c: plugin.list_new_restore_results(c, T0)),
        (Operation.GET_BACKUP_RESULT, lambda c: plugin.get_backup_result(c, "bk-1")),
        (Operation.GET_RESTORE_RESULT, lambda c: plugin.get_restore_result(c, "rs-1")),
        (Operation.IS_BACKUP_EXPIRED, lambda c: plugin.is_backup_expired(c, "bk-1")),
        (
            Operation.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY,
            lambda c: plugin.list_virtual_machines_in_backup_policy(c, "gold"),
        ),
    ]
    for op, call in calls:
        with pytest.raises(BackupPluginException) as info:
            call(None)
        assert info.value.error is BackupPluginError.UNSUPPORTED
        assert op.value in info.value.message


def test_initialize_declares_profiles_known_and_unique() -> None:
    base = {"metadata": {"type": "x", "friendly_name": "X", "version": "1"}}
    assert load_model(InitializeResult, base, "result").contract_profiles() == ("abiquo-4.0.4",)
    six = load_model(InitializeResult, {**base, "profiles": ["abiquo-6.0"]}, "result")
    assert six.contract_profiles() == ("abiquo-6.0",)
    for bad in (["abiquo-9"], ["abiquo-6.0", "abiquo-6.0"], []):
        with pytest.raises(WireError, match="profiles"):
            load_model(InitializeResult, {**base, "profiles": bad}, "result")


class _Connection:
    def connect(self, data: ConnectionData) -> None:
        pass

    def disconnect(self) -> None:
        pass


class _PerId(BackupPluginBase):
    """Answers the 4.7 and 6.0 methods from constants, to watch them cross the wire."""

    metadata: ClassVar[PluginMetadata] = PluginMetadata(
        type="per-id", friendly_name="Per id", version="1", supported_versions=("1",)
    )
    contract_profiles: ClassVar[tuple[str, ...]] = ("abiquo-4.7", "abiquo-6.0")

    def new_connection(self) -> Connection:
        return _Connection()

    def list_new_backup_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[BackupResult]:
        name = "none" if start_date is None else start_date.isoformat()
        return [
            BackupResult(
                provider_id="bk-1",
                vm_uuid="vm-1",
                name=name,
                type=BackupType.COMPLETE,
                state=ResultState.IN_PROGRESS,
                creation_date=T0,
            )
        ]

    def list_new_restore_results(
        self, connection: Connection, start_date: datetime | None
    ) -> list[RestoreResult]:
        return []

    def get_backup_result(self, connection: Connection, backup_id: str) -> BackupResult | None:
        return None

    def get_restore_result(self, connection: Connection, restore_id: str) -> RestoreResult | None:
        return RestoreResult(
            provider_id=restore_id,
            backup_provider_id="bk-1",
            state=ResultState.DONE,
            creation_date=T0,
            finish_date=T0,
        )

    def is_backup_expired(self, connection: Connection, backup_id: str) -> bool:
        return backup_id == "bk-old"

    def list_virtual_machines_in_backup_policy(
        self, connection: Connection, policy_code: str
    ) -> frozenset[str]:
        return frozenset({"vm-2", "vm-1"})


def _serve(requests: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    now = "2026-01-05T00:00:00Z"
    lines = []
    for i, (method, params) in enumerate(requests, 1):
        lines.append(
            json.dumps(
                {"jsonrpc": "2.0", "id": i, "method": method, "params": {**params, "now": now}}
            )
        )
    reader = io.BytesIO(("\n".join(lines) + "\n").encode())
    writer = io.BytesIO()
    PluginServer(_PerId, reader, writer).serve()
    return [json.loads(line) for line in writer.getvalue().splitlines()]


def test_the_python_server_answers_the_new_methods_by_their_java_names() -> None:
    init = {
        "protocol_version": "1",
        "harness": {"name": "bpcert", "version": "0"},
        "profile": "abiquo-6.0",
        "component": "api",
    }
    answers = _serve(
        [
            ("initialize", init),
            ("connect", {"connection_data": {}}),
            ("listNewBackupResults", {"connection": "c1", "start_date": None}),
            ("listNewBackupResults", {"connection": "c1", "start_date": "2026-01-04T00:00:00Z"}),
            ("listNewRestoreResults", {"connection": "c1", "start_date": None}),
            ("getBackupResult", {"connection": "c1", "backup_id": "bk-9"}),
            ("getRestoreResult", {"connection": "c1", "restore_id": "rs-1"}),
            ("isBackupExpired", {"connection": "c1", "backup_id": "bk-old"}),
            ("listVirtualMachinesInBackupPolicy", {"connection": "c1", "policy_code": "gold"}),
        ]
    )
    results = [a.get("result") for a in answers]
    assert results[0]["profiles"] == ["abiquo-4.7", "abiquo-6.0"]
    assert results[2][0]["name"] == "none"
    assert results[3][0]["name"] == "2026-01-04T00:00:00+00:00"
    assert results[4] == []
    assert results[5] is None and "error" not in answers[5]
    assert results[6]["provider_id"] == "rs-1"
    assert results[7] is True
    assert results[8] == ["vm-1", "vm-2"]


def test_a_plugin_that_declares_nothing_is_judged_as_one_that_declares_4_0_4() -> None:
    """Done-when of issue 20: a plugin written before profiles (no ``contract_profiles``,
    not even inherited) runs abiquo-4.0.4, with the same verdict per rule as the same
    plugin declaring ``("abiquo-4.0.4",)``: the rules of that generation, and no other."""
    import conformance
    from conformance.rules import RULES
    from simulator.scenario import load_scenario
    from tests.plugins.undeclared import Explicit404, Undeclared

    assert not hasattr(Undeclared, "contract_profiles")
    scenarios = [load_scenario(name) for name in ("smoke", "outage", "lost-backups")]
    reports = [
        conformance.run(plugin, scenarios=scenarios, examples=1, call_timeout_s=2.0)
        for plugin in (Undeclared, Explicit404)
    ]
    verdicts = [
        [(r.id, r.status, r.findings_total, r.reason) for r in report.rules] for report in reports
    ]
    assert verdicts[0] == verdicts[1]
    for report in reports:
        assert report.profile == "abiquo-4.0.4" and report.verdict == "conformant"
    old = get_profile("abiquo-4.0.4")
    assert {r.id for r in reports[0].rules} == {r.id for r in RULES if old.applies(r.capability)}
