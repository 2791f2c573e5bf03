"""bpcert conformance: rules, checkers, the runner, the CLI and the pytest plugin.

The library entry point is :func:`run`::

    import conformance
    report = conformance.run("reference")
    assert report.verdict == "conformant"
"""

from conformance.exit_codes import ExitCode
from conformance.rules import RULES, Rule, select_rules
from conformance.runner import DEFAULT_SCENARIOS, run

__all__ = ["DEFAULT_SCENARIOS", "RULES", "ExitCode", "Rule", "run", "select_rules"]
