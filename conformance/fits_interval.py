"""``polling.fits-interval`` judged where it can be: in a load run, at fleet scale.

The built-in check scenarios use a fixed latency on a small fleet, so a check always
lasts a few simulated seconds there and ``bpcert check`` skips the rule, sending the user
to ``bpcert load``; this module gives the load run's report that verdict.
"""

from __future__ import annotations

from conformance.findings import MAX_FINDINGS_PER_RULE
from conformance.rules.registry import rule
from reports.model import Finding, RuleResult, ScenarioSummary

__all__ = ["fits_interval_result"]

_RULE_ID = "polling.fits-interval"


def fits_interval_result(
    summary: ScenarioSummary, *, checks: int, overruns: int, check_delay_s: float, replay: str
) -> RuleResult:
    """The verdict of ``polling.fits-interval`` from a load run's checks.

    It fails when any check took longer than the check interval, with the kept check
    samples that did as findings; it is skipped when no check ran.
    """
    declared = rule(_RULE_ID)
    base = {"id": declared.id, "statement": declared.statement, "category": declared.category}
    if checks == 0:
        return RuleResult(**base, status="skip", reason="no check ran in this load run")
    if overruns == 0:
        return RuleResult(**base, status="pass")
    over = [c for c in summary.checks if c.duration > check_delay_s]
    findings = [
        Finding(
            rule_id=_RULE_ID,
            message=(
                f"the check at {c.start:.0f} s took {c.duration:.1f} s, longer than the "
                f"{check_delay_s:g} s check interval"
            ),
            expected=f"at most {check_delay_s:g} s",
            actual=f"{c.duration:.1f} s ({c.results} results)",
            at=c.start,
            scenario=summary.name,
            replay=replay,
        )
        for c in over[:MAX_FINDINGS_PER_RULE]
    ]
    return RuleResult(
        **base,
        status="fail",
        reason=f"{overruns} of {checks} checks took longer than the {check_delay_s:g} s interval",
        findings=findings,
        findings_total=overruns,
    )
