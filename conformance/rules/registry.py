"""The rule registry: every rule a plugin is held to, with a stable id.

Registering rules is kept apart from checking them (``conformance.rules.checkers``) and from
running them (``conformance.runner``), so the same rules serve the CLI, the library
call and the pytest plugin. ``docs/rules.md`` lists the same ids; a test keeps the two
equal.

A rule needs some things to be checked at all: an operation the plugin may declare
unsupported, the fake backup system's ground truth, or a process-isolated plugin. A
rule whose needs are not met is *skipped with a reason*, never passed silently. A rule
whose situation never arose in the run (nothing exercised it) is skipped too, with
that reason.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from simulator.contract import Operation

__all__ = ["RULES", "Rule", "rule", "select_rules"]

FAKE_BACKEND = "fake-backend"
ISOLATED = "isolated"


@dataclass(frozen=True)
class Rule:
    """One rule: a stable kebab-case id, a spec sentence, and what checking it needs."""

    id: str
    category: str
    statement: str
    needs_operations: frozenset[Operation] = frozenset()
    needs: frozenset[str] = frozenset()


_O = Operation


def _r(id: str, statement: str, ops: Iterable[Operation] = (), needs: Iterable[str] = ()) -> Rule:
    return Rule(id, id.split(".")[0], statement, frozenset(ops), frozenset(needs))


RULES: tuple[Rule, ...] = (
    # ------------------------------------------------------------------ startup
    _r(
        "startup.metadata-well-formed",
        "Metadata is well formed: a non-empty type token, a version and at least one "
        "supported version.",
    ),
    _r(
        "startup.validate-passes-with-complete-properties",
        "validate_configuration returns normally when the properties are complete.",
    ),
    _r(
        "startup.validate-raises-configuration-error",
        "validate_configuration raises ConfigurationError, and nothing else, when a property "
        "is missing or invalid.",
    ),
    _r(
        "startup.validate-detects-missing-properties",
        "A property the plugin cannot work without is reported by validate_configuration, "
        "not discovered later by an operation.",
        [_O.LIST_RESULTS],
    ),
    _r(
        "startup.connection-constraints-honoured",
        "The plugin connects with exactly the fields its connection metadata asks for, and a "
        "missing MANDATORY field fails the connect with PluginConnectionError.",
    ),
    _r(
        "startup.instances-isolated",
        "Every component works with its own instance: a fresh instance sees the same results "
        "as a long-lived one, so no state lives only in one instance's memory.",
        [_O.LIST_RESULTS],
    ),
    # -------------------------------------------------------------- connections
    _r(
        "connections.closed-after-use",
        "Every connection that is opened is closed, also after a failed call, and no session "
        "is left open on the backup server.",
        needs=[FAKE_BACKEND],
    ),
    _r(
        "connections.disconnect-does-not-fail",
        "disconnect() returns normally after every operation, failed or not.",
    ),
    _r(
        "connections.connect-failure-typed",
        "A connect failure (unreachable endpoint, bad credentials, backend down) surfaces as "
        "PluginConnectionError.",
    ),
    # ---------------------------------------------------------------- schedules
    _r(
        "schedules.backups-at-scheduled-times",
        "After apply_schedule the backup system runs backups at the times the schedule gives, "
        "within the tolerance, and only then, and they show up in list_results.",
        [_O.APPLY_SCHEDULE, _O.LIST_RESULTS],
    ),
    _r(
        "schedules.new-schedule-replaces-old",
        "After apply_new_schedule removed configurations stop, added ones start and changed "
        "ones move to their new time.",
        [_O.APPLY_NEW_SCHEDULE, _O.LIST_RESULTS],
    ),
    _r(
        "schedules.removed-schedule-stops",
        "After remove_schedule no new scheduled backup appears for that VM.",
        [_O.REMOVE_SCHEDULE, _O.LIST_RESULTS],
    ),
    _r(
        "schedules.results-listable-until-expiry",
        "Earlier results stay listable until they expire, also after the schedule is removed.",
        [_O.LIST_RESULTS],
    ),
    _r(
        "schedules.idempotent",
        "Repeating a schedule call with the same arguments changes nothing: no duplicate backups.",
        [_O.APPLY_SCHEDULE, _O.LIST_RESULTS],
    ),
    # ---------------------------------------------------------------- on demand
    _r(
        "on-demand.backup-result-well-formed",
        "execute_backup returns a result for that VM with a new non-empty provider id, state "
        "IN_PROGRESS or DONE, on_demand set, and replication as asked (or raises UNSUPPORTED).",
        [_O.EXECUTE_BACKUP],
    ),
    _r(
        "on-demand.backup-reaches-final-state",
        "An on-demand backup reaches DONE or FAILED through list_results.",
        [_O.EXECUTE_BACKUP, _O.LIST_RESULTS],
    ),
    _r(
        "on-demand.restore-points-at-backup",
        "execute_restore of a done, unexpired backup of that VM returns a restore result that "
        "points at it.",
        [_O.EXECUTE_RESTORE],
    ),
    _r(
        "on-demand.restore-refuses-bad-backup",
        "Restoring an unknown backup id, or a failed, expired or another VM's backup, raises "
        "BackupPluginException and changes nothing.",
        [_O.EXECUTE_RESTORE, _O.LIST_RESULTS],
    ),
    # ------------------------------------------------------------------- errors
    _r(
        "errors.only-backup-plugin-exception",
        "An operational method raises only BackupPluginException; any other exception type "
        "is a violation.",
    ),
    _r(
        "errors.fitting-error-code",
        "A BackupPluginException carries a code that fits the failure (BACKUP_NOT_FOUND for "
        "an unknown backup, BACKEND/CONNECTION/TIMEOUT when the backend is down, ...).",
    ),
    _r(
        "errors.well-typed-returns",
        "Every operation returns the contract's type: a BackupResult, a RestoreResult, a "
        "list of BackupResult or a list of str.",
    ),
    _r(
        "errors.unsupported-raises-unsupported",
        "A declared unsupported operation raises UNSUPPORTED, and the platform never calls it.",
    ),
    _r(
        "errors.backend-failure-raises",
        "When the backup system fails, a Virtual Factory operation raises "
        "BackupPluginException instead of pretending to succeed.",
        needs=[FAKE_BACKEND],
    ),
    _r(
        "errors.healthy-backend-succeeds",
        "With the backup system healthy and arguments the contract allows, an operation "
        "succeeds (a refusal is only for what the plugin declares unsupported).",
    ),
    _r(
        "errors.returns-within-deadline",
        "Every call returns within the call deadline.",
    ),
    _r(
        "errors.no-crash",
        "The plugin process never crashes.",
        needs=[ISOLATED],
    ),
    _r(
        "protocol.stdout-clean",
        "An out-of-process plugin writes nothing but protocol messages on stdout.",
        needs=[ISOLATED],
    ),
    # ------------------------------------------------------------------ polling
    _r(
        "polling.window-complete",
        "list_results returns every result created, or turned final, at or after "
        "last_check_date (inclusive).",
        [_O.LIST_RESULTS],
    ),
    _r(
        "polling.in-progress-answered",
        "list_results answers every id it was asked about with its current state (a restore "
        "id with its parent backup).",
        [_O.LIST_RESULTS],
    ),
    _r(
        "polling.unknown-for-lost-ids",
        "An asked id the backup system does not know is answered with state UNKNOWN.",
        [_O.LIST_RESULTS],
    ),
    _r(
        "polling.no-lost-results",
        "No result is ever lost between polls: whatever a full listing shows as final at T, "
        "some poll covering T has returned as final.",
        [_O.LIST_RESULTS],
    ),
    _r(
        "polling.unique-ids-per-answer",
        "No provider id appears twice in one answer.",
        [_O.LIST_RESULTS],
    ),
    _r(
        "polling.states-move-forward",
        "States only move forward and a final result never changes again (state, creation "
        "and finish dates).",
        [_O.LIST_RESULTS],
    ),
    _r(
        "polling.dates-well-formed",
        "Dates are timezone-aware, with creation <= finish <= now, a finish date on every "
        "final result and expiration after creation.",
        [_O.LIST_RESULTS],
    ),
    _r(
        "polling.sizes-non-negative",
        "Sizes are at least 0.",
        [_O.LIST_RESULTS],
    ),
    _r(
        "polling.failure-raises",
        "A backup-system failure raises BackupPluginException from list_results and "
        "get_expired_results; it never returns an empty list as if nothing had happened.",
        [_O.LIST_RESULTS],
        [FAKE_BACKEND],
    ),
    _r(
        "polling.fits-interval",
        "A check (list_results plus get_expired_results) fits in the check interval at the "
        "scenario's fleet size.",
        [_O.LIST_RESULTS],
    ),
    _r(
        "expiry.subset-of-asked",
        "get_expired_results returns a subset of the ids it was given, without duplicates.",
        [_O.GET_EXPIRED_RESULTS],
    ),
    _r(
        "expiry.sticky",
        "Once an id is reported expired, it stays expired.",
        [_O.GET_EXPIRED_RESULTS],
    ),
    _r(
        "expiry.reported-when-due",
        "A backup past its expiration date is reported expired within one check.",
        [_O.GET_EXPIRED_RESULTS, _O.LIST_RESULTS],
    ),
    _r(
        "expiry.live-never-reported",
        "A backup that has not reached its expiration date is never reported expired.",
        [_O.GET_EXPIRED_RESULTS, _O.LIST_RESULTS],
    ),
    # --------------------------------------------------------------------- data
    _r(
        "data.restore-integrity",
        "A restore puts the VM's disks back to exactly the content they had when that backup "
        "was taken.",
        [_O.EXECUTE_RESTORE],
        [FAKE_BACKEND],
    ),
)

_BY_ID = {r.id: r for r in RULES}
if len(_BY_ID) != len(RULES):  # pragma: no cover - a registry bug, caught on import
    raise RuntimeError("duplicate rule ids in the registry")


def rule(rule_id: str) -> Rule:
    """The rule with ``rule_id``; KeyError names close matches."""
    try:
        return _BY_ID[rule_id]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(rule_id, list(_BY_ID), n=3)
        raise KeyError(f"unknown rule id {rule_id!r}; close matches: {close}") from None


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
    "polling": "Polling",
    "expiry": "Expiry",
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
        "  out-of-process plugin, or no scenario run created a situation that could fail it.",
        "",
        "Select rules with `--rules GLOB` and `--skip GLOB` (for example `--rules 'polling.*'`).",
        "This file is generated from `conformance/rules.py` by",
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
            lines.append(f"| `{r.id}` | {r.statement} | {', '.join(needs) or '-'} |")
        lines.append("")
    return "\n".join(lines)
