"""Write ``junit.xml``: one test case per conformance rule, for CI servers.

The document validates against ``reports/junit.xsd`` (a strict subset of the Jenkins /
Ant JUnit shape that Jenkins, GitLab and GitHub reporters read):

- the root ``<testsuites>`` holds one ``<testsuite name="bpcert.<category>">`` per rule
  category, in the order the categories first appear in the report;
- each suite starts with ``<properties>``: seed, plugin, replay command, verdict ...;
- each rule is ``<testcase classname="bpcert.<category>" name="<id>: <statement>">``;
  a skipped rule has ``<skipped message="<reason>">`` (``type="not-exercised"`` when no
  declaration explains it: what makes a check incomplete), a failed one
  ``<failure type="non-conformance">`` whose text is the evidence (the first findings,
  their call records and the replay command), and a rule the harness could not evaluate
  ``<error type="harness-error">``.

Rules are evaluated online during the simulation, so they have no time of their own:
test cases and suites carry ``time="0"``, and the root carries the run's wall time.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from reports.json_writer import atomic_write, utf8
from reports.model import Finding, RuleResult, RunReport

__all__ = ["JUNIT_XSD", "junit_xml", "write_junit"]

#: The schema the output validates against (shipped as package data).
JUNIT_XSD = Path(__file__).with_name("junit.xsd")

# How much evidence goes into one <failure>: enough to act on, small enough for a CI page.
_MAX_FINDINGS = 5
_MAX_CALLS = 10
_MAX_VALUE = 400

# Characters XML 1.0 cannot carry at all, even escaped.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _clip(text: str, limit: int = _MAX_VALUE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _call_line(call: dict[str, Any]) -> str:
    return _clip(json.dumps(call, ensure_ascii=False, default=str, separators=(", ", ": ")))


def _finding_text(n: int, finding: Finding) -> list[str]:
    lines = [f"[{n}] {finding.message}"]
    where = []
    if finding.scenario is not None:
        where.append(f"scenario: {finding.scenario}")
    if finding.at is not None:
        where.append(f"at: {finding.at:.3f} s (simulated)")
    if where:
        lines.append("    " + "   ".join(where))
    if finding.expected is not None:
        lines.append(f"    expected: {_clip(finding.expected)}")
    if finding.actual is not None:
        lines.append(f"    actual:   {_clip(finding.actual)}")
    if finding.evidence:
        lines.append(f"    calls ({len(finding.evidence)}):")
        lines.extend(f"      - {_call_line(c)}" for c in finding.evidence[:_MAX_CALLS])
        if len(finding.evidence) > _MAX_CALLS:
            lines.append(f"      ... {len(finding.evidence) - _MAX_CALLS} more calls")
    if finding.replay:
        lines.append(f"    replay: {finding.replay}")
    return lines


def failure_text(rule: RuleResult, replay: str) -> str:
    """The evidence of a failed rule as plain text (also used by other writers)."""
    total = max(rule.findings_total, len(rule.findings))
    shown = rule.findings[:_MAX_FINDINGS]
    lines = [f"{rule.id}: {rule.statement}", f"Findings: {total} (showing {len(shown)})", ""]
    for n, finding in enumerate(shown, 1):
        lines.extend(_finding_text(n, finding))
        lines.append("")
    if rule.reason:
        lines.extend([f"Note: {rule.reason}", ""])
    lines.append(f"Replay the run: {replay}")
    return "\n".join(lines)


def failure_message(rule: RuleResult) -> str:
    """A one-line summary of a failed rule: the count and the first finding."""
    total = max(rule.findings_total, len(rule.findings))
    first = rule.findings[0].message if rule.findings else (rule.reason or "no finding recorded")
    noun = "finding" if total == 1 else "findings"
    return _clip(f"{total} {noun}: {first}", 300)


def _testcase(parent: ET.Element, rule: RuleResult, replay: str) -> None:
    case = ET.SubElement(
        parent,
        "testcase",
        {
            "classname": _xml_safe(f"bpcert.{rule.category}"),
            "name": _xml_safe(f"{rule.id}: {rule.statement}"),
            "time": "0",
        },
    )
    if rule.status == "skip":
        reason = rule.reason or "skipped (no reason given)"
        attrs = {"message": _xml_safe(_clip(reason, 300))}
        if rule.not_exercised:
            # No declaration explains it: what makes a check incomplete (exit 2).
            attrs["type"] = "not-exercised"
        el = ET.SubElement(case, "skipped", attrs)
        el.text = _xml_safe(reason)
    elif rule.status == "fail" and rule.advisory:
        # Advice, not a failure: CI must not go red on it.
        el = ET.SubElement(case, "system-out")
        el.text = _xml_safe(f"advisory: {failure_text(rule, replay)}")
    elif rule.status == "fail":
        el = ET.SubElement(
            case,
            "failure",
            {"message": _xml_safe(failure_message(rule)), "type": "non-conformance"},
        )
        el.text = _xml_safe(failure_text(rule, replay))
    elif rule.status == "error":
        reason = rule.reason or "the harness could not evaluate this rule"
        el = ET.SubElement(
            case, "error", {"message": _xml_safe(_clip(reason, 300)), "type": "harness-error"}
        )
        el.text = _xml_safe(f"{reason}\n\nReplay the run: {replay}")


def _properties(parent: ET.Element, report: RunReport) -> None:
    props = ET.SubElement(parent, "properties")
    plugin = report.plugin
    values = [
        ("bpcert.schema_version", report.schema_version),
        ("bpcert.version", report.tool.version),
        ("bpcert.kind", report.kind),
        ("bpcert.run_id", report.run_id),
        ("seed", str(report.seed)),
        ("profile", report.profile),
        ("plugin", plugin.spec),
        ("plugin.type", plugin.type or ""),
        ("plugin.name", plugin.friendly_name or ""),
        ("plugin.version", plugin.version or ""),
        ("verdict", report.verdict),
        ("exit_code", str(report.exit_code)),
        ("replay", report.replay),
    ]
    for name, value in values:
        ET.SubElement(props, "property", {"name": name, "value": _xml_safe(value)})


def _suite(
    root: ET.Element, report: RunReport, name: str, rules: list[RuleResult]
) -> dict[str, int]:
    counts = {
        "tests": len(rules),
        "failures": sum(r.status == "fail" and not r.advisory for r in rules),
        "errors": sum(r.status == "error" for r in rules),
        "skipped": sum(r.status == "skip" for r in rules),
    }
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": _xml_safe(name),
            **{k: str(v) for k, v in counts.items()},
            "time": "0",
            "timestamp": _xml_safe(report.created_at),
        },
    )
    _properties(suite, report)
    for rule in rules:
        _testcase(suite, rule, report.replay)
    return counts


def junit_xml(report: RunReport) -> str:
    """The JUnit XML document for ``report`` (UTF-8 text with an XML declaration)."""
    root = ET.Element("testsuites", {"name": "bpcert"})
    totals = {"tests": 0, "failures": 0, "errors": 0}
    categories = report.categories()
    if not categories:
        # An empty but well-formed suite still carries the seed and plugin for the CI page.
        _suite(root, report, "bpcert", [])
    for category in categories:
        rules = [r for r in report.rules if r.category == category]
        counts = _suite(root, report, f"bpcert.{category}", rules)
        for key in totals:
            totals[key] += counts[key]
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{report.wall_seconds:.3f}")
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def write_junit(report: RunReport, path: Path) -> Path:
    """Write ``junit.xml`` for ``report`` at ``path``; return ``path``."""
    return atomic_write(path, utf8(junit_xml(report)))
