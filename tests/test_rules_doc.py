"""docs/rules.md lists exactly the rules of the registry, with the same statements."""

from __future__ import annotations

import re
from pathlib import Path

from conformance.rules import RULES, rules_markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def test_docs_rules_md_is_generated_from_the_registry() -> None:
    assert DOC.read_text() == rules_markdown(), (
        "docs/rules.md is stale: run `bpcert rules --markdown > docs/rules.md`"
    )


def test_docs_and_code_list_the_same_rule_ids() -> None:
    documented = re.findall(r"^\| `([a-z0-9.-]+)` \|", DOC.read_text(), flags=re.M)
    assert sorted(documented) == sorted(r.id for r in RULES)
    assert len(documented) == len(set(documented))


def test_rule_ids_are_stable_kebab_case_with_a_category() -> None:
    for rule in RULES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*\.[a-z]+(-[a-z]+)*", rule.id), rule.id
        assert rule.category == rule.id.split(".")[0]
        assert rule.statement.endswith(".")
