"""The base of every scenario model: frozen, and strict about unknown keys."""

from __future__ import annotations

import difflib

from pydantic import BaseModel, ConfigDict

__all__ = ["Spec", "suggest"]


class Spec(BaseModel):
    """Base of the scenario models: frozen, strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """``did you mean 'x'? `` for the choice closest to ``word``, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""
