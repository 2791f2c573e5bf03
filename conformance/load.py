"""``bpcert load`` and ``bpcert sweep`` (being written)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

LOAD_COMMANDS: dict[str, Callable[[argparse.Namespace, Any], int]] = {}


def add_load_parsers(sub: Any, common: Callable[..., None]) -> None:
    """Register the load subcommands."""
