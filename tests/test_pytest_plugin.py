"""``pytest --bpcert-plugin=SPEC``: every rule becomes a test item in the vendor's suite."""

from __future__ import annotations

import pytest

from conformance.rules.registry import rules_for
from simulator.profiles import get_profile

pytest_plugins = ["pytester"]


def test_every_rule_is_an_item_and_the_reference_plugin_passes(pytester: pytest.Pytester) -> None:
    # smoke and outage together exercise every rule the reference plugin is held to.
    result = pytester.runpytest_subprocess(
        "--bpcert-plugin=reference",
        "--bpcert-examples=0",
        "--bpcert-scenario=smoke",
        "--bpcert-scenario=outage",
        "-rs",
    )
    outcomes = result.parseoutcomes()
    rules = rules_for(get_profile("abiquo-6.0"))  # the newest profile the reference speaks
    assert result.ret == pytest.ExitCode.OK
    assert outcomes.get("failed", 0) == 0
    assert outcomes.get("passed", 0) + outcomes.get("skipped", 0) == len(rules)
    assert outcomes["passed"] > len(rules) // 2
    result.stdout.fnmatch_lines(["*SKIPPED*errors.no-crash*out-of-process*"])


def test_an_unexercised_required_rule_fails_and_the_session_exits_2(
    pytester: pytest.Pytester,
) -> None:
    # smoke never takes the backup system down: errors.backend-failure-raises is not
    # exercised, which `bpcert check` calls incomplete (exit 2); it must not be a skip.
    result = pytester.runpytest_subprocess(
        "--bpcert-plugin=reference",
        "--bpcert-examples=0",
        "--bpcert-scenario=smoke",
        "--bpcert-rules=errors.*",
        "-rs",
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1
    assert outcomes.get("skipped", 0) >= 1  # a declared skip stays a skip
    result.stdout.fnmatch_lines(
        [
            "*errors.backend-failure-raises*",
            "not exercised: the backup system was never down*",
            "*bpcert: 1 required rule(s) not exercised: the check is incomplete (exit 2)*",
            "*SKIPPED*errors.no-crash*out-of-process*",
        ]
    )
    assert result.ret == 2  # bpcert's ExitCode.INCOMPLETE


def test_bpcert_profile_picks_the_profile_and_its_rules(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--bpcert-plugin=reference",
        "--bpcert-profile=abiquo-4.0.4",
        "--bpcert-examples=0",
        "--bpcert-scenario=misconfigured",
        "--bpcert-rules=polling.*",
        "--collect-only",
        "-q",
    )
    result.stdout.fnmatch_lines(["*polling.window-complete*"])
    assert "per-id-polling" not in result.stdout.str()
    unknown = pytester.runpytest_subprocess(
        "--bpcert-plugin=reference", "--bpcert-profile=abiquo-9"
    )
    assert unknown.ret == pytest.ExitCode.USAGE_ERROR
    unknown.stderr.fnmatch_lines(["*abiquo-4.0.4, abiquo-4.7, abiquo-6.0*"])


def test_a_broken_plugin_fails_its_rule_with_evidence(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        vendor_plugin="""
from simulator.reference import ReferencePlugin

class NoRemove(ReferencePlugin):
    def remove_schedule(self, connection, vm):
        return None
"""
    )
    result = pytester.runpytest_subprocess(
        "--bpcert-plugin=vendor_plugin:NoRemove",
        "--bpcert-examples=0",
        "--bpcert-scenario=smoke",
        "--bpcert-rules=schedules.*",
        "--bpcert-rules=errors.backend-failure-raises",  # not exercised by smoke
    )
    # A finding outweighs a rule not exercised, as in `bpcert check`: exit 1, not 2.
    result.assert_outcomes(failed=2, passed=4)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*schedules.removed-schedule-stops*", "*after remove_schedule*", "*replay: *bpcert run*"]
    )


def test_without_the_option_the_plugin_adds_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x():\n    assert True\n")
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
