"""Where checkers put what they find: findings with evidence, exercised rules, skips, and
the checkers' own failures (an ``error`` verdict on the rules they serve)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reports.model import Cause, Finding, RuleResult
from simulator.platform.invoker import CallRecord

__all__ = ["MAX_CAUSES", "MAX_ERRORS_PER_RULE", "MAX_FINDINGS_PER_RULE", "Sink", "shared_causes"]

#: Findings kept per rule and scenario; the rest are counted only.
MAX_FINDINGS_PER_RULE = 20
#: Checker failures kept per rule and scenario; the rest are counted only.
MAX_ERRORS_PER_RULE = 5
#: Causes a report lists, most findings first.
MAX_CAUSES = 5


@dataclass
class Sink:
    """Collects the findings of one world (one scenario run or one property example)."""

    scenario: str
    replay: str | None = None
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    exercised: set[str] = field(default_factory=set)
    not_applicable: dict[str, str] = field(default_factory=dict)
    #: Rules whose reason is a declaration (the plugin's, or the rule's scope), not a
    #: situation the run failed to create: skipped, never "not exercised".
    declared: set[str] = field(default_factory=set)
    #: Rule id -> the first messages of the checker failures that left it unjudged.
    errors: dict[str, list[str]] = field(default_factory=dict)
    #: Rule id -> how many checker failures left it unjudged.
    error_totals: dict[str, int] = field(default_factory=dict)
    #: Cause -> rule id -> how many findings it explains (every one, past the cap too).
    cause_totals: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Cause -> its earliest finding here (by simulated time, then by when it was found).
    cause_first: dict[str, Finding] = field(default_factory=dict)

    def exercise(self, rule_id: str) -> None:
        """Say that the run created a situation in which ``rule_id`` could fail."""
        self.exercised.add(rule_id)

    def not_exercisable(self, rule_id: str, reason: str, *, declared: bool = False) -> None:
        """Say why ``rule_id`` could not be exercised here (shown if nothing else exercised it).

        ``declared``: the reason is a declaration (the plugin declares the capability away,
        or the rule is out of this run's scope), so an unexercised rule is skipped; without
        one it is *not exercised*, which makes the run incomplete.
        """
        self.not_applicable.setdefault(rule_id, reason)
        if declared:
            self.declared.add(rule_id)

    def error(self, rule_id: str, message: str) -> None:
        """Say that a checker failed while judging ``rule_id``: the rule cannot be trusted."""
        self.error_totals[rule_id] = self.error_totals.get(rule_id, 0) + 1
        kept = self.errors.setdefault(rule_id, [])
        if len(kept) < MAX_ERRORS_PER_RULE:
            kept.append(message)

    def fail(
        self,
        rule_id: str,
        message: str,
        *,
        expected: str | None = None,
        actual: str | None = None,
        at: float | None = None,
        calls: Iterable[CallRecord | None] = (),
        evidence: Iterable[dict[str, Any]] = (),
        cause: str | None = None,
    ) -> None:
        """Record a violation of ``rule_id`` with the calls that show it.

        ``cause`` is what the plugin does wrong, when the checker can tell it (see
        :meth:`conformance.rules.base.Context.date_cause`): findings of several rules
        with one cause are grouped in the report (:func:`shared_causes`).
        """
        self.exercised.add(rule_id)
        self.totals[rule_id] = self.totals.get(rule_id, 0) + 1
        kept = self.findings.setdefault(rule_id, [])
        keep = len(kept) < MAX_FINDINGS_PER_RULE
        lead = False
        if cause is not None:
            by_rule = self.cause_totals.setdefault(cause, {})
            by_rule[rule_id] = by_rule.get(rule_id, 0) + 1
            current = self.cause_first.get(cause)
            lead = current is None or not _earlier(current.at, at)
        if not (keep or lead):
            return
        items = [c.evidence() for c in calls if c is not None]
        items.extend(evidence)
        # A cause's first finding is kept past the rule's cap.
        into = kept if keep else []
        into.append(
            Finding(
                rule_id=rule_id,
                message=message,
                expected=expected,
                actual=actual,
                at=at,
                scenario=self.scenario,
                evidence=items,
                replay=self.replay,
                cause=cause,
            )
        )
        if lead and cause is not None:
            self.cause_first[cause] = into[-1]

    def failed(self, rule_id: str) -> bool:
        """True when ``rule_id`` has at least one finding here."""
        return rule_id in self.totals


def _earlier(a: float | None, b: float | None) -> bool:
    """Whether a finding at ``a`` comes before (or with) one at ``b``; no time comes last."""
    if a is None:
        return b is None
    return b is None or a <= b


def shared_causes(results: Sequence[RuleResult], sinks: Iterable[Sink]) -> list[Cause]:
    """The causes behind the findings of two or more of the failed ``results``.

    Counts add up over the worlds (``sinks``, in run order); a cause's first finding is
    the earliest of the first world that has one. Most findings first, at most
    :data:`MAX_CAUSES`.
    """
    failed = [r.id for r in results if r.status == "fail"]
    totals: dict[str, dict[str, int]] = {}
    firsts: dict[str, Finding] = {}
    for sink in sinks:
        for cause, by_rule in sink.cause_totals.items():
            counts = totals.setdefault(cause, {})
            for rule_id, n in by_rule.items():
                counts[rule_id] = counts.get(rule_id, 0) + n
            firsts.setdefault(cause, sink.cause_first[cause])
    causes = []
    for cause, counts in totals.items():
        by_rule = {rule_id: counts[rule_id] for rule_id in failed if rule_id in counts}
        if len(by_rule) >= 2:
            causes.append(
                Cause(
                    cause=cause,
                    findings_total=sum(by_rule.values()),
                    findings_by_rule=by_rule,
                    first=firsts[cause],
                )
            )
    causes.sort(key=lambda c: (-c.findings_total, c.cause))
    return causes[:MAX_CAUSES]
