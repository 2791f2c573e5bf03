"""The progress bars of the commands that run scenarios (``run``, ``check``, ``certify``)."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

__all__ = ["progress_for"]


def progress_for(console: Console, quiet: bool) -> Callable[[str, float, float], None]:
    """A ``progress(name, t, total)`` callback: one bar per scenario, closed when it ends."""
    from reports.terminal import SimProgress

    bars: dict[str, SimProgress] = {}

    def progress(name: str, t: float, total: float) -> None:
        bar = bars.get(name)
        if bar is None:
            for other in bars.values():
                other.__exit__(None, None, None)
            bars.clear()
            bar = SimProgress(console, total, name, quiet)
            bar.__enter__()
            bars[name] = bar
        bar.update(t)
        if t >= total:
            bar.__exit__(None, None, None)
            bars.pop(name, None)

    return progress
