"""A plugin that crashes: asked ``listResults`` about the id "crash", or the first time a
harness run asks it for a full listing (``last_check_date`` null), it exits with code 3
after a last word on stderr; asked about "abort", it dies of SIGABRT.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from _base import Plugin, first_time


class Crash(Plugin):
    type = "misbehaving-crash"

    def list_results(self, params: dict[str, Any]) -> Any:
        ids = params["in_progress_result_provider_ids"]
        if "crash" in ids or (params.get("last_check_date") is None and first_time("crash")):
            sys.stderr.write("crash: NullPointerException in listResults, exiting\n")
            sys.stderr.flush()
            os._exit(3)
        if "abort" in ids:
            os.abort()
        return []


if __name__ == "__main__":
    Crash().run()
