"""The exit codes of every ``bpcert`` command (``run``, ``check``, ``load``, ``sweep``, ...).

Usage errors, non-conformance findings and harness bugs are kept apart, so that a CI
job can tell "the plugin is wrong" from "the command line is wrong" from "bpcert is wrong".
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    """What a ``bpcert`` process returns."""

    #: The run completed and, where rules were evaluated, every rule passed or was skipped.
    OK = 0
    #: At least one rule failed: the plugin does not conform (findings are in the report).
    FINDINGS = 1
    #: No rule failed, but the run did not judge everything it set out to: it reached
    #: ``--max-wall``, or a scenario stopped early (the report says why).
    INCOMPLETE = 2
    #: bpcert itself failed: an unexpected internal error (please report it), or a
    #: worker process of a load run or sweep died (out of memory, killed, or ended by an
    #: in-process plugin), so the run could not complete.
    HARNESS_ERROR = 3
    #: A usage error: bad flags, a malformed scenario, an unknown or malformed plugin.
    USAGE = 4
    #: Interrupted (Ctrl-C, SIGINT or SIGTERM); the report of what ran is written.
    INTERRUPTED = 130
