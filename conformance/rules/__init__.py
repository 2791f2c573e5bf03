"""The rules a plugin is held to: the registry of stable ids, and their checks."""

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
