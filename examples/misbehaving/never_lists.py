"""A plugin whose ``listResults`` never answers: every call sleeps forever.

The harness must end the run in bounded time all the same: each call misses its
deadline, and after three misses in a row the scenario stops (one more in each later
scenario), with a finding under ``errors.returns-within-deadline``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from _base import Plugin


class NeverLists(Plugin):
    type = "misbehaving-never-lists"

    def list_results(self, params: dict[str, Any]) -> Any:
        sys.stderr.write("never-lists: sleeping forever in listResults\n")
        sys.stderr.flush()
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    NeverLists().run()
