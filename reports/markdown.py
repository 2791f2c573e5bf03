"""Write ``summary.md``: a short Markdown summary that fits in a pull-request comment.

It names the verdict, the plugin, the seed, the rule counts, the causes shared by several
rules' findings (each with its first finding), a table of the failing rules
with their first finding, the skipped rules (collapsed, with reasons) and the replay
command. It stays under about 60 lines whatever the report holds: long lists are cut
with an "... and N more" line, and the full story is in ``report.html``.
"""

from __future__ import annotations

from pathlib import Path

from reports.json_writer import atomic_write, utf8
from reports.model import RuleResult, RunReport

__all__ = ["summary_markdown", "write_markdown"]

_MAX_FAILING = 12
_MAX_SKIPPED = 10
_CELL = 140

_BADGE = {
    "conformant": "✅ conformant",
    "non-conformant": "❌ non-conformant",
    "incomplete": "⏸️ incomplete",
    "interrupted": "⏹️ interrupted",
    "completed": "☑️ completed",
    "error": "⚠️ error",
}


def _cell(text: str, limit: int = _CELL) -> str:
    """One Markdown table cell: a single line, pipes escaped, clipped."""
    one_line = " ".join(text.split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return one_line.replace("\\", "\\\\").replace("|", "\\|")


def _code(text: str) -> str:
    """Inline code that survives backticks inside ``text``."""
    ticks = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _first_finding(rule: RuleResult) -> str:
    if rule.status == "error":
        return rule.reason or "the harness could not evaluate this rule"
    if rule.findings:
        return rule.findings[0].message
    return rule.reason or "no finding recorded"


def _fence(text: str) -> list[str]:
    fence = "```"
    while fence in text:
        fence += "`"
    return [f"{fence}sh", text, fence]


def summary_markdown(report: RunReport) -> str:
    """The Markdown summary of ``report`` (ends with a newline)."""
    plugin = report.plugin
    counts = report.counts()
    name = plugin.friendly_name or plugin.type or plugin.spec
    version = f" {plugin.version}" if plugin.version else ""
    lines = [
        f"## bpcert {report.kind}: {_BADGE[report.verdict]}",
        "",
        f"**Plugin** {_code(plugin.spec)} ({_cell(name + version, 80)}) · "
        f"**profile** {_code(report.profile)} · "
        f"**seed** {report.seed} · **exit code** {report.exit_code}",
        "",
        f"**Rules:** {counts['pass']} passed · {counts['fail']} failed · "
        f"{counts['skip']} skipped · {counts['error']} errors",
    ]
    for note in report.notes:
        lines += ["", f"**Note:** {note}."]

    if report.causes:
        lines += ["", "### Causes", ""]
        for cause in report.causes:
            lines += [
                f"- **{_cell(cause.headline(), 300)}** ({_cell(cause.rules_text(), 300)}). "
                f"First ({_cell(cause.where(), 100)}): {_cell(cause.first.message, 600)}"
            ]

    failing = report.rules_with("fail", "error")
    if failing:
        lines += [
            "",
            "### Failing rules",
            "",
            "| Rule | Status | Findings | First finding |",
            "| --- | --- | ---: | --- |",
        ]
        for rule in failing[:_MAX_FAILING]:
            total = max(rule.findings_total, len(rule.findings))
            lines.append(
                f"| {_code(rule.id)} | {rule.status} | {total} | {_cell(_first_finding(rule))} |"
            )
        if len(failing) > _MAX_FAILING:
            lines.append(f"| … and {len(failing) - _MAX_FAILING} more | | | |")

    missing = [r for r in report.rules if r.not_exercised]
    if missing:
        lines += ["", "### Not exercised", ""]
        for rule in missing[:_MAX_SKIPPED]:
            lines.append(f"- {_code(rule.id)}: {_cell(rule.reason or 'no reason given')}")
        if len(missing) > _MAX_SKIPPED:
            lines.append(f"- … and {len(missing) - _MAX_SKIPPED} more")
    skipped = [r for r in report.rules_with("skip") if not r.not_exercised]
    if skipped:
        lines += ["", f"<details><summary>{len(skipped)} skipped rules</summary>", ""]
        for rule in skipped[:_MAX_SKIPPED]:
            lines.append(f"- {_code(rule.id)}: {_cell(rule.reason or 'no reason given')}")
        if len(skipped) > _MAX_SKIPPED:
            lines.append(f"- … and {len(skipped) - _MAX_SKIPPED} more")
        lines += ["", "</details>"]

    if report.load is not None:
        load = report.load
        fresh = "n/a" if load.freshness_p95_s is None else f"{load.freshness_p95_s:.1f} s"
        lines += [
            "",
            f"**Load:** {load.vms} VMs × {load.days:g} days · check every "
            f"{load.check_delay_s:g} s · {load.overruns} overruns · freshness p95 {fresh}"
            + (f" · ⚠️ {_cell(load.flag_reason or 'flagged', 100)}" if load.flagged else ""),
        ]

    lines += ["", "**Replay:**", "", *_fence(report.replay)]
    lines += ["", "Full evidence and plots: `report.html`; CI results: `junit.xml`."]
    return "\n".join(lines) + "\n"


def write_markdown(report: RunReport, path: Path) -> Path:
    """Write ``summary.md`` for ``report`` at ``path``; return ``path``."""
    return atomic_write(path, utf8(summary_markdown(report)))
