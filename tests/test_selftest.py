"""The harness's self-test: every mutant breaks its rule, the honest plugins break none.

Each mutant of :mod:`conformance.selftest.mutants` runs through the same scenarios (the default
set) with the same settings as the reference plugin. The test asserts that the rule the
mutant was written to break comes out ``fail``; on failure it prints every failing rule
of the report, which tells "not caught" from "caught by another rule".

``KNOWN_GAPS`` holds the mutants the harness does not catch yet, with the reason; they
are strict xfails, so fixing the checker turns them into a failure that asks for the
entry to go. ``HANGS`` holds the mutants with which the harness never finishes; they are
not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _pytest.mark.structures import ParameterSet

import conformance
from conformance.rules import RULES
from conformance.rules.registry import CAPABILITIES
from conformance.runner import NOT_EXERCISED
from conformance.selftest.mutants import MUTANTS, NO_MUTANT, CachedLoginPlugin
from reports.model import RunReport
from simulator.reference import ReferencePlugin
from simulator.scenario import load_scenario

#: One selection for every plugin run here, mutants and honest plugins alike: the default
#: set, parsed once (the models are frozen, so worlds can share them), without the month
#: of ``retention``: every mutant is caught in the short scenarios, and the month is there
#: for retentions longer than theirs (tests/test_fidelity.py runs it).
SCENARIOS = tuple(
    load_scenario(name) for name in conformance.DEFAULT_SCENARIOS if name != "retention"
)
#: Wall seconds before a call is indeterminate. Honest calls take milliseconds; a short
#: deadline keeps the mutant that waits forever (errors.returns-within-deadline) cheap.
CALL_TIMEOUT_S = 1.0

#: Mutants the harness does not catch yet (see docs/mutants.md, "Known gaps").
KNOWN_GAPS: dict[str, str] = {}

#: Mutants with which the harness never finishes (simulated time runs on forever).
HANGS: dict[str, str] = {}


def _run(plugin: type) -> RunReport:
    return conformance.run(plugin, scenarios=SCENARIOS, examples=0, call_timeout_s=CALL_TIMEOUT_S)


def _failing(report: RunReport) -> str:
    lines = []
    for r in report.rules:
        if r.status == "fail":
            first = r.findings[0] if r.findings else None
            where = f"[{first.scenario}] {first.message[:160]}" if first else ""
            lines.append(f"  {r.id} ({r.findings_total}): {where}")
    return "\n".join(lines) or "  (none)"


def _params() -> list[ParameterSet]:
    params = []
    for name, (cls, rule_id) in MUTANTS.items():
        marks: list[pytest.MarkDecorator] = []
        if name in HANGS:
            marks.append(pytest.mark.xfail(reason=f"harness hangs: {HANGS[name]}", run=False))
        elif name in KNOWN_GAPS:
            marks.append(pytest.mark.xfail(reason=f"not caught: {KNOWN_GAPS[name]}", strict=True))
        params.append(pytest.param(name, cls, rule_id, id=name, marks=marks))
    return params


@pytest.mark.parametrize(("name", "cls", "rule_id"), _params())
def test_mutant_breaks_its_rule(name: str, cls: type, rule_id: str) -> None:
    report = _run(cls)
    result = next(r for r in report.rules if r.id == rule_id)
    assert result.status == "fail", (
        f"mutant {name} ({cls.__name__}) should fail {rule_id}, but it is {result.status}"
        f"{f' ({result.reason})' if result.reason else ''}.\nFailing rules:\n{_failing(report)}"
    )
    # An advisory rule's failure is reported, but never decides the verdict.
    assert report.verdict == ("conformant" if result.advisory else "non-conformant")
    assert report.exit_code == (0 if result.advisory else 1)


@pytest.mark.parametrize("plugin", [ReferencePlugin, CachedLoginPlugin], ids=lambda c: c.__name__)
def test_honest_plugin_passes_every_rule(plugin: type) -> None:
    report = _run(plugin)
    assert report.verdict == "conformant", f"false positives:\n{_failing(report)}"
    # Skipped only for a declared reason (out-of-process only, a capability the plugin does
    # not declare, measured latency), never because nothing exercised it.
    skipped = {r.id: r.reason for r in report.rules if r.status == "skip"}
    unexpected = {
        rule_id: reason
        for rule_id, reason in skipped.items()
        if (reason or "").startswith(NOT_EXERCISED)
    }
    assert not unexpected, f"rules skipped although the plugin exercises them: {unexpected}"


#: The built-in scenarios of the backup system's out-of-band changes, and the mutants whose
#: bug only such a change shows (or shows there too): each alone must catch them.
OUT_OF_BAND: dict[str, tuple[str, ...]] = {
    "policy-sync": ("first-page-of-members", "cached-members"),
    "lost-backups": ("remembers-lost-backups", "expired-by-date-only"),
}


@pytest.mark.parametrize(
    ("scenario", "name"),
    [(scenario, name) for scenario, names in OUT_OF_BAND.items() for name in names],
)
def test_an_out_of_band_scenario_alone_catches_its_mutants(scenario: str, name: str) -> None:
    cls, rule_id = MUTANTS[name]
    report = conformance.run(
        cls, scenarios=[load_scenario(scenario)], examples=0, call_timeout_s=CALL_TIMEOUT_S
    )
    result = next(r for r in report.rules if r.id == rule_id)
    assert result.status == "fail", f"{name} in {scenario}:\n{_failing(report)}"
    assert all(f.scenario == scenario for f in result.findings)


def test_every_rule_has_a_mutant_or_a_reason() -> None:
    """With test_mutant_breaks_its_rule: every rule id has a mutant that fails it, unless
    NO_MUTANT says why not. A mutant the harness does not catch (a known gap) or never
    finishes with does not count."""
    ids = {r.id for r in RULES}
    caught = {name: entry for name, entry in MUTANTS.items() if name not in {*KNOWN_GAPS, *HANGS}}
    covered = {rule_id for _, rule_id in caught.values()}
    assert {rule_id for _, rule_id in MUTANTS.values()} <= ids, "mutants name unknown rules"
    assert set(NO_MUTANT) <= ids, f"NO_MUTANT names unknown rules: {sorted(set(NO_MUTANT) - ids)}"
    assert not covered & set(NO_MUTANT), "a rule is both covered and listed in NO_MUTANT"
    missing = sorted(ids - covered - set(NO_MUTANT))
    assert not missing, f"rules with neither a mutant nor a reason in NO_MUTANT: {missing}"
    for rule_id, (cls, reason) in NO_MUTANT.items():
        assert cls is None and reason.strip(), rule_id


def test_mutant_table_is_well_formed() -> None:
    assert set(KNOWN_GAPS) <= set(MUTANTS) and set(HANGS) <= set(MUTANTS)
    assert not set(KNOWN_GAPS) & set(HANGS)
    classes = [cls for cls, _ in MUTANTS.values()]
    assert len(set(classes)) == len(classes), "a class appears under two names"
    for name, (cls, rule_id) in MUTANTS.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name
        assert issubclass(cls, ReferencePlugin), f"{name}: {cls.__name__} is not a ReferencePlugin"
        doc = cls.__doc__ or ""
        assert "Bug:" in doc and f"``{rule_id}``" in doc, (
            f"{cls.__name__}'s docstring must say 'Bug: ...' and name ``{rule_id}``"
        )
        # Beside the rule it breaks: conformance.rules.X's mutants are in conformance.selftest.X.
        home = next(c for c in CAPABILITIES if any(r.id == rule_id for r in c.RULES))
        capability = home.__name__.rsplit(".", 1)[1]
        assert cls.__module__ == f"conformance.selftest.{capability}", (
            f"{cls.__name__} breaks {rule_id}: it belongs in conformance/selftest/{capability}.py"
        )


def test_cli_check_names_the_broken_rule(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from conformance.cli import main

    code = main(
        [
            "check",
            "--plugin",
            "conformance.selftest.mutants:UpperCaseTypePlugin",
            "--examples",
            "0",
            "--scenario",
            "misconfigured",
            "--quiet",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "startup.metadata-well-formed" in out and "non-conformant" in out
