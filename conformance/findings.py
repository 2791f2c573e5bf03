"""Where checkers put what they find: findings with evidence, exercised rules, skips, and
the checkers' own failures (an ``error`` verdict on the rules they serve)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reports.model import Finding
from simulator.platform.invoker import CallRecord

__all__ = ["MAX_ERRORS_PER_RULE", "MAX_FINDINGS_PER_RULE", "Sink"]

#: Findings kept per rule and scenario; the rest are counted only.
MAX_FINDINGS_PER_RULE = 20
#: Checker failures kept per rule and scenario; the rest are counted only.
MAX_ERRORS_PER_RULE = 5


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
    ) -> None:
        """Record a violation of ``rule_id`` with the calls that show it."""
        self.exercised.add(rule_id)
        self.totals[rule_id] = self.totals.get(rule_id, 0) + 1
        kept = self.findings.setdefault(rule_id, [])
        if len(kept) >= MAX_FINDINGS_PER_RULE:
            return
        items = [c.evidence() for c in calls if c is not None]
        items.extend(evidence)
        kept.append(
            Finding(
                rule_id=rule_id,
                message=message,
                expected=expected,
                actual=actual,
                at=at,
                scenario=self.scenario,
                evidence=items,
                replay=self.replay,
            )
        )

    def failed(self, rule_id: str) -> bool:
        """True when ``rule_id`` has at least one finding here."""
        return rule_id in self.totals
