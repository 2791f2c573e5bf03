"""Write ``report.html``: one self-contained page a vendor can open, mail or archive.

Self-contained means: inline CSS, plots embedded as ``data:image/png;base64`` URIs, no
JavaScript library, no web font, and no reference to any other URL. A
``Content-Security-Policy`` meta tag makes a browser refuse anything else
(``default-src 'none'``), and allows only this page's own style and script by hash.

The one inline script runs at ``load`` and sets ``data-plots-loaded`` on ``<body>`` to
the number of plots that decoded (``data-plots-total`` says how many there are); the
headless-browser test reads it.

The page shows: a coloured verdict banner (``id="verdict"`` holds the verdict text), the
plugin's metadata, the seed and replay command, the causes shared by several rules'
findings (each led by its first finding), the rule table with expandable evidence
for each failing rule, each scenario's numbers and plots, and load metrics when present.
Every piece of report text is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from reports.json_writer import atomic_write, utf8
from reports.junit import failure_message
from reports.model import (
    Finding,
    HistogramData,
    LoadMetrics,
    OperationStats,
    RuleResult,
    RunReport,
    ScenarioSummary,
)
from reports.plots import Plot, render_plots

__all__ = ["render_html", "write_html"]

_MAX_CALL_ROWS = 25
_MAX_CALL_COLUMNS = 12
_MAX_VALUE = 300

_CSS = """
:root { --pass: #2e7d32; --fail: #c62828; --skip: #6d6d6d; --error: #ef6c00;
        --done: #1565c0; --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: #1f2328; background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 0 1.2em 3em; }
header.banner { color: #fff; padding: 1.1em 1.2em; }
header.banner h1 { margin: 0 auto; max-width: 1100px; font-size: 1.6em; }
header.banner p { margin: 0.3em auto 0; max-width: 1100px; opacity: 0.95; }
.v-conformant { background: var(--pass); } .v-non-conformant { background: var(--fail); }
.v-completed { background: var(--done); } .v-error { background: var(--error); }
.v-incomplete, .v-interrupted { background: var(--error); }
h2 { border-bottom: 1px solid var(--line); padding-bottom: 0.2em; margin-top: 1.6em; }
h3 { margin-bottom: 0.3em; }
table { border-collapse: collapse; margin: 0.5em 0; width: 100%; }
th, td { border: 1px solid var(--line); padding: 0.3em 0.5em; text-align: left;
         vertical-align: top; }
th { background: var(--soft); }
table.kv { width: auto; } table.kv th { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: var(--soft); border: 1px solid var(--line); padding: 0.6em;
      overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
pre.cmd { user-select: all; cursor: text; }
.badge { display: inline-block; min-width: 3.6em; text-align: center; color: #fff;
         border-radius: 3px; padding: 0 0.4em; font-weight: 600; }
.s-pass { background: var(--pass); } .s-fail { background: var(--fail); }
.s-skip { background: var(--skip); } .s-error { background: var(--error); }
.s-not-exercised { background: var(--error); }
.counts span { margin-right: 1.2em; }
tr.evidence > td { background: #fffafa; }
details > summary { cursor: pointer; font-weight: 600; }
.finding { border-left: 3px solid var(--fail); padding: 0.2em 0 0.2em 0.8em; margin: 0.6em 0; }
table.calls { font-size: 12px; } table.calls td { font-family: ui-monospace, monospace; }
figure { margin: 1em 0; } figure img.plot { max-width: 100%; height: auto;
         border: 1px solid var(--line); }
figcaption { color: #59636e; font-size: 0.9em; }
.muted { color: #59636e; } .flag { color: var(--fail); font-weight: 600; }
footer { color: #59636e; font-size: 0.85em; margin-top: 3em; }
"""

_SCRIPT = """
window.addEventListener("load", function () {
  var imgs = document.querySelectorAll("img.plot");
  var ok = 0;
  for (var i = 0; i < imgs.length; i++) {
    if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok += 1; }
  }
  document.body.setAttribute("data-plots-loaded", String(ok));
});
"""


# Control characters are not allowed in HTML text; show them instead of passing them on.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _e(value: object) -> str:
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return html.escape(text, quote=True)


def _csp_hash(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def _clip(text: str, limit: int = _MAX_VALUE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: float | None, unit: str = "", digits: int = 3) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}g}{unit}"


def _kv(rows: Iterable[tuple[str, str]], *, raw: bool = False) -> str:
    """A two-column table; values are escaped unless ``raw`` (already HTML)."""
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v if raw else _e(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def _counts_table(title: str, counts: Mapping[str, int]) -> str:
    if not counts:
        return ""
    rows = "".join(f'<tr><td>{_e(k)}</td><td class="num">{v}</td></tr>' for k, v in counts.items())
    return (
        f'<table class="kv"><thead><tr><th>{_e(title)}</th><th class="num">count</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )


def _badge(status: str) -> str:
    return f'<span class="badge s-{_e(status.replace(" ", "-"))}">{_e(status)}</span>'


def _rule_status(rule: RuleResult) -> str:
    """The status shown: a skip no declaration explains is shown as "not exercised"."""
    return "not exercised" if rule.not_exercised else rule.status


# ---------------------------------------------------------------------- rules


def _cell_value(value: Any) -> str:
    if isinstance(value, str):
        return _clip(value)
    return _clip(json.dumps(value, ensure_ascii=False, default=str, sort_keys=False))


def _calls_table(calls: Sequence[Mapping[str, Any]]) -> str:
    columns: list[str] = list(dict.fromkeys(k for call in calls for k in call))
    extra = columns[_MAX_CALL_COLUMNS:]
    columns = columns[:_MAX_CALL_COLUMNS]
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    if extra:
        head += "<th>…</th>"
    rows = []
    for call in calls[:_MAX_CALL_ROWS]:
        cells = "".join(
            f"<td>{_e(_cell_value(call[c])) if c in call else ''}</td>" for c in columns
        )
        if extra:
            rest = {k: call[k] for k in extra if k in call}
            cells += f"<td>{_e(_cell_value(rest)) if rest else ''}</td>"
        rows.append(f"<tr>{cells}</tr>")
    more = ""
    if len(calls) > _MAX_CALL_ROWS:
        more = f'<p class="muted">… {len(calls) - _MAX_CALL_ROWS} more call records</p>'
    return (
        f'<table class="calls"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{more}"
    )


def _finding(n: int, f: Finding) -> str:
    parts = [f'<div class="finding"><p><strong>{n}.</strong> {_e(f.message)}</p>']
    rows: list[tuple[str, str]] = []
    if f.scenario is not None:
        rows.append(("scenario", f.scenario))
    if f.at is not None:
        rows.append(("at (simulated)", f"{f.at:.3f} s"))
    if f.expected is not None:
        rows.append(("expected", _clip(f.expected, 2000)))
    if f.actual is not None:
        rows.append(("actual", _clip(f.actual, 2000)))
    if rows:
        parts.append(_kv(rows))
    if f.evidence:
        parts.append(f"<p>Call records ({len(f.evidence)}):</p>{_calls_table(f.evidence)}")
    if f.replay:
        parts.append(f'<p>Replay this finding:</p><pre class="cmd">{_e(f.replay)}</pre>')
    parts.append("</div>")
    return "".join(parts)


def _causes(report: RunReport) -> str:
    """The causes shared by several rules' findings, before the rules: read these first."""
    if not report.causes:
        return ""
    items = []
    for cause in report.causes:
        rules = ", ".join(
            f'<a href="#rule-{_e(rule_id)}"><code>{_e(rule_id)}</code></a> {n:,}'
            for rule_id, n in cause.findings_by_rule.items()
        )
        items.append(
            f'<li class="cause"><p><strong>{_e(cause.headline())}</strong></p>'
            f"<p>Rules: {rules}</p><p>First finding ({_e(cause.where())}):</p>"
            f"{_finding(1, cause.first)}</li>"
        )
    return (
        '<section id="causes"><h2>Causes</h2><p>Each of these explains the findings of '
        "several rules: fix it first, and run again.</p><ol>" + "".join(items) + "</ol></section>"
    )


def _evidence(rule: RuleResult, replay: str) -> str:
    if rule.status == "error":
        text = rule.reason or "the harness could not evaluate this rule"
        return (
            f"<details><summary>Error details</summary><pre>{_e(text)}</pre>"
            f'<p>Replay the run:</p><pre class="cmd">{_e(replay)}</pre></details>'
        )
    total = max(rule.findings_total, len(rule.findings))
    shown = len(rule.findings)
    noun = "finding" if total == 1 else "findings"
    more = f" (showing the first {shown})" if shown < total else ""
    body = "".join(_finding(n, f) for n, f in enumerate(rule.findings, 1))
    if not body:
        body = f"<p>{_e(rule.reason or 'No finding was recorded.')}</p>"
    # A failure's evidence is what the reader came for: it is open from the start.
    return (
        f"<details open><summary>Evidence: {total} {noun}{_e(more)}</summary>{body}"
        f'<p>Replay the run:</p><pre class="cmd">{_e(replay)}</pre></details>'
    )


_STATUS_ORDER = {"fail": 0, "error": 1, "pass": 2, "skip": 3}


def failures_first(rules: list[RuleResult]) -> list[RuleResult]:
    """Failed rules first, the one whose first finding came earliest leading (a root cause
    shows first), then errors, passes and skips, each in registry order."""

    def key(item: tuple[int, RuleResult]) -> tuple[int, float, int]:
        index, rule = item
        first = min((f.at for f in rule.findings if f.at is not None), default=float("inf"))
        # A rule no run exercised shows with the errors: it is what makes a check incomplete.
        order = _STATUS_ORDER["error"] if rule.not_exercised else _STATUS_ORDER.get(rule.status, 4)
        return (order, first if rule.status == "fail" else 0, index)

    return [rule for _, rule in sorted(enumerate(rules), key=key)]


def _rules(report: RunReport) -> str:
    if not report.rules:
        return (
            '<section id="rules"><h2>Rules</h2>'
            '<p class="muted">No rule was evaluated.</p></section>'
        )
    counts = report.counts()
    summary = (
        '<p class="counts">'
        + "".join(f"<span>{_badge(k)} {v}</span>" for k, v in counts.items())
        + "</p>"
    )
    rows = []
    for rule in failures_first(report.rules):
        if rule.status == "fail":
            note = failure_message(rule)
        else:
            note = rule.reason or ""
        rows.append(
            f'<tr id="rule-{_e(rule.id)}" class="rule s-row-{_e(rule.status)}">'
            f"<td><code>{_e(rule.id)}</code>{' (advisory)' if rule.advisory else ''}</td>"
            f"<td>{_e(rule.category)}</td>"
            f"<td>{_e(rule.statement)}</td><td>{_badge(_rule_status(rule))}</td>"
            f"<td>{_e(note)}</td></tr>"
        )
        if rule.status in ("fail", "error"):
            rows.append(
                f'<tr class="evidence"><td colspan="5">{_evidence(rule, report.replay)}</td></tr>'
            )
    return (
        '<section id="rules"><h2>Rules</h2>'
        + summary
        + '<table class="rules"><thead><tr><th>Rule</th><th>Category</th><th>Statement</th>'
        "<th>Status</th><th>Reason / first finding</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )


# ---------------------------------------------------------------------- scenarios


def _figure(plot: Plot) -> str:
    data = base64.b64encode(plot.png).decode("ascii")
    return (
        f'<figure><img class="plot" alt="{_e(plot.title)}" '
        f'src="data:image/png;base64,{data}"><figcaption>{_e(plot.title)}</figcaption></figure>'
    )


def _ops_table(ops: Sequence[OperationStats]) -> str:
    if not ops:
        return ""
    head = (
        "<tr><th>Operation</th><th class='num'>calls</th><th>outcomes</th>"
        "<th class='num'>p50 (sim)</th><th class='num'>p95 (sim)</th>"
        "<th class='num'>p99 (sim)</th><th class='num'>wall p50</th>"
        "<th class='num'>wall p95</th></tr>"
    )
    rows = []
    for op in ops:
        outcomes = ", ".join(f"{k} {v}" for k, v in op.outcomes.items())
        rows.append(
            f"<tr><td><code>{_e(op.op)}</code></td><td class='num'>{op.calls}</td>"
            f"<td>{_e(outcomes)}</td>"
            f"<td class='num'>{_num(op.latency_s.p50, ' s')}</td>"
            f"<td class='num'>{_num(op.latency_s.p95, ' s')}</td>"
            f"<td class='num'>{_num(op.latency_s.p99, ' s')}</td>"
            f"<td class='num'>{_num(op.wall_ms.p50, ' ms')}</td>"
            f"<td class='num'>{_num(op.wall_ms.p95, ' ms')}</td></tr>"
        )
    return (
        f"<h3>Plugin calls</h3><table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _hist_line(h: HistogramData, unit: str) -> str:
    if h.count == 0:
        return "–"
    return (
        f"n={h.count}, p50 {_num(h.p50, unit)}, p95 {_num(h.p95, unit)}, "
        f"p99 {_num(h.p99, unit)}, max {_num(h.max, unit)}"
    )


def _scenario(index: int, s: ScenarioSummary, plots: Sequence[Plot]) -> str:
    rows = [
        ("seed", str(s.seed)),
        ("simulated duration", f"{s.duration_s:g} s"),
        ("VMs", str(s.vms)),
        ("check interval", f"{s.check_delay_s:g} s"),
        ("checks", f"{s.checks_total} ({s.check_overruns} overran the interval)"),
        ("results seen", str(s.results_seen)),
        ("backups taken", str(s.backups_taken)),
        ("rollbacks", str(s.rollbacks)),
        ("result freshness", _hist_line(s.freshness_s, " s")),
        ("lock wait", _hist_line(s.lock_wait_hist, " s")),
        ("outages", str(len(s.outages))),
        ("simulation events", str(s.sim_events)),
        ("wall time", f"{s.wall_seconds:.2f} s"),
    ]
    if s.trace_file:
        rows.append(("trace", s.trace_file))
    mine = [p for p in plots if p.scenario_index == index]
    return (
        f'<section class="scenario" id="scenario-{index}"><h2>Scenario: {_e(s.name)}</h2>'
        + _kv(rows)
        + _ops_table(s.operations)
        + _counts_table("Tasks", s.tasks)
        + _counts_table("Rejections (BC code)", s.rejections)
        + _counts_table("Events", s.events)
        + "".join(_figure(p) for p in mine)
        + "</section>"
    )


def _load(load: LoadMetrics, plots: Sequence[Plot]) -> str:
    rows = [
        ("VMs", str(load.vms)),
        ("simulated days", f"{load.days:g}"),
        ("check interval", f"{load.check_delay_s:g} s"),
        ("check overruns", str(load.overruns)),
        ("results per check", _hist_line(load.results_per_check, "")),
        (
            "freshness p50 / p95 / p99",
            " / ".join(
                _num(v, " s")
                for v in (load.freshness_p50_s, load.freshness_p95_s, load.freshness_p99_s)
            ),
        ),
        ("events per backup", _num(load.events_per_backup)),
        ("growth exponent", _num(load.growth_exponent)),
        ("peak memory", _num(load.peak_memory_mb, " MB", 4)),
        ("simulated VM-days per wall second", _num(load.vm_days_per_wall_s, "", 4)),
    ]
    flag = ""
    if load.flagged:
        flag = f'<p class="flag">Flagged: {_e(load.flag_reason or "no reason given")}</p>'
    growth = ""
    if load.growth:
        body = "".join(
            f"<tr><td class='num'>{g.vms}</td>"
            f"<td class='num'>{_num(g.check_cost_s, ' s', 4)}</td></tr>"
            for g in load.growth
        )
        growth = (
            "<h3>Check cost by fleet size</h3><table class='kv'><thead><tr>"
            "<th class='num'>VMs</th><th class='num'>check cost</th></tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )
    mine = [p for p in plots if p.scenario_index is None]
    return (
        '<section id="load"><h2>Load</h2>'
        + flag
        + _kv(rows)
        + growth
        + "".join(_figure(p) for p in mine)
        + "</section>"
    )


# ---------------------------------------------------------------------- page


def render_html(report: RunReport, plots: Sequence[Plot] | None = None) -> str:
    """The whole page for ``report``; ``plots`` defaults to :func:`render_plots`."""
    rendered = render_plots(report) if plots is None else list(plots)
    plugin = report.plugin
    csp = (
        "default-src 'none'; img-src data:; "
        f"style-src {_csp_hash(_CSS)}; script-src {_csp_hash(_SCRIPT)}; "
        "base-uri 'none'; form-action 'none'"
    )
    plugin_rows = [
        ("spec", plugin.spec),
        ("type", plugin.type or "–"),
        ("name", plugin.friendly_name or "–"),
        ("version", plugin.version or "–"),
        ("supported platform versions", ", ".join(plugin.supported_versions) or "–"),
        ("unsupported operations", ", ".join(plugin.unsupported_operations) or "none"),
        ("isolation", plugin.isolation),
        ("contract profile", report.profile),
    ]
    plugin_rows += [(f"connection: {k}", v) for k, v in plugin.connection_metadata.items()]
    counts = report.counts()
    subtitle = (
        f"{report.kind} · {counts['pass']} passed, {counts['fail']} failed, "
        f"{counts['skip']} skipped, {counts['error']} errors · exit code {report.exit_code} · "
        f"run {report.run_id} · {report.created_at}"
    )
    notes = ""
    if report.notes:
        notes = (
            '<section id="notes"><h2>Notes</h2><ul>'
            + "".join(f"<li>{_e(n)}</li>" for n in report.notes)
            + "</ul></section>"
        )
    load = _load(report.load, rendered) if report.load is not None else ""
    scenarios = "".join(_scenario(i, s, rendered) for i, s in enumerate(report.scenarios))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # The policy has no double quote; its single quotes stay readable.
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp, quote=False)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>bpcert: {_e(report.verdict)} · {_e(plugin.spec)}</title>",
        f"<style>{_CSS}</style></head>",
        f'<body data-plots-total="{len(rendered)}" data-plots-loaded="0">',
        f'<header class="banner v-{_e(report.verdict)}">',
        f'<h1>bpcert: <span id="verdict">{_e(report.verdict)}</span></h1>',
        f"<p>{_e(subtitle)}</p></header><main>",
        '<section id="plugin"><h2>Plugin</h2>' + _kv(plugin_rows) + "</section>",
        '<section id="replay"><h2>Seed and replay</h2>'
        f"<p>Seed <code>{report.seed}</code>. Replay this run with:</p>"
        f'<pre class="cmd" id="replay-command">{_e(report.replay)}</pre></section>',
        _causes(report),
        _rules(report),
        scenarios,
        load,
        notes,
        f"<footer>Written by {_e(report.tool.name)} {_e(report.tool.version)}, "
        f"report schema {_e(report.schema_version)}. "
        "The same data is in report.json; CI results are in junit.xml.</footer>",
        f"</main><script>{_SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_html(report: RunReport, path: Path, plots: Sequence[Plot] | None = None) -> Path:
    """Write ``report.html`` at ``path``; return ``path``."""
    return atomic_write(path, utf8(render_html(report, plots)))
