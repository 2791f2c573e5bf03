"""The sweep's wall-time growth plot, beside the report's own plots (``plots/``).

The report draws the check cost's growth (``load-growth.png``); this draws the jobs' wall
time against their fleet size on log-log axes, with the fitted power law and a slope-1
guide: how the simulation's own cost grows, which a linear model keeps near 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from conformance.load.job import LoadResult
from conformance.load.sweep import fit_growth

__all__ = ["WALL_GROWTH_PLOT", "write_wall_growth_plot"]

#: The file name of the plot, in the run directory's ``plots/``.
WALL_GROWTH_PLOT = "sweep-wall-time.png"


def write_wall_growth_plot(results: Sequence[LoadResult], out_dir: Path) -> Path | None:
    """Draw every job's wall time against its fleet size; None when no job ran.

    Raises what matplotlib raises when it cannot draw.
    """
    points = [(r.job.vms, r.wall_s) for r in results if r.job.vms > 0 and r.wall_s > 0]
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    exponent = fit_growth(points)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    try:
        ax.scatter([n for n, _ in points], [w for _, w in points], zorder=3, label="jobs")
        sizes = sorted({n for n, _ in points})
        if exponent is not None:
            mx = sum(math.log(n) for n, _ in points) / len(points)
            my = sum(math.log(w) for _, w in points) / len(points)

            def line(slope: float) -> list[float]:
                return [math.exp(my + slope * (math.log(x) - mx)) for x in (sizes[0], sizes[-1])]

            ends = [sizes[0], sizes[-1]]
            ax.plot(ends, line(exponent), linewidth=2, label=f"fit: exponent {exponent:.2f}")
            ax.plot(ends, line(1.0), color="grey", linestyle="--", linewidth=1, label="linear")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title("wall time per job against fleet size")
        ax.set_xlabel("VMs")
        ax.set_ylabel("wall time (s)")
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(fontsize="small", loc="upper left")
        path = out_dir / "plots" / WALL_GROWTH_PLOT
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100, metadata={"Software": None})
    finally:
        plt.close(fig)
    return path
