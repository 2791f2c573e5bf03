"""Property-based stateful suite (being written)."""

from __future__ import annotations

from pathlib import Path

from conformance.findings import Sink
from simulator.plugin_loader import LoadedPlugin


def property_sinks(
    plugin: LoadedPlugin, examples: int, seed: int | None, out: Path | None
) -> list[Sink]:
    """Findings of ``examples`` property-based examples."""
    return []
