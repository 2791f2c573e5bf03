"""Faults the harness detects while calling a plugin, as opposed to errors the plugin raises.

The invoker (``simulator.platform.invoker``) sorts every plugin call into an outcome. Plugin
transports (in-process, or a child process speaking JSON-RPC) raise these to tell it
what happened:

- :class:`CallDeadlineExceeded` -> outcome ``indeterminate``;
- :class:`PluginProcessCrashed` -> outcome ``crash``;
- :class:`PluginBadReturn` -> outcome ``bad-return``;
- :class:`PluginForeignError` -> outcome ``foreign-error`` (an exception type outside
  the contract, reported by an out-of-process plugin).

:class:`HarnessError` is the other side: a failure of the harness itself met during a
plugin call (the fake backend's own arithmetic, say). The invoker never records it as the
plugin's outcome; it ends the run as a harness error (exit 3).
"""

from __future__ import annotations

__all__ = [
    "CallDeadlineExceeded",
    "HarnessError",
    "HarnessPluginFault",
    "PluginBadReturn",
    "PluginForeignError",
    "PluginProcessCrashed",
]


class HarnessError(Exception):
    """A failure of the harness itself during a plugin call: never the plugin's outcome."""


class HarnessPluginFault(Exception):
    """Base of the faults a transport reports about a plugin call."""


class CallDeadlineExceeded(HarnessPluginFault):
    """The call did not return within its deadline; its effect is unknown."""

    def __init__(self, op: str, deadline_s: float) -> None:
        super().__init__(f"{op} did not return within its deadline of {deadline_s:g} s")
        self.op = op
        self.deadline_s = deadline_s


class PluginProcessCrashed(HarnessPluginFault):
    """The plugin's process exited or closed its output during a call."""

    def __init__(self, op: str, detail: str) -> None:
        super().__init__(f"the plugin process crashed during {op}: {detail}")
        self.op = op
        self.detail = detail


class PluginBadReturn(HarnessPluginFault):
    """The call returned a value of the wrong type or an invalid model."""

    def __init__(self, op: str, detail: str) -> None:
        super().__init__(f"{op} returned a bad value: {detail}")
        self.op = op
        self.detail = detail


class PluginForeignError(HarnessPluginFault):
    """An out-of-process plugin raised an exception type the contract does not allow."""

    def __init__(self, op: str, type_name: str, message: str) -> None:
        super().__init__(f"{op} raised {type_name}: {message}")
        self.op = op
        self.type_name = type_name
        self.message = message
