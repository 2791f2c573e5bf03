"""Durations in scenario files: ``30s``, ``10m``, ``1.5h``, ``2d``, ``1w``, ``250ms``, ``1h30m``.

In the models they are floats of seconds (:data:`Duration`); :func:`parse_duration` reads
the syntax and :func:`format_duration` writes it back exactly.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Union

from pydantic import (
    BeforeValidator,
    PlainSerializer,
)

from simulator.scenario.errors import brief
from simulator.scenario.spec_base import MAX_DURATION_S

__all__ = ["Duration", "format_duration", "parse_duration"]

_UNITS: dict[str, Decimal] = {
    "w": Decimal(604800),
    "d": Decimal(86400),
    "h": Decimal(3600),
    "m": Decimal(60),
    "s": Decimal(1),
    "ms": Decimal("0.001"),
}
_UNIT_ORDER = ("w", "d", "h", "m", "s", "ms")
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PLAIN_SECONDS = re.compile(rf"^{_NUMBER}(?:[eE][+-]?\d+)?$")
_COMPONENT = re.compile(rf"\s*({_NUMBER})\s*(ms|w|d|h|m|s)")
_DURATION_HELP = (
    "expected a number of seconds or numbers with units ms, s, m, h, d, w, "
    "e.g. '30s', '10m', '1.5h', '2d', '250ms', '1h30m' or 600"
)


def parse_duration(text: str) -> float:
    """Parse a duration into float seconds.

    Accepts a plain number of seconds (``"600"``, ``"1.5"``) or one or more
    ``<number><unit>`` components with units ``w``, ``d``, ``h``, ``m``, ``s``, ``ms``,
    largest first, each at most once (``"1h30m"``, ``"1.5h"``, ``"2d 12h"``). Raises
    :class:`ValueError` naming the bad text and giving examples.
    """
    raw = text
    text = text.strip()
    if not text:
        raise ValueError(f"empty duration; {_DURATION_HELP}")
    if text.startswith("-"):
        raise ValueError(f"duration {raw!r} is negative; durations are >= 0. {_DURATION_HELP}")
    if _PLAIN_SECONDS.match(text):
        seconds = float(text)
        if not math.isfinite(seconds):
            raise ValueError(f"duration {raw!r} is not finite; {_DURATION_HELP}")
        return seconds
    total = Decimal(0)
    pos = 0
    last_rank = -1
    while pos < len(text):
        m = _COMPONENT.match(text, pos)
        if m is None:
            raise ValueError(f"invalid duration {raw!r}; {_DURATION_HELP}")
        number, unit = m.group(1), m.group(2)
        rank = _UNIT_ORDER.index(unit)
        if rank <= last_rank:
            raise ValueError(
                f"invalid duration {raw!r}: each unit may appear once, largest first "
                f"(w, d, h, m, s, ms), e.g. '1h30m'"
            )
        last_rank = rank
        try:
            total += Decimal(number) * _UNITS[unit]
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
            raise ValueError(f"invalid duration {raw!r}; {_DURATION_HELP}") from exc
        pos = m.end()
    return float(total)


def format_duration(seconds: float) -> str:
    """Write ``seconds`` in the duration syntax, e.g. ``5400.0 -> "1h30m"``.

    Whole weeks are written in days (``"14d"``). Values that the syntax cannot spell
    exactly come back as a plain number of seconds, so that
    ``parse_duration(format_duration(x)) == x`` always holds.
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a duration: expected a finite value >= 0")
    if seconds == 0:
        return "0s"
    millis = round(seconds * 1000)
    parts: list[str] = []
    rest = millis
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    if rest and not parts and rest < 1000:
        parts.append(f"{rest}ms")
    elif rest:
        parts.append(f"{(Decimal(rest) / 1000).normalize():f}s")
    pretty = "".join(parts)
    if pretty and parse_duration(pretty) == seconds:
        return pretty
    return repr(float(seconds))


def _to_seconds(value: object) -> object:
    """BeforeValidator of :data:`Duration`: a YAML number or duration string to seconds.

    A scenario's durations are at most :data:`MAX_DURATION_S` (3,660 days).
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got the boolean {value!r}; {_DURATION_HELP}")
    if isinstance(value, int | float):
        if not (isinstance(value, int) or math.isfinite(value)) or value < 0:
            raise ValueError(
                f"duration {brief(value)} must be a finite number >= 0; {_DURATION_HELP}"
            )
        seconds = value
    elif isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str):
        if len(value) > 100:
            raise ValueError(f"duration {brief(value)} is {len(value):,} characters long")
        seconds = parse_duration(value)
    else:
        raise ValueError(
            f"expected a duration, got {type(value).__name__} {brief(value)}; {_DURATION_HELP}"
        )
    if seconds > MAX_DURATION_S:
        raise ValueError(
            f"duration {brief(value)} is longer than {MAX_DURATION_S / 86400:,.0f} days, the "
            "longest a scenario may write"
        )
    return float(seconds)


def _duration_json(seconds: float) -> str | float:
    text = format_duration(seconds)
    return float(text) if _PLAIN_SECONDS.match(text) else text


#: A duration in float seconds; YAML may write it as ``10m``, ``1h30m``, ``600`` ...
Duration = Annotated[
    float,
    BeforeValidator(_to_seconds),
    PlainSerializer(_duration_json, return_type=Union[str, float], when_used="json"),  # noqa: UP007
]
