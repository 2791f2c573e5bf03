"""The scenario file format: model, loader, error positions, built-ins, docs."""

from __future__ import annotations

import pickle
import random
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from simulator import contract
from simulator.scenario import (
    ACTIONS,
    LATENCY_OPERATIONS,
    DistributionSpec,
    OutageSpec,
    PropertiesSpec,
    Scenario,
    ScenarioError,
    builtin_scenarios,
    dump_scenario,
    format_duration,
    load_scenario,
    load_scenario_text,
    parse_duration,
)

ROOT = Path(__file__).resolve().parent.parent
BUILTINS = (
    "fleet-10k",
    "lifecycle",
    "load-l",
    "load-m",
    "load-s",
    "lost-backups",
    "misconfigured",
    "on-demand",
    "outage",
    "policy-sync",
    "retention",
    "smoke",
)

MINIMAL = """\
name: t
duration: 1d
fleet:
  vms: 4
"""


def _error(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(textwrap.dedent(text), "t.yaml")
    return info.value


# ------------------------------------------------------------------------ durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("600", 600.0),
        ("1.5", 1.5),
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("1.5h", 5400.0),
        ("2d", 172800.0),
        ("1w", 604800.0),
        ("250ms", 0.25),
        ("50ms", 0.05),
        ("1h30m", 5400.0),
        ("2d 12h", 216000.0),
        ("1w2d3h4m5s6ms", 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5.006),
        (" 10m ", 600.0),
        (".5s", 0.5),
    ],
)
def test_parse_duration_accepts(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds, abs=1e-12)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty duration"),
        ("-5m", "negative"),
        ("10 minutes", "invalid duration"),
        ("m", "invalid duration"),
        ("1x", "invalid duration"),
        ("30m1h", "largest first"),
        ("1h1h", "largest first"),
        ("1h-30m", "invalid duration"),
        ("abc", "invalid duration"),
    ],
)
def test_parse_duration_rejects_with_examples(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert fragment in str(info.value)
    assert "1h30m" in str(info.value)  # every message shows how to write one


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0, "0s"), (600.0, "10m"), (5400.0, "1h30m"), (0.05, "50ms"), (1209600.0, "14d")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_duration_round_trips() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        x = round(rng.uniform(0, 1e7), rng.choice([0, 1, 3, 6]))
        assert parse_duration(format_duration(x)) == x


@pytest.mark.parametrize(
    ("value", "seconds"), [("2d", 172800.0), (90, 90.0), (1.5, 1.5), ("1h30m", 5400.0)]
)
def test_yaml_durations_become_seconds(value: Any, seconds: float) -> None:
    s = Scenario.model_validate({"name": "t", "duration": value, "fleet": {"vms": 1}})
    assert s.duration == seconds


def test_duration_rejects_booleans_and_zero_where_positive() -> None:
    err = _error(MINIMAL.replace("duration: 1d", "duration: true"))
    assert err.field == "duration" and "boolean" in err.message
    err = _error(MINIMAL.replace("duration: 1d", "duration: 0s"))
    assert err.field == "duration" and "greater than 0" in err.message


# ---------------------------------------------------------------------- built-ins


def test_builtin_scenarios_are_listed_sorted() -> None:
    found = builtin_scenarios()
    assert tuple(found) == BUILTINS
    assert all(path.is_file() and path.suffix == ".yaml" for path in found.values())


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_loads_and_round_trips(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name  # the file's name key matches its file name
    assert scenario.description
    assert load_scenario_text(dump_scenario(scenario)) == scenario
    text = builtin_scenarios()[name].read_text(encoding="utf-8")
    assert text.startswith(f"# {name}: "), "each built-in opens with a comment header"


#: Built-in scenarios that ``bpcert check`` does not run, and why: fleet-sized, for
#: ``bpcert load``. The default check of the reference under every profile, every other
#: built-in and the property suite included, is test_judge_regressions'.
LOAD_SCENARIOS: dict[str, str] = {
    "fleet-10k": "10,000 VMs for 7 days: polls at datacenter size, for bpcert load",
    "load-s": "5,000 VMs for 7 days, for bpcert load and make bench",
    "load-m": "100,000 VMs over 4 backup managers: a conformance run refuses it",
    "load-l": "1,000,000 VMs over 10 backup managers: a conformance run refuses it",
}


def test_every_builtin_is_in_the_default_check_or_said_to_be_for_load() -> None:
    from conformance.runner import DEFAULT_SCENARIOS

    assert set(DEFAULT_SCENARIOS) | set(LOAD_SCENARIOS) == set(builtin_scenarios())
    assert not set(DEFAULT_SCENARIOS) & set(LOAD_SCENARIOS)


def test_builtin_by_path_equals_builtin_by_name() -> None:
    assert load_scenario(ROOT / "scenarios" / "smoke.yaml") == load_scenario("smoke")
    assert load_scenario(str(ROOT / "scenarios" / "smoke.yaml")) == load_scenario("smoke")


def test_smoke_covers_every_operation_and_configuration_kind() -> None:
    s = load_scenario("smoke")
    scripted = {entry.action for entry in s.workload.timeline}
    random_rates = {a for a, rate in s.workload.rates.per_day().items() if rate > 0}
    assert scripted | random_rates == set(ACTIONS)
    configs = [c for p in s.policies for c in p.configurations]
    subtypes = {c.subtype for c in configs}
    assert {
        contract.Periodicity.DAILY,
        contract.Periodicity.WEEKLY_PLANNED,
        contract.Periodicity.HOURLY,
    } <= subtypes
    assert any(c.subtype is contract.Periodicity.HOURLY and c.time == "6" for c in configs)
    assert any(c.type is contract.BackupType.FILESYSTEM and c.sources for c in configs)
    assert any(c.time is None for c in configs)
    assert s.fleet.deployed_at_start == 15


def test_on_demand_breaks_each_precondition() -> None:
    s = load_scenario("on-demand")
    assert s.workload.invalid_fraction == 0.3
    restores = [e for e in s.workload.timeline if e.action == "restore"]
    assert {e.backup for e in restores} >= {"latest", "latest-any", "no-such-backup"}
    undeployed = range(s.fleet.deployed_initially, s.fleet.vms)
    assert any(e.action == "backup_now" and e.vm in undeployed for e in s.workload.timeline)


def test_load_profiles_have_their_sizes() -> None:
    sizes = {n: load_scenario(n) for n in ("load-s", "load-m", "load-l", "fleet-10k")}
    assert [(s.fleet.vms, s.duration / 86400) for s in sizes.values()] == [
        (5000, 7),
        (100000, 30),
        (1000000, 7),
        (10000, 7),
    ]
    for name in ("load-s", "load-m", "load-l"):
        s = sizes[name]
        hourly = sum(e.weight for e in s.fleet.policy_mix if "HOURLY-4" in e.policies)
        total = sum(e.weight for e in s.fleet.policy_mix)
        assert hourly / total == pytest.approx(0.10)
        assert s.platform.check_delay == 600.0
        assert s.policy("HOURLY-4").retention == 86400.0


def test_misconfigured_uses_empty_properties() -> None:
    s = load_scenario("misconfigured")
    assert s.platform.properties.mode == "empty"
    assert s.platform.properties.apply({"a": "1"}) == {}


def test_outage_windows_lie_in_the_run() -> None:
    s = load_scenario("outage")
    assert [(o.start, o.end) for o in s.faults.outages] == [
        (6 * 3600.0, 8 * 3600.0),
        (30 * 3600.0, 31.5 * 3600.0),
    ]


# ----------------------------------------------------------------- unknown names


def test_unknown_builtin_lists_builtins_and_suggests() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("smok")
    err = info.value
    assert err.source == "smok"
    assert "did you mean 'smoke'?" in err.message
    for name in BUILTINS:
        assert name in err.message


def test_missing_file_lists_builtins(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "smoke.yaml")
    assert "does not exist" in info.value.message
    assert "did you mean the built-in 'smoke'" in info.value.message
    assert "on-demand" in info.value.message


def test_file_path_loads(tmp_path: Path) -> None:
    path = tmp_path / "mine.yml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_scenario(path).fleet.vms == 4


# ------------------------------------------------------------- error positions


def test_unknown_key_reports_line_field_and_suggestion() -> None:
    err = _error(
        """\
        name: t
        duration: 1d
        fleet:
          vms: 4
        platform:
          open_sessions: 2
          chek_delay: 10m
        """
    )
    assert (err.source, err.line, err.column) == ("t.yaml", 7, 3)
    assert err.field == "platform.chek_delay"
    assert "did you mean 'check_delay'?" in err.message
    assert "open_sessions" in err.message  # the allowed keys are listed
    assert str(err).startswith("t.yaml:7:3: platform.chek_delay: unknown key 'chek_delay'")


def test_bad_configuration_time_points_at_time() -> None:
    err = _error(
        """\
        name: t
        duration: 1d
        fleet: {vms: 1}
        policies:
          - code: P
            name: P
            configurations:
              - type: COMPLETE
                subtype: DAILY
                time: "25:00"
        """
    )
    assert err.field == "policies[0].configurations[0].time"
    assert (err.line, err.column) == (10, 15)
    assert str(err) == (
        "t.yaml:10:15: policies[0].configurations[0].time: time '25:00' does not match the "
        "DAILY format: expected 'HH:mm:ss Z', e.g. '23:30:00 +0000'"
    )


def test_configuration_days_rule_points_at_days() -> None:
    err = _error(
        """\
        name: t
        duration: 1d
        fleet: {vms: 1}
        policies:
          - code: P
            name: P
            configurations:
              - {type: COMPLETE, subtype: DAILY, time: "01:00:00 +0000"}
              - type: SNAPSHOT
                subtype: WEEKLY_PLANNED
                time: "01:00:00 +0000"
        """
    )
    # days is missing, so the field names it and the line is its configuration's
    assert err.field == "policies[0].configurations[1].days"
    assert err.message == "WEEKLY_PLANNED needs at least one weekday"
    assert err.line == 9


def test_hourly_time_may_be_a_yaml_number() -> None:
    s = load_scenario_text(
        MINIMAL + "policies:\n  - {code: H, name: H, configurations: "
        "[{type: SNAPSHOT, subtype: HOURLY, time: 6}]}\n"
    )
    assert s.policies[0].configurations[0].time == "6"


def test_duplicate_type_subtype_points_at_the_second() -> None:
    err = _error(
        """\
        name: t
        duration: 1d
        fleet: {vms: 1}
        policies:
          - code: P
            name: P
            configurations:
              - {type: COMPLETE, subtype: DAILY, time: "01:00:00 +0000"}
              - {type: COMPLETE, subtype: DAILY, time: "02:00:00 +0000"}
        """
    )
    assert err.field == "policies[0].configurations[1]"
    assert err.line == 9
    assert "already used by configurations[0]" in err.message


def test_yaml_syntax_error_reports_line() -> None:
    err = _error(
        """\
        name: t
        duration: 1d
        fleet:
          vms: [1, 2
        policies: []
        """
    )
    assert err.message.startswith("invalid YAML")
    assert err.line == 5
    assert err.field == ""


def test_duplicate_keys_are_errors() -> None:
    err = _error(MINIMAL + "fleet:\n  vms: 5\n")
    assert (err.line, err.field) == (5, "fleet")
    assert "already given on line 3" in err.message


def test_several_problems_all_reported_in_file_order() -> None:
    err = _error(
        """\
        name: t
        duration: 1d
        fleet:
          vms: 0
          hypervisors: 3
        backup_system:
          failure_probability: 2
        """
    )
    assert [(p.line, p.field) for p in err.problems] == [
        (4, "fleet.vms"),
        (5, "fleet.hypervisors"),
        (7, "backup_system.failure_probability"),
    ]
    assert (err.line, err.field) == (4, "fleet.vms")
    lines = str(err).splitlines()
    assert len(lines) == 3 and all(line.startswith("t.yaml:") for line in lines)
    assert "got 0" in lines[0]


def test_missing_required_key_is_named() -> None:
    err = _error("name: t\nduration: 1d\n")
    assert err.field == "fleet"
    assert "required key 'fleet' is missing" in err.message


def test_not_a_mapping() -> None:
    assert "mapping of keys" in _error("- 1\n- 2\n").message
    assert "empty" in _error("").message
    err = _error("name: t\nduration: 1d\nfleet: 5\n")
    assert err.field == "fleet" and "expected a mapping with keys vms" in err.message


def test_naive_start_is_refused() -> None:
    err = _error(MINIMAL + "start: 2026-01-05T00:00:00\n")
    assert err.field == "start" and "timezone-aware" in err.message


def test_scenario_error_pickles() -> None:
    err = _error(MINIMAL + "bogus: 1\nalso: 2\n")
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.line == err.line


# ------------------------------------------------------------ cross-field rules


def test_cross_field_errors() -> None:
    err = _error(
        """\
        name: t
        duration: 2d
        fleet:
          vms: 3
          policy_mix:
            - {policies: [GOLDD], weight: 1}
        policies:
          - {code: GOLD, name: Gold}
          - {code: GOLD, name: Gold again}
        backup_system:
          start_delay_max: 20m
        workload:
          timeline:
            - {at: 1h, action: deploy, vm: 3, policies: [SILVER]}
            - {at: 3d, action: power_on, vm: 0}
        faults:
          outages:
            - {start: 1h, duration: 2h}
            - {start: 2h, duration: 2d}
        """
    )
    got = {p.field: (p.line, p.message) for p in err.problems}
    assert "did you mean 'GOLD'?" in got["fleet.policy_mix[0].policies[0]"][1]
    assert got["fleet.policy_mix[0].policies[0]"][0] == 6
    assert "must be unique" in got["policies[1].code"][1]
    assert "must be < platform.tolerance" in got["backup_system.start_delay_max"][1]
    assert got["workload.timeline[0].vm"] == (
        14,
        "vm 3 is outside the fleet: fleet.vms is 3, so vm must be 0 .. 2",
    )
    assert "known codes: GOLD" in got["workload.timeline[0].policies[0]"][1]
    assert "before the end" in got["workload.timeline[1].at"][1]
    assert "ends after the scenario" in got["faults.outages[1]"][1]
    assert "overlaps faults.outages[0]" in got["faults.outages[1].start"][1]


def test_deployed_at_start_within_fleet() -> None:
    err = _error(MINIMAL + "  deployed_at_start: 5\n")
    assert err.field == "fleet.deployed_at_start" and err.line == 5


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ("{at: 1h, action: restore, vm: 0, policies: []}", "policies"),
        ("{at: 1h, action: restore, vm: 0, replication: true}", "replication"),
        ("{at: 1h, action: backup_now, vm: 0, backup: x}", "backup"),
        ("{at: 1h, action: backup_now, vm: 0, repeat: true}", "repeat"),
        ("{at: 1h, action: reboot, vm: 0}", "action"),
        ("{at: 1h, action: admin_add, vm: 0}", "policy"),
        ("{at: 1h, action: admin_remove, vm: 0}", "policy"),
        ("{at: 1h, action: deploy, vm: 0, policy: GOLD}", "policy"),
        ("{at: 1h, action: backup_now, vm: 0, in_progress: true}", "in_progress"),
        ("{at: 1h, action: lose_backup, vm: 0, in_progress: 1}", "in_progress"),
        ("{at: 1h, action: lose_backup, vm: 0, backup: latest-any}", "backup"),
    ],
)
def test_timeline_fields_fit_their_action(entry: str, field: str) -> None:
    err = _error(MINIMAL + f"workload:\n  timeline:\n    - {entry}\n")
    assert err.field == f"workload.timeline[0].{field}"
    assert err.line == 7


def test_an_out_of_band_change_names_a_known_policy_and_a_vm_of_the_fleet() -> None:
    err = _error(
        """\
        name: t
        duration: 1d
        fleet:
          vms: 3
        policies:
          - {code: GOLD, name: Gold}
        workload:
          timeline:
            - {at: 1h, action: admin_add, vm: 0, policy: GOLDD}
            - {at: 2h, action: admin_remove, vm: 3, policy: GOLD}
            - {at: 1d, action: lose_backup, vm: 1}
        """
    )
    got = {p.field: (p.line, p.message) for p in err.problems}
    line, message = got["workload.timeline[0].policy"]
    assert line == 9 and "unknown policy 'GOLDD'" in message and "did you mean 'GOLD'?" in message
    assert (
        got["workload.timeline[1].vm"][0] == 10
        and "outside the fleet" in got["workload.timeline[1].vm"][1]
    )
    assert "before the end" in got["workload.timeline[2].at"][1]


def test_the_out_of_band_actions_load_and_round_trip() -> None:
    scenario = load_scenario_text(
        MINIMAL
        + "policies:\n  - {code: GOLD, name: Gold}\n"
        + "workload:\n  timeline:\n"
        + "    - {at: 1h, action: admin_add, vm: 1, policy: GOLD}\n"
        + "    - {at: 2h, action: lose_backup, vm: 2, in_progress: true}\n",
        "t.yaml",
    )
    add, lose = scenario.workload.timeline
    assert (add.action, add.policy, lose.action, lose.in_progress) == (
        "admin_add",
        "GOLD",
        "lose_backup",
        True,
    )
    assert load_scenario_text(dump_scenario(scenario)) == scenario


def test_unknown_latency_operation_suggests() -> None:
    err = _error(
        MINIMAL
        + "latency:\n  mode: distribution\n  operations:\n    executeBackups: 2s\n"
        + "    listResults: {kind: uniform, low: 1s, high: 3s}\n"
    )
    assert err.field == "latency.operations.executeBackups"
    assert (err.line, err.column) == (8, 5)
    assert "did you mean 'executeBackup'?" in err.message
    assert set(LATENCY_OPERATIONS) == {"validateConfiguration"} | {
        op.value for op in contract.Operation
    }


def test_properties_set_and_unset_disjoint() -> None:
    with pytest.raises(ValidationError):
        PropertiesSpec(set={"a": "1"}, unset=("a",))
    props = PropertiesSpec(set={"b": "2"}, unset=("a",))
    assert props.apply({"a": "1", "c": "3"}) == {"c": "3", "b": "2"}
    coerced = PropertiesSpec.model_validate({"set": {"port": 8080, "ssl": True}})
    assert coerced.set == {"port": "8080", "ssl": "true"}


def test_scenario_is_frozen_and_strict() -> None:
    s = load_scenario_text(MINIMAL)
    with pytest.raises(ValidationError):
        s.seed = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Scenario.model_validate({"name": "t", "duration": 1, "fleet": {"vms": 1}, "x": 1})
    assert s.end.isoformat() == "2026-01-06T00:00:00+00:00"
    assert s.start.weekday() == 0  # a Monday


def test_policy_spec_to_policy_and_schedule() -> None:
    s = load_scenario("smoke")
    schedule = s.schedule(["GOLD", "FILES"])
    assert [p.code for p in schedule.policies] == ["GOLD", "FILES"]
    assert schedule.policies[0] == s.policy("GOLD").to_policy()
    with pytest.raises(KeyError, match="known codes"):
        s.policy("NOPE")


def test_connection_data() -> None:
    s = load_scenario_text(MINIMAL + "platform:\n  backup_manager: {endpoint: null}\n")
    data = s.platform.backup_manager.connection_data("sim://backup-1")
    assert data.endpoint is None and data.user == "admin"
    assert data.password is not None and data.password.get_secret_value() == "secret"
    auto = load_scenario_text(MINIMAL).platform.backup_manager.connection_data("sim://w")
    assert auto.endpoint == "sim://w"


# ----------------------------------------------------------------- dump / load


def test_dump_load_round_trip_of_a_rich_scenario() -> None:
    s = Scenario.model_validate(
        {
            "name": "rich",
            "seed": 42,
            "start": "2026-03-01T12:00:00+01:00",
            "duration": "1d2h3m4.5s",
            "fleet": {"vms": 7, "deployed_at_start": 3, "disk_size_gb": [1.25, 3.5]},
            "policies": [
                {
                    "code": "P",
                    "name": "P",
                    "retention": "36h",
                    "configurations": [
                        {"type": "COMPLETE", "subtype": "HOURLY", "time": "6"},
                        {
                            "type": "FILESYSTEM",
                            "subtype": "WEEKLY_PLANNED",
                            "time": "01:00:00 -0330",
                            "days": ["sunday"],
                            "sources": ["/srv"],
                        },
                    ],
                }
            ],
            "platform": {"properties": {"set": {"x.y": "1"}, "unset": ["z"]}},
            "latency": {
                "mode": "distribution",
                "operations": {"listResults": {"kind": "lognormal", "median": 0.3, "sigma": 1}},
                "default": {"kind": "exponential", "mean": 0.123456789},
            },
            "workload": {
                "rates": {"backup_now": 1.5},
                "timeline": [{"at": 0.001, "action": "restore", "vm": 6, "backup": "b-1"}],
            },
            "faults": {"outages": [{"start": "1h", "duration": 1 / 3}]},
        }
    )
    text = dump_scenario(s, comment="replay with:\n  bpcert run this.yaml")
    assert text.startswith("# replay with:\n#   bpcert run this.yaml\n")
    assert load_scenario_text(text) == s
    assert "duration: 1d2h3m4.5s" in text  # durations are written readably


def test_dump_leaves_out_defaults() -> None:
    assert dump_scenario(load_scenario_text(MINIMAL)) == "name: t\nduration: 1d\nfleet:\n  vms: 4\n"


# --------------------------------------------------------------- distributions


def test_distribution_sample_deterministic_and_bounded() -> None:
    specs = [
        DistributionSpec(kind="fixed", value=2.0),
        DistributionSpec(kind="uniform", low=0.5, high=1.5),
        DistributionSpec(kind="exponential", mean=0.2),
        DistributionSpec(kind="lognormal", median=0.1, sigma=0.5),
    ]
    for spec in specs:
        a = [spec.sample(random.Random(99)) for _ in range(3)]
        b = [spec.sample(random.Random(99)) for _ in range(3)]
        assert a == b
        draws = [spec.sample(rng) for rng in [random.Random(5)] for _ in range(2000)]
        assert all(x >= 0 for x in draws)
        if spec.kind == "fixed":
            assert set(draws) == {2.0}
        if spec.kind == "uniform":
            assert min(draws) >= 0.5 and max(draws) <= 1.5
            assert sum(draws) / len(draws) == pytest.approx(1.0, abs=0.05)
        if spec.kind == "exponential":
            assert sum(draws) / len(draws) == pytest.approx(0.2, rel=0.1)
        if spec.kind == "lognormal":
            assert sorted(draws)[1000] == pytest.approx(0.1, rel=0.1)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"kind": "fixed"}, "needs value"),
        ({"kind": "uniform", "low": 2, "high": 1}, "must be >= low"),
        ({"kind": "uniform", "low": 1, "high": 2, "mean": 1}, "not mean"),
        ({"kind": "exponential", "mean": 0}, "mean must be > 0"),
        ({"kind": "lognormal", "median": 1}, "sigma is missing"),
        ({"kind": "gamma", "value": 1}, "Input should be"),
    ],
)
def test_distribution_params_fit_kind(spec: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(fragment)):
        DistributionSpec.model_validate(spec)


def test_distribution_shorthand_and_lookup() -> None:
    s = load_scenario_text(
        MINIMAL + "latency:\n  mode: distribution\n  operations: {executeBackup: 2s}\n"
    )
    assert s.latency.distribution_for("executeBackup") == DistributionSpec(kind="fixed", value=2)
    assert s.latency.distribution_for("listResults").value == 1.0


def test_outage_end() -> None:
    assert OutageSpec(start=3600, duration="30m").end == 5400.0


# ----------------------------------------------------------------------- docs


def _models() -> list[type[BaseModel]]:
    import importlib
    import pkgutil

    import simulator.scenario as package

    found: list[type[BaseModel]] = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.extend(
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, BaseModel)
            and obj.__module__ == module.__name__
            and not obj.__name__.startswith("_")
        )
    assert len(found) > 10, "the scenario models were not found"
    return found


def test_every_key_is_described_and_documented() -> None:
    docs = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    for model in _models():
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            assert f"`{name}`" in docs, f"docs/scenarios.md does not document `{name}`"
    for name in BUILTINS:
        assert f"`{name}`" in docs, f"docs/scenarios.md does not list the built-in {name}"
    assert "abiquo.backup.check.delay" in docs
    assert "abiquo.virtualfactory.backup.openSession" in docs


def test_docs_example_loads() -> None:
    docs = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", docs, flags=re.S)
    full = [b for b in blocks if b.lstrip().startswith(("# example", "name:"))]
    assert full, "docs/scenarios.md needs an annotated example"
    for block in full:
        load_scenario_text(block, "docs/scenarios.md")
