"""Pieces the front doors and the load commands share, below both: usage errors, the
properties-file reader and the ``--max-wall`` option."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from pathlib import Path

__all__ = ["UsageError", "add_max_wall", "max_wall_s", "read_properties", "write_properties"]


class UsageError(Exception):
    """A bad command line, reported with exit code 4."""


def read_properties(path: str | None) -> dict[str, str] | None:
    """Read a Java-style ``.properties`` file (``key=value`` lines, ``#`` comments)."""
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--properties {path}: cannot read it ({exc.strerror})") from None
    props: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        sep = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if sep < 0:
            raise UsageError(f"{path}:{number}: expected 'key=value', got {raw!r}")
        props[line[:sep].strip()] = line[sep + 1 :].strip()
    return props


def write_properties(properties: Mapping[str, str], path: Path) -> Path:
    """Write ``properties`` as a ``.properties`` file that :func:`read_properties` reads back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{key}={value}" for key, value in sorted(properties.items())]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def add_max_wall(p: argparse.ArgumentParser, what: str = "the run") -> None:
    """``--max-wall S`` on a long-running command: the same option on all of them."""
    p.add_argument(
        "--max-wall",
        type=float,
        default=None,
        metavar="S",
        help=f"stop {what} after S wall seconds: the report holds what ran, the verdict is "
        "'incomplete' (exit 2) unless something already failed",
    )


def max_wall_s(args: argparse.Namespace) -> float | None:
    """The ``--max-wall`` of ``args`` (None: no bound); not a positive number is a usage error."""
    value: float | None = getattr(args, "max_wall", None)
    if value is not None and not (math.isfinite(value) and value > 0):
        raise UsageError(f"--max-wall must be more than 0 seconds, got {value:g}")
    return value
