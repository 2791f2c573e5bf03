"""Verdicts a shipped plugin can trust (issue 21): what real plugins do is accepted, what
they get wrong is caught, and no blind spot hides among the passes.

Each plugin is a small module of ``tests/plugins/``, run through the CLI as a vendor runs
it; the assertions read the exit code and ``report.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.exit_codes import ExitCode
from conformance.runner import DEFAULT_SCENARIOS, NOT_EXERCISED, resolve_plugin, run_scenario

ROOT = Path(__file__).resolve().parent.parent


def _check(
    tmp_path: Path, plugin: str, *scenarios: str, profile: str = "abiquo-4.0.4"
) -> tuple[int, dict[str, Any]]:
    """``bpcert check`` under ``abiquo-4.0.4`` (the default scenarios unless some are named),
    and its report: these plugins' behaviour is in ``listResults`` and ``getExpiredResults``,
    which only that generation calls."""
    out = tmp_path / "out"
    args = ["check", "--plugin", plugin, "--profile", profile, "--examples", "0"]
    args += ["--quiet", "--out", str(out)]
    for scenario in scenarios:
        args += ["--scenario", scenario]
    result = subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads((out / "report.json").read_text())


def _status(report: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["status"] for r in report["rules"]}


def _not_exercised(report: dict[str, Any]) -> dict[str, str]:
    return {
        r["id"]: r["reason"]
        for r in report["rules"]
        if r["status"] == "skip" and (r["reason"] or "").startswith(NOT_EXERCISED)
    }


def test_a_veeam_like_plugin_is_conformant_with_every_rule_exercised(tmp_path: Path) -> None:
    code, report = _check(tmp_path, "tests.plugins.veeam_like:VeeamLikePlugin")
    failing = {r["id"]: r["findings"][:1] for r in report["rules"] if r["status"] == "fail"}
    assert code == ExitCode.OK, failing
    assert report["verdict"] == "conformant"
    assert not _not_exercised(report)
    skipped = {r["id"]: r["reason"] for r in report["rules"] if r["status"] == "skip"}
    assert "expiry.expiration-date-advice" in skipped  # no date: the contract allows none


def test_the_reference_leaves_no_rule_unexercised(tmp_path: Path) -> None:
    # Without the property examples: the scenarios alone exercise every rule.
    code, report = _check(tmp_path, "reference")
    assert code == ExitCode.OK
    assert not _not_exercised(report)
    assert _status(report)["expiry.expiration-date-advice"] == "pass"


def test_rules_skipped_for_the_plugins_declared_unsupported_operations_leave_it_conformant(
    tmp_path: Path,
) -> None:
    code, report = _check(tmp_path, "tests.plugins.declares_unsupported:NoOnDemandNoRestore")
    failing = {r["id"]: r["findings"][:1] for r in report["rules"] if r["status"] == "fail"}
    assert code == ExitCode.OK, (failing, _not_exercised(report))
    assert report["verdict"] == "conformant"
    skipped = {r["id"]: r["reason"] for r in report["rules"] if r["status"] == "skip"}
    for rule_id in ("on-demand.backup-reaches-final-state", "data.restore-integrity"):
        assert "which the plugin declares unsupported" in skipped[rule_id]
    assert _status(report)["errors.unsupported-raises-unsupported"] == "pass"


def test_declaring_an_older_generations_operation_unsupported_skips_no_rule_of_a_newer_one(
    tmp_path: Path,
) -> None:
    # Rules name listResults and getExpiredResults as what they need; under abiquo-6.0 the
    # per-id calls do that job, so the declaration must not hide the rules behind a skip.
    plugin = "tests.plugins.declares_unsupported:PerIdOnly"
    code, report = _check(tmp_path, plugin, "smoke", "outage", profile="abiquo-6.0")
    skipped = {r["id"]: r["reason"] for r in report["rules"] if r["status"] == "skip"}
    assert not {k: v for k, v in skipped.items() if "declares unsupported" in v}
    status = _status(report)
    for rule_id in ("schedules.backups-at-scheduled-times", "on-demand.backup-reaches-final-state"):
        assert status[rule_id] == "pass"
    assert status["errors.unsupported-raises-unsupported"] == "pass"
    assert code == ExitCode.OK, (skipped, _not_exercised(report))


def test_a_plugin_that_swallows_a_backend_error_into_an_empty_list_is_non_conformant(
    tmp_path: Path,
) -> None:
    code, report = _check(tmp_path, "tests.plugins.swallows_errors:SwallowsBackendErrors", "outage")
    assert code == ExitCode.FINDINGS
    assert _status(report)["polling.failure-raises"] == "fail"


@pytest.mark.parametrize("days", [5, 20])
def test_a_plugin_with_its_own_retention_that_never_reports_expiry_is_non_conformant(
    tmp_path: Path, days: int
) -> None:
    code, report = _check(tmp_path, f"tests.plugins.own_retention:NeverReportsExpiry{days}Days")
    assert code == ExitCode.FINDINGS
    assert _status(report)["expiry.reported-when-due"] == "fail"


def test_a_plugin_that_reports_a_live_backup_expired_is_non_conformant(tmp_path: Path) -> None:
    code, report = _check(tmp_path, "tests.plugins.own_retention:ReportsLiveExpired", "smoke")
    assert code == ExitCode.FINDINGS
    assert _status(report)["expiry.live-never-reported"] == "fail"


def test_a_plugin_whose_listings_keep_more_than_50_expired_results_is_conformant(
    tmp_path: Path,
) -> None:
    plugin = resolve_plugin("tests.plugins.keeps_expired:KeepsExpiredInListings")
    run = run_scenario("retention", plugin)
    system = run.world.backup_system
    end = float(run.world.env.now)
    removed = [
        b.provider_id
        for b in system.truth_backups()
        if (at := system.removed_at(b.provider_id)) is not None and at <= end
    ]
    assert len(removed) > 50  # each still in the plugin's full listing
    expiry = {rule: run.sink.totals.get(rule, 0) for rule in run.sink.exercised if "expiry" in rule}
    assert expiry and not any(expiry.values()), expiry
    # The default set: a subset would leave rules unexercised, an incomplete check.
    code, report = _check(tmp_path, "tests.plugins.keeps_expired:KeepsExpiredInListings")
    assert code == ExitCode.OK, _not_exercised(report)
    assert report["verdict"] == "conformant"


#: Two days of one daily policy and nothing on demand: a 40-day retention never runs out.
_TWO_QUIET_DAYS = """
name: two-quiet-days
seed: 3
duration: 2d
fleet: {vms: 2, deployed_at_start: 2, policy_mix: [{policies: [DAILY], weight: 1}]}
policies:
  - code: DAILY
    name: Daily
    retention: 1d
    configurations:
      - {type: COMPLETE, subtype: DAILY, time: "02:00:00 +0000"}
"""


def test_a_rule_that_could_not_be_exercised_says_which_and_why_and_is_no_pass(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "two-quiet-days.yaml"
    scenario.write_text(_TWO_QUIET_DAYS)
    code, report = _check(tmp_path, "tests.plugins.own_retention:OwnRetention40Days", str(scenario))
    missing = _not_exercised(report)
    assert "expiry.reported-when-due" in missing
    assert "--properties" in missing["expiry.reported-when-due"]
    assert _status(report)["expiry.reported-when-due"] == "skip"
    # Nothing failed, and the check says it could not give a whole verdict: exit 2, and a
    # note names the rule (each output writes the notes and the rule's reason).
    assert code == ExitCode.INCOMPLETE and report["verdict"] == "incomplete"
    assert any(
        n.startswith("incomplete:") and "expiry.reported-when-due" in n for n in report["notes"]
    )
    assert 'type="not-exercised"' in (tmp_path / "out" / "junit.xml").read_text()
    assert "### Not exercised" in (tmp_path / "out" / "summary.md").read_text()
    assert "not exercised" in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.parametrize(
    ("profile", "expiry_rule"),
    [
        ("abiquo-4.0.4", "expiry.reported-when-due"),
        ("abiquo-6.0", "per-id-polling.expired-when-removed"),
    ],
)
def test_a_plugin_with_its_own_backend_and_its_own_retention_is_conformant(
    tmp_path: Path, profile: str, expiry_rule: str
) -> None:
    # Not policy-sync and lost-backups: their changes are made in the fake backup system
    # behind the plugin's back, which this double shares and a backend of its own would
    # not; the judge rightly does not excuse what it sees of them.
    scenarios = [s for s in DEFAULT_SCENARIOS if s not in ("policy-sync", "lost-backups")]
    plugin = "tests.plugins.own_backend:OwnBackend5Days"
    code, report = _check(tmp_path, plugin, *scenarios, profile=profile)
    failing = {r["id"]: r["findings"][:1] for r in report["rules"] if r["status"] == "fail"}
    assert code == ExitCode.OK, failing
    assert not _not_exercised(report)
    status = _status(report)
    # Judged by what its full listings show, not by the fake backup system's truth.
    assert status[expiry_rule] == "pass"
    assert status["data.restore-integrity"] == "skip"


#: The rules that judge answers about removals, by profile.
_EXPIRY_RULES = {
    "abiquo-4.0.4": ("expiry.reported-when-due", "expiry.live-never-reported"),
    "abiquo-6.0": ("per-id-polling.expired-when-removed",),
}


def _expiry_findings(
    plugin: str, scenario: str, profile: str = "abiquo-4.0.4"
) -> tuple[list[tuple[float, str]], float]:
    """The expiry findings of one run of ``plugin`` (instant, message) and the run's end."""
    run = run_scenario(scenario, resolve_plugin(plugin), profile=profile)
    assert not run.checkers.uses_fake_backend  # the harness cannot see its backend
    found = [
        (f.at, f.message)
        for rule in _EXPIRY_RULES[profile]
        for f in run.sink.findings.get(rule, [])
        if f.at is not None
    ]
    return found, float(run.world.env.now)


def test_removals_of_a_plugins_own_backend_are_learnt_as_they_happen() -> None:
    # A 5-day retention in a 32-day run: the first backup the backend removes is found
    # unreported by the check after the full listing that no longer shows it, days before
    # the end of the run (once learnt only from the end-of-run listing).
    plugin = "tests.plugins.own_backend:OwnBackendNeverReportsExpiry"
    found, end = _expiry_findings(plugin, "retention")
    assert found and min(at for at, _ in found) < 6 * 86400.0 < end - 20 * 86400.0
    assert all("has left the plugin's full listing" in message for _, message in found)
    # The mid-run listings are probes at instants of the simulation: the same run again
    # gives the same findings.
    assert _expiry_findings(plugin, "retention") == (found, end)


def test_a_plugin_with_its_own_backend_reporting_a_live_backup_expired_is_caught_at_once() -> None:
    found, _ = _expiry_findings("tests.plugins.own_backend:OwnBackendReportsLiveExpired", "smoke")
    assert found and min(at for at, _ in found) < 86400.0
    assert all("while the backup system still holds it" in message for _, message in found)


def test_is_backup_expired_of_a_plugins_own_backend_is_judged_by_its_listings() -> None:
    # abiquo-6.0 asks is_backup_expired: never true is found as the run goes, always true
    # by the end-of-run probe of live backups, with a listing taken after it.
    plugin = "tests.plugins.own_backend:OwnBackendNeverExpired"
    found, end = _expiry_findings(plugin, "retention", "abiquo-6.0")
    assert found and min(at for at, _ in found) < 6 * 86400.0 < end - 20 * 86400.0
    assert all("answered false" in message for _, message in found)
    plugin = "tests.plugins.own_backend:OwnBackendAlwaysExpired"
    found, _ = _expiry_findings(plugin, "smoke", "abiquo-6.0")
    assert found
    assert all("full listing after the call still shows the backup" in m for _, m in found)
