"""The rule registry: every capability module, and every rule a plugin is held to, by id.

Each capability lives in one module of this package (``startup``, ``connections``,
``schedules``, ``on_demand``, ``errors``, ``polling``, ``expiry``, ``data``): its rules'
declarations, their online checks and their end-of-run probes, in one
:class:`~conformance.rules.base.Checker`. This module puts them together:

- :data:`RULES`, in the order of :data:`CAPABILITIES`: the order ``docs/rules.md`` and every
  report list them;
- :data:`CHECKERS`, in the order their hooks run (see there).

Registering rules is kept apart from running them (``conformance.runner``), so the same
rules serve the CLI, the library call and the pytest plugin. ``docs/rules.md`` lists the
same ids; a test keeps the two equal.

A rule needs some things to be checked at all: an operation the plugin may declare
unsupported, the fake backup system's ground truth, or a process-isolated plugin. A
rule whose needs are not met is *skipped with a reason*, never passed silently. A rule
whose situation never arose in the run (nothing exercised it) is skipped too, with
that reason.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from conformance.rules import (
    connections,
    data,
    errors,
    expiry,
    on_demand,
    per_id_polling,
    policy_sync,
    polling,
    schedules,
    startup,
)
from conformance.rules.base import FAKE_BACKEND, ISOLATED, Checker, Rule
from simulator.profiles import ContractProfile

__all__ = [
    "CAPABILITIES",
    "CHECKERS",
    "FAKE_BACKEND",
    "ISOLATED",
    "RULES",
    "Rule",
    "rule",
    "rules_for",
    "rules_markdown",
    "select_rules",
]

#: The capabilities, in the order their rules are listed.
CAPABILITIES = (
    startup,
    connections,
    schedules,
    on_demand,
    errors,
    polling,
    expiry,
    per_id_polling,
    policy_sync,
    data,
)

#: One checker per capability, in the order their hooks run. At the end of a run this is the
#: order of the probes: those that only read (expiry, lost ids) first, then those that make
#: a backup or try restores and unsupported calls, then those that connect and build fresh
#: instances; a probe never sees what a later one changed.
CHECKERS: tuple[type[Checker], ...] = (
    expiry.ExpiryChecker,
    polling.PollChecker,
    per_id_polling.PerIdChecker,
    policy_sync.PolicySyncChecker,
    on_demand.OnDemandChecker,
    errors.ErrorChecker,
    connections.ConnectionChecker,
    startup.StartupChecker,
    schedules.ScheduleChecker,
    data.DataChecker,
)

RULES: tuple[Rule, ...] = tuple(r for capability in CAPABILITIES for r in capability.RULES)

_BY_ID = {r.id: r for r in RULES}
if len(_BY_ID) != len(RULES):  # pragma: no cover - a registry bug, caught on import
    raise RuntimeError("duplicate rule ids in the registry")
if {r for c in CHECKERS for r in c.rules} != set(RULES):  # pragma: no cover - same
    raise RuntimeError("every rule must be served by exactly the checker of its capability")


def rule(rule_id: str) -> Rule:
    """The rule with ``rule_id``; KeyError names close matches."""
    try:
        return _BY_ID[rule_id]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(rule_id, list(_BY_ID), n=3)
        raise KeyError(f"unknown rule id {rule_id!r}; close matches: {close}") from None


def rules_for(profile: ContractProfile) -> list[Rule]:
    """The rules that apply to a run of ``profile``: those of every profile, and those of
    its capabilities (``Rule.capability``). Another profile's rules are not listed."""
    return [r for r in RULES if profile.applies(r.capability)]


def select_rules(include: Iterable[str] = (), exclude: Iterable[str] = ()) -> list[Rule]:
    """The rules matching any of the ``include`` globs (all when empty) and no ``exclude`` glob."""
    inc = list(include) or ["*"]
    exc = list(exclude)
    return [
        r
        for r in RULES
        if any(fnmatch.fnmatchcase(r.id, g) for g in inc)
        and not any(fnmatch.fnmatchcase(r.id, g) for g in exc)
    ]


_CATEGORY_TITLES = {
    "startup": "Startup",
    "connections": "Connections",
    "schedules": "Schedules",
    "on-demand": "On demand",
    "errors": "Errors",
    "protocol": "Protocol (out-of-process plugins)",
    "polling": "Polling (profile abiquo-4.0.4)",
    "expiry": "Expiry (profile abiquo-4.0.4)",
    "per-id-polling": "Per-id polling (profiles abiquo-4.7 and abiquo-6.0)",
    "policy-sync": "Policy synchronisation (profile abiquo-6.0)",
    "data": "Data (with the fake backup system only)",
}


def rules_markdown() -> str:
    """``docs/rules.md``, generated from the registry (a test keeps the file equal to it)."""
    lines = [
        "# Rules",
        "",
        "Every rule a plugin is held to, by its stable id. `bpcert check` gives each a verdict:",
        "",
        "- **pass**: the run exercised the rule and found no violation;",
        "- **fail**: at least one finding, with the calls that show it and a replay command;",
        "- **skip**: with a reason: the plugin declares an operation the rule needs",
        "  unsupported, the rule needs the fake backup system's ground truth or an",
        "  out-of-process plugin, or another declaration rules it out;",
        "- **not exercised** (a skip whose reason starts `not exercised:`): no scenario run",
        "  created a situation that could fail it, and no declaration says why. It is never",
        "  counted with the passes, and `conformant` means every applicable rule ran and passed.",
        "  A `bpcert check` that leaves a required (not advisory) rule not exercised is",
        "  `incomplete` (exit 2), and a note names the rule. A `bpcert run` of one scenario",
        "  names the rules it did not exercise, and its verdict is `completed` (exit 0): one",
        "  scenario is a slice of the contract, `check` runs the scenarios that cover it all.",
        "  Under `pytest --bpcert-plugin`, such a rule's item fails with its reason, and a",
        "  session whose only failures are these exits 2 (`incomplete`), never 0.",
        "",
        "An *advisory* rule is judged and reported like the others, but its failure never",
        "decides the verdict (it is advice, such as an expiration date for billing).",
        "",
        "Select rules with `--rules GLOB` and `--skip GLOB` (for example `--rules 'polling.*'`).",
        "This file is generated from the capability modules of `conformance/rules/` by",
        "`bpcert rules --markdown > docs/rules.md`; a test keeps the two equal.",
        "",
    ]
    for category, title in _CATEGORY_TITLES.items():
        rules = [r for r in RULES if r.category == category]
        if not rules:
            continue
        lines += [f"## {title}", "", "| id | rule | needs |", "| --- | --- | --- |"]
        for r in rules:
            needs = [op.value for op in sorted(r.needs_operations, key=lambda o: o.value)]
            needs += sorted(r.needs)
            if r.advisory:
                needs.append("advisory")
            lines.append(f"| `{r.id}` | {r.statement} | {', '.join(needs) or '-'} |")
        lines.append("")
    return "\n".join(lines)
