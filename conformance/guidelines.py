"""Certification guidelines: per contract profile, which rules are required and which advisory.

The data is ``conformance/guidelines.json``, versioned as RefStack keeps its guideline
files: each profile's guideline has a ``version``, a ``changelog`` (newest first, every
version with its date and changes) and the two lists. ``bpcert certify`` passes only when
every *required* rule ran and passed and no rule failed; an *advisory* rule may be skipped
(it needs the fake backup system's ground truth, or a load run) without costing the
certificate. A *conditional* rule applies to some plugins only (it says when), and where
it applies it is required. A required rule that needs an operation the plugin declares
unsupported does not apply to that plugin: the contract allows the declaration, and
``errors.unsupported-raises-unsupported`` holds the plugin to it. A rule moves from
advisory to required in a new guideline version, with a changelog line, never silently.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from conformance.usage import UsageError

__all__ = [
    "DEFAULT_PROFILE",
    "Guideline",
    "GuidelineChange",
    "guideline_for",
    "guidelines",
]

#: The profile of a plugin that declares none (contract.md §2a).
DEFAULT_PROFILE = "abiquo-4.0.4"


class GuidelineChange(BaseModel):
    """One version of a guideline: when, and what changed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    date: str
    changes: tuple[str, ...] = Field(min_length=1)


class Guideline(BaseModel):
    """A profile's certification guideline: its required and advisory rules, versioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: str
    version: str
    status: Literal["approved", "draft"]
    required: tuple[str, ...]
    advisory: tuple[str, ...]
    #: Rules that apply only to some plugins (rule id -> when); where they apply, required.
    conditional: dict[str, str] = Field(default_factory=dict)
    changelog: tuple[GuidelineChange, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Guideline:
        lists = (set(self.required), set(self.advisory), set(self.conditional))
        twice = sorted((lists[0] & lists[1]) | (lists[0] & lists[2]) | (lists[1] & lists[2]))
        if twice:
            raise ValueError(f"{self.profile}: rules in two lists: {', '.join(twice)}")
        if self.changelog[0].version != self.version:
            raise ValueError(
                f"{self.profile}: version {self.version} has no changelog entry on top "
                f"(the newest is {self.changelog[0].version})"
            )
        return self

    def kind_of(self, rule_id: str) -> str:
        """``required``, ``advisory``, ``conditional``, or ``unlisted`` (newer than this)."""
        if rule_id in self.required:
            return "required"
        if rule_id in self.advisory:
            return "advisory"
        if rule_id in self.conditional:
            return "conditional"
        return "unlisted"


@cache
def guidelines() -> dict[str, Guideline]:
    """Every profile's guideline, read from the packaged ``guidelines.json``."""
    text = resources.files("conformance").joinpath("guidelines.json").read_text("utf-8")
    data = json.loads(text)
    return {
        profile: Guideline.model_validate({"profile": profile, **body})
        for profile, body in data["guidelines"].items()
    }


def guideline_for(profile: str | None) -> Guideline:
    """The guideline of ``profile`` (``None``: :data:`DEFAULT_PROFILE`), or a usage error."""
    name = profile or DEFAULT_PROFILE
    known = guidelines()
    if name not in known:
        raise UsageError(
            f"no certification guideline for profile {name!r}; guidelines exist for "
            f"{', '.join(sorted(known))}"
        )
    return known[name]
