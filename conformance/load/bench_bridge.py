"""The JVM bridge's cost: start-up and wall time per operation, against an exec plugin's.

``python -m conformance.load.bench_bridge`` (and ``make bench``, through one hook in
``conformance.load.bench``) builds the abiquo-4.0.4 Java example, then drives it and the
reference plugin served over the same protocol (``exec: python -m simulator.bridge.server``),
and the Node.js example when ``node`` is installed, through the same operations in a small
world: one connect, ``getExpiredResults`` (one ``backend/expired`` round trip) and
disconnect, each a JSON-RPC request with its ``backend/*`` requests; and the start of an
instance, in a new process and on a warm one (the JVM bridge reuses a closed instance's
JVM). The figures go to their own marked section of docs/performance.md.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import simpy

from simulator.backend.backup_system import BackupSystem, BackupSystemSettings
from simulator.backend.fleet import Fleet
from simulator.bridge.jvm import compile_plugin, jar_plugin_class
from simulator.bridge.process import ProcessPlugin, process_plugin_class
from simulator.clock import SimClock
from simulator.contract import ConnectionData, PluginContext

__all__ = ["BEGIN", "END", "measure", "render", "run", "write_section"]

BEGIN = "<!-- bench-bridge:begin -->"
END = "<!-- bench-bridge:end -->"
_ROOT = Path(__file__).resolve().parents[2]
_EXAMPLE = _ROOT / "examples" / "java-plugin"
_DOC = _ROOT / "docs" / "performance.md"
_USER, _PASSWORD = "admin", "s3cret"
_WARM_UP = 50


def _plugins(scratch: Path) -> dict[str, Callable[[], type[ProcessPlugin]]]:
    jar = scratch / "plugin-4.0.4.jar"
    plugins: dict[str, Callable[[], type[ProcessPlugin]]] = {
        "jar: (Java example, JVM bridge)": lambda: jar_plugin_class(
            str(
                compile_plugin(
                    [_EXAMPLE / "common", _EXAMPLE / "abiquo-4.0.4"], jar, profile="abiquo-4.0.4"
                )
            ),
            label="java",
        ),
        "exec: (reference, Python server)": lambda: process_plugin_class(
            [
                sys.executable,
                "-m",
                "simulator.bridge.server",
                "simulator.reference:ReferencePlugin",
            ],
            label="reference",
            cwd=_ROOT,
        ),
    }
    if shutil.which("node") is not None:
        plugins["exec: (Node.js example)"] = lambda: process_plugin_class(
            ["node", str(_ROOT / "examples" / "node-plugin" / "plugin.js")], label="node"
        )
    return plugins


def _one(plugin_class: type[ProcessPlugin], operations: int, starts: int) -> dict[str, float]:
    env = simpy.Environment()
    clock = SimClock(env)
    rng = random.Random(1)
    fleet = Fleet.generate(rng, vms=2)
    settings = BackupSystemSettings(failure_probability=0.0)
    system = BackupSystem(env, rng, clock, fleet, settings, user=_USER, password=_PASSWORD)
    properties = dict(getattr(plugin_class, "example_properties", {}))
    data = ConnectionData.model_validate(
        {"endpoint": system.endpoint, "user": _USER, "password": _PASSWORD}
    )
    # A pool of warm processes (the JVM bridge's) is emptied before each cold start.
    drain = getattr(plugin_class.children, "close", lambda: None)

    def started_s(*, cold: bool) -> float:
        took = 0.0
        for _ in range(starts):
            if cold:
                drain()
            began = time.perf_counter()
            plugin_class(PluginContext(clock=clock, properties=properties, component="cpp")).close()
            took += time.perf_counter() - began
        return took / starts

    with system:
        start_s = started_s(cold=True)
        warm_s = started_s(cold=False)
        plugin = plugin_class(PluginContext(clock=clock, properties=properties, component="cpp"))
        try:
            timed = 0.0
            for n in range(_WARM_UP + operations):
                began = time.perf_counter()
                connection = plugin.new_connection()
                connection.connect(data)
                plugin.get_expired_results(connection, ["bk-00000001"])
                connection.disconnect()
                if n >= _WARM_UP:
                    timed += time.perf_counter() - began
        finally:
            plugin.close()
    return {"start_s": start_s, "warm_s": warm_s, "operation_ms": 1000 * timed / operations}


def measure(operations: int = 300, starts: int = 3) -> dict[str, dict[str, float]]:
    """Start-up seconds and milliseconds per operation, by plugin."""
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bpcert-bench-bridge-") as scratch:
        for name, build in _plugins(Path(scratch)).items():
            out[name] = _one(build(), operations, starts)
    return out


def render(figures: dict[str, dict[str, float]], started: datetime) -> str:
    """The marked section of docs/performance.md for these figures."""
    baseline = next((v for k, v in figures.items() if k.startswith("exec: (reference")), None)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    lines = [
        BEGIN,
        "",
        f"Measured by `python -m conformance.load.bench_bridge` on {started:%Y-%m-%d %H:%M} "
        f"UTC, {os.cpu_count()} CPUs, load average {load}: one operation is connect, "
        "getExpiredResults and disconnect (three requests, three backend/* round trips), "
        "after a warm-up. Start-up is a new instance in a new process (initialize, shutdown); "
        "the JVM bridge then serves the next instance from the closed one's JVM, whose "
        "start is the next column.",
        "",
        "| plugin | start-up (s) | instance on a warm process (s) | ms per operation "
        "| ratio to the exec reference |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, f in figures.items():
        ratio = f["operation_ms"] / baseline["operation_ms"] if baseline else float("nan")
        lines.append(
            f"| {name} | {f['start_s']:.2f} | {f['warm_s']:.3f} | {f['operation_ms']:.2f} "
            f"| {ratio:.2f} |"
        )
    return "\n".join([*lines, "", END])


def run(doc: Path = _DOC, *, write: bool = True) -> str:
    """Measure, and replace (or append) the section in ``doc``; returns the section."""
    section = render(measure(), datetime.now(UTC))
    if write:
        write_section(doc, section, BEGIN, END, "The JVM bridge")
    return section


def write_section(doc: Path, section: str, begin: str, end: str, heading: str) -> None:
    """Replace the marked section of ``doc`` (from ``begin`` to ``end``) with
    ``section``, or append it under ``## heading`` when the doc has none."""
    text = doc.read_text(encoding="utf-8")
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n" + section + "\n"
    doc.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print the section; ``--no-write`` leaves docs/performance.md alone."""
    args = list(sys.argv[1:] if argv is None else argv)
    sys.stdout.write(run(write="--no-write" not in args) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
