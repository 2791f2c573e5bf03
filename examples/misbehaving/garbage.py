"""A plugin that writes garbage on stdout before every answer, then answers correctly.

Before each answer it writes a log line (as a stray ``print`` would), a JSON value that
is not a JSON-RPC message, and a response to a request id nobody sent.
"""

from __future__ import annotations

import sys
from typing import Any

from _base import Plugin, send


class Garbage(Plugin):
    type = "misbehaving-garbage"

    def before_answer(self, request: dict[str, Any]) -> None:
        sys.stdout.write(f"DEBUG handling {request['method']}\n")
        sys.stdout.write('{"hello": "world"}\n')
        send({"jsonrpc": "2.0", "id": 999999, "result": None})


if __name__ == "__main__":
    Garbage().run()
