"""The base of every scenario model: frozen, strict about unknown keys and about types.

A scenario file is untrusted input, so the models are strict where pydantic is lax by
default: :data:`Int`, :data:`Float` and :data:`Bool` refuse ``true`` for a number, ``1``
for a boolean and ``!!str 3`` (or ``"3"``) for either, and a float must be finite. Every
number of a scenario also has a documented range (``docs/scenarios.md``), given on its
field.
"""

from __future__ import annotations

import difflib
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

__all__ = [
    "EARLIEST_YEAR",
    "LATEST_YEAR",
    "MAX_COUNT",
    "MAX_DURATION_S",
    "MAX_RATE_PER_DAY",
    "Bool",
    "Float",
    "Int",
    "Spec",
    "suggest",
]

#: An integer that refuses booleans and strings.
Int = Annotated[int, Strict()]
#: A finite float that refuses booleans and strings (an integer is a float).
Float = Annotated[float, Strict(), Field(allow_inf_nan=False)]
#: A boolean that refuses 0, 1 and strings.
Bool = Annotated[bool, Strict()]
#: The bound of the counts of things the world holds one of each (workers, sessions, ...).
MAX_COUNT = 10_000
#: The longest duration a scenario writes: 3,660 days, ten years and a bit.
MAX_DURATION_S = 3660 * 86400.0
#: A scenario's simulated time lies within [EARLIEST_YEAR, LATEST_YEAR) (UTC).
EARLIEST_YEAR = 1970
LATEST_YEAR = 2200
#: The highest rate of a workload action, per simulated day (about 12 a second).
MAX_RATE_PER_DAY = 1e6


class Spec(BaseModel):
    """Base of the scenario models: frozen, strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """``did you mean 'x'? `` for the choice closest to ``word``, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""
