"""A plugin that hangs: ``listResults`` never answers when asked about the id "hang", nor
the first time a harness run asks it for a full listing (``last_check_date`` null).

"First time" is remembered in a marker file per harness process (the parent), so the
restarted process behaves and the run goes on. Any other call is answered normally.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from _base import Plugin, first_time


class Hang(Plugin):
    type = "misbehaving-hang"

    def list_results(self, params: dict[str, Any]) -> Any:
        first_full_listing = params.get("last_check_date") is None and first_time("hang")
        if first_full_listing or "hang" in params["in_progress_result_provider_ids"]:
            sys.stderr.write("hang: sleeping forever in listResults\n")
            sys.stderr.flush()
            while True:
                time.sleep(3600)
        return []


if __name__ == "__main__":
    Hang().run()
