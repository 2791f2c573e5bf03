"""The self-test's registry: every deliberately broken plugin (mutant), and the rule it breaks.

Each mutant is the reference plugin with **one** bug of the kind vendors really ship, and
names in its docstring the rule id that should catch it. It lives beside the rules it
breaks: the mutants of :mod:`conformance.rules.startup` in :mod:`conformance.selftest.startup`,
and so on for every capability. This module puts them together: :data:`MUTANTS` maps a
kebab-case mutant name to ``(class, intended rule id)``, in the order of the rules'
capabilities; :data:`NO_MUTANT` lists the rules no in-process mutant breaks through the
built-in scenarios, with the reason. ``tests/test_selftest.py`` runs every mutant through
the default scenarios and expects its rule to fail, and ``docs/mutants.md`` lists them.

Every mutant class is importable from here too, so a plugin spec such as::

    bpcert check --plugin conformance.selftest.mutants:SessionLeakPlugin   # exits 1 naming the rule

works for any of them. :class:`CachedLoginPlugin` (in :mod:`conformance.selftest.honest`)
is an honest variant of the reference that several mutants build on.

None of this is an example to follow. The bugs are written plainly on purpose.
"""

from __future__ import annotations

import importlib

from conformance.rules.registry import CAPABILITIES
from conformance.selftest.honest import CachedLoginConnection, CachedLoginPlugin

#: The capabilities' self-test modules, named as their rule modules, in the order of
#: :data:`conformance.rules.registry.CAPABILITIES` (the order their rules are listed).
_CAPABILITIES = tuple(
    importlib.import_module(f"{__package__}.{rules.__name__.rpartition('.')[2]}")
    for rules in CAPABILITIES
)

#: Mutant name -> (plugin class, the rule id it is meant to break).
MUTANTS: dict[str, tuple[type, str]] = {
    name: entry for capability in _CAPABILITIES for name, entry in capability.MUTANTS.items()
}

#: Rules no in-process mutant breaks through the built-in scenarios, with the reason.
NO_MUTANT: dict[str, tuple[None, str]] = {
    rule_id: entry
    for capability in _CAPABILITIES
    for rule_id, entry in getattr(capability, "NO_MUTANT", {}).items()
}

# Every mutant class by its name, so that ``conformance.selftest.mutants:<Class>`` names any
# of them and a new mutant needs no line here: its capability's MUTANTS table is enough.
globals().update({cls.__name__: cls for cls, _ in MUTANTS.values()})

__all__ = [
    "MUTANTS",
    "NO_MUTANT",
    "CachedLoginConnection",
    "CachedLoginPlugin",
    *sorted(cls.__name__ for cls, _ in MUTANTS.values()),
]
