"""docs/ci.md: its YAML parses, and every bpcert command in it is one bpcert accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import _build_parser

DOC = Path(__file__).resolve().parent.parent / "docs" / "ci.md"


def _yaml_blocks() -> list[Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    return [yaml.safe_load(block) for block in blocks]


def _shell_lines(node: Any) -> list[str]:
    """Every string under ``run:`` or ``script:`` keys, one logical shell line each."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script"):
                for text in value if isinstance(value, list) else [value]:
                    found += str(text).replace("\\\n", " ").splitlines()
            else:
                found += _shell_lines(value)
    elif isinstance(node, list):
        for item in node:
            found += _shell_lines(item)
    return [line.strip() for line in found if line.strip()]


def _bpcert_commands(node: Any) -> list[list[str]]:
    return [shlex.split(line)[1:] for line in _shell_lines(node) if line.startswith("bpcert ")]


def test_the_doc_has_a_github_workflow_and_a_gitlab_job_that_parse() -> None:
    github, gitlab = _yaml_blocks()
    steps = github["jobs"]["certify"]["steps"]
    assert any("upload-artifact" in str(step.get("uses", "")) for step in steps)
    job = gitlab["bpcert-certify"]
    assert job["artifacts"]["when"] == "always"
    assert "junit" in job["artifacts"]["reports"]


@pytest.mark.parametrize("which", ["github", "gitlab"])
def test_every_bpcert_command_in_the_doc_parses_with_the_real_parser(which: str) -> None:
    block = _yaml_blocks()[0 if which == "github" else 1]
    commands = _bpcert_commands(block)
    assert commands and all(c[0] == "certify" for c in commands)
    for words in commands:
        try:
            args = _build_parser().parse_args(words)
        except SystemExit as exc:
            pytest.fail(f"bpcert {shlex.join(words)} is refused by the parser ({exc})")
        # The JUnit the CI publishes is the one this command writes.
        junit = str(Path(args.out) / "junit.xml")
        assert junit in str(block), (junit, which)
        assert str(args.bundle) in str(block)


def test_the_verify_examples_parse_too() -> None:
    lines = re.findall(r"^bpcert verify .*?(?=\s+#|$)", DOC.read_text(), flags=re.M)
    assert lines
    for line in lines:
        _build_parser().parse_args(shlex.split(line)[1:])
