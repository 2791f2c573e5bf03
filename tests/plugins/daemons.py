"""Plugins that start processes of their own which leave the plugin's process group.

Each instance starts two sleepers when it is built: one in a session of its own
(``setsid``), kept as its child, and one daemonised by a double fork, whose parent
exits at once so that it is re-parented away from the plugin. The pids are written to
the directory named by ``BPCERT_TEST_DAEMONS``. The harness must kill both, whether the
run ends normally or the plugin misses a deadline.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from simulator.reference import ReferencePlugin

#: The environment variable naming the directory the pids are written to.
DAEMONS_DIR = "BPCERT_TEST_DAEMONS"

_SLEEPER = "import time; time.sleep(600)"
#: Forks a session leader that sleeps, prints its pid and exits: the sleeper is orphaned.
#: Like a daemon, it lets go of the pipes it was started with.
_DOUBLE_FORK = (
    "import subprocess, sys; "
    f"p = subprocess.Popen([sys.executable, '-c', {_SLEEPER!r}], start_new_session=True, "
    "stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(p.pid, flush=True)"
)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not: it was killed, not yet reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_daemons() -> None:
    """Start the two sleepers and record their pids."""
    folder = os.environ.get(DAEMONS_DIR)
    if not folder:
        return
    # This one keeps the plugin's stdout and stderr open, as a careless child does.
    kept = subprocess.Popen([sys.executable, "-c", _SLEEPER], start_new_session=True)
    orphan = subprocess.run(
        [sys.executable, "-c", _DOUBLE_FORK], capture_output=True, text=True, check=True
    )
    for pid in (kept.pid, int(orphan.stdout)):
        with open(os.path.join(folder, str(pid)), "w"):
            pass


class LeavesDaemons(ReferencePlugin):
    """The reference plugin, starting two sleepers that leave its process group."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        start_daemons()


class HangsWithDaemons(ReferencePlugin):
    """Starts the sleepers in ``validate_configuration``, then never returns."""

    def validate_configuration(self) -> None:
        """Start the sleepers, then hang."""
        start_daemons()
        time.sleep(3600)
