"""The rules a plugin is held to: one module per capability, met in one registry.

:mod:`conformance.rules.registry` lists the rules (stable ids) and the capabilities'
checkers; :class:`conformance.rules.checking.Checkers` attaches them to a world.
"""

from __future__ import annotations

from conformance.rules.registry import (
    FAKE_BACKEND,
    ISOLATED,
    RULES,
    Rule,
    rules_markdown,
    select_rules,
)

__all__ = [
    "FAKE_BACKEND",
    "ISOLATED",
    "RULES",
    "Rule",
    "rules_markdown",
    "select_rules",
]
