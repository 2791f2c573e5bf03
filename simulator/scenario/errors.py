"""A scenario's problems: :class:`ScenarioError` names the file, the line, the field.

Validators raise :class:`SpecProblems` with locations relative to their model; the loader
turns them, and pydantic's own errors, into :class:`ScenarioProblem` records with positions.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_SHOWN_PROBLEMS",
    "Loc",
    "ScenarioError",
    "ScenarioProblem",
    "SpecProblems",
    "brief",
    "dotted_path",
    "loc_sort_key",
    "scenario_error",
]

Loc = tuple[str | int, ...]


_BRIEF = reprlib.Repr()
_BRIEF.maxlevel = 3
_BRIEF.maxstring = 60
_BRIEF.maxother = 60
_BRIEF.maxlong = 40
for _name in ("maxlist", "maxtuple", "maxdict", "maxset", "maxfrozenset"):
    setattr(_BRIEF, _name, 6)


def brief(value: object) -> str:
    """A short repr of ``value`` for a message: a few items, a few levels, 60 characters.

    Capped while it is built, never after: an alias bomb's millions of values never
    become a string.
    """
    return _BRIEF.repr(value)


class SpecProblems(ValueError):
    """A validator's problems, each with a location relative to the failing model.

    The loader appends ``loc`` to pydantic's location, so a cross-field check can point
    at the exact key (``workload.timeline[3].vm``) rather than at the whole model.
    """

    def __init__(self, problems: list[tuple[Loc, str]], *, at_key: bool = False) -> None:
        super().__init__(
            "; ".join(f"{dotted_path(loc)}: {msg}" if loc else msg for loc, msg in problems)
        )
        self.problems = problems
        self.at_key = at_key


def dotted_path(loc: Loc) -> str:
    """``loc`` as a field path: ``("policies", 0, "code")`` -> ``policies[0].code``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


@dataclass(frozen=True)
class ScenarioProblem:
    """One problem of a scenario: where it is and what is wrong."""

    line: int | None
    column: int | None
    field: str
    message: str

    def render(self, source: str) -> str:
        """``source:line:column: field: message``, leaving out what is unknown."""
        where = source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


#: How many problems ``str(ScenarioError)`` lists; :attr:`ScenarioError.problems` holds all.
MAX_SHOWN_PROBLEMS = 20


class ScenarioError(Exception):
    """A scenario that cannot be loaded: bad YAML, a bad key or value, an unknown name.

    ``source`` is the file path or the name asked for, ``line`` and ``column`` are
    1-based (``None`` when there is no position), ``field`` is the dotted path of the
    bad key (``policies[0].configurations[1].time``, empty when the problem is not
    about one key) and ``message`` says what was expected and what came. When a file
    has several problems, ``problems`` holds all of them in file order, the attributes
    describe the first, and ``str()`` gives one line per problem, for the first
    :data:`MAX_SHOWN_PROBLEMS` of them.
    """

    def __init__(
        self,
        source: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        field: str = "",
        problems: tuple[ScenarioProblem, ...] = (),
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.field = field
        self.message = message
        self.problems = problems or (ScenarioProblem(line, column, field, message),)
        # A generated file can hold thousands of the same mistake: the first ones say it.
        shown = [p.render(source) for p in self.problems[:MAX_SHOWN_PROBLEMS]]
        more = len(self.problems) - len(shown)
        if more:
            shown.append(f"{source}: ... and {more:,} more problems")
        super().__init__("\n".join(shown))

    def __reduce__(self) -> tuple[Any, ...]:
        return (scenario_error, (self.source, self.problems))


def scenario_error(source: str, problems: Sequence[ScenarioProblem]) -> ScenarioError:
    """The error of ``source`` with ``problems`` (at least one): the first one leads."""
    first = problems[0]
    return ScenarioError(
        source,
        first.message,
        line=first.line,
        column=first.column,
        field=first.field,
        problems=tuple(problems),
    )


def loc_sort_key(loc: Loc) -> tuple[tuple[int, str | int], ...]:
    """A key that orders locations whose parts mix indexes and names."""
    return tuple((0, p) if isinstance(p, int) else (1, p) for p in loc)
