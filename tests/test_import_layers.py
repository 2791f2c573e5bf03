"""Plugin authors import the simulator without pulling in any test or plotting tool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = (
    "simulator",
    "simulator.contract",
    "simulator.clock",
    "simulator.backend.schedule",
    "simulator.backend.fleet",
    "simulator.backend.backup_system",
    "simulator.reference",
)
FORBIDDEN = ("pytest", "_pytest", "hypothesis", "matplotlib")


def test_importing_the_simulator_loads_no_test_or_plotting_tool() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    offenders = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN)
    assert offenders == [], f"importing the simulator loaded {offenders}"
