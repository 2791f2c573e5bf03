"""bpcert conformance: rules, checkers, the runner, the CLI and the pytest plugin.

The library entry point is :func:`run`::

    import conformance
    report = conformance.run("reference")
    assert report.verdict == "conformant"

The re-exports are imported on first use, so that importing a light submodule (the
``bpcert`` supervisor, :mod:`conformance.exit_codes`) does not load the whole harness.
"""

import importlib
from typing import TYPE_CHECKING, Any

from conformance.exit_codes import ExitCode

if TYPE_CHECKING:
    from conformance.rules import RULES, Rule, select_rules
    from conformance.runner import DEFAULT_SCENARIOS, run

__all__ = ["DEFAULT_SCENARIOS", "RULES", "ExitCode", "Rule", "run", "select_rules"]

_LAZY = {
    "DEFAULT_SCENARIOS": "conformance.runner",
    "run": "conformance.runner",
    "RULES": "conformance.rules",
    "Rule": "conformance.rules",
    "select_rules": "conformance.rules",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'conformance' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
