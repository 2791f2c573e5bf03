"""A plugin that hangs: ``listResults`` never answers when asked about the id "hang".

Any other call is answered normally, so a harness that kills and restarts it can go on.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from _base import Plugin


class Hang(Plugin):
    type = "misbehaving-hang"

    def list_results(self, params: dict[str, Any]) -> Any:
        if "hang" in params["in_progress_result_provider_ids"]:
            sys.stderr.write("hang: sleeping forever in listResults\n")
            sys.stderr.flush()
            while True:
                time.sleep(3600)
        return []


if __name__ == "__main__":
    Hang().run()
