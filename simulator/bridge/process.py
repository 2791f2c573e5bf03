"""Plugins in their own processes: the harness side of the JSON-RPC plugin protocol.

:func:`process_plugin_class` turns a command line (any language, see
``docs/protocol.md``) into a plugin class that the platform uses exactly like an
in-process one. Each instance (one per component, as Abiquo's API, Virtual Factory
and CPP each load their own) runs its own child process and talks to it over
stdin/stdout. The harness is isolated from the plugin:

- **deadlines**: every call waits at most ``call_timeout_s`` wall seconds; past it the
  process is killed, a fresh one is started and initialized, and the call raises
  :class:`~simulator.faults.CallDeadlineExceeded`;
- **crashes**: a process that exits or closes its stdout during a call is reaped and
  restarted, and the call raises :class:`~simulator.faults.PluginProcessCrashed` with
  the exit status and the tail of its stderr;
- **bad answers**: a result of the wrong JSON type or an invalid model raises
  :class:`~simulator.faults.PluginBadReturn` naming the field; an error whose exception
  name is outside the contract raises :class:`~simulator.faults.PluginForeignError`;
- **stray output**: a stdout line that is not a JSON-RPC message of the call is skipped
  and kept as a protocol violation; :meth:`ProcessPlugin.drain_protocol_violations`
  hands them to the invoker, which records them on the call.

While it waits for an answer, the harness serves the plugin's ``backend/*`` requests
from the in-process fake backup system (:mod:`simulator.backend.backup_system`), so that a
plugin in any language can be judged by the data rules.

Beside it: the child-process transport (:mod:`simulator.bridge.child`), the answers to
``backend/*`` requests (:mod:`simulator.bridge.backend_service`) and the reading of error
answers (:mod:`simulator.bridge.plugin_errors`), and one instance's call cycle (start,
initialize, exchange, restart: :class:`ProcessPlugin`, :mod:`simulator.bridge.process_plugin`).
What stays here is the factory that probes a command into a plugin class; every public
name of those modules that this one has always offered is re-exported here.

Determinism: nothing about the child's timing reaches the simulation. Lines are
handled in the order the child wrote them, whether they arrive early or late; only
the deadline (a fault by definition) and the invoker's measured-latency mode depend on
wall time.
"""

from __future__ import annotations

import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

from simulator.bridge.backend_service import (
    BackendService,
    backup_record_to_wire,
    restore_record_to_wire,
)
from simulator.bridge.plugin_errors import plugin_error_to_exception
from simulator.bridge.process_plugin import (
    _NEW_PROCESSES,
    HARNESS_NAME,
    ChildSource,
    ProcessConnection,
    ProcessPlugin,
)
from simulator.bridge.protocol import InitializeResult
from simulator.clock import DEFAULT_START
from simulator.contract import BackupPluginException, ConfigurationError, PluginContext
from simulator.faults import HarnessPluginFault

__all__ = [
    "HARNESS_NAME",
    "BackendService",
    "ChildSource",
    "PluginLaunchError",
    "ProcessConnection",
    "ProcessPlugin",
    "backup_record_to_wire",
    "plugin_error_to_exception",
    "process_plugin_class",
    "restore_record_to_wire",
]


class PluginLaunchError(RuntimeError):
    """The plugin command could not be started, or its probe process did not initialize.

    A usage error (a wrong command, a missing interpreter, a plugin that cannot even
    describe itself), not a finding about a call.
    """


# ------------------------------------------------------------------------ factory


class _ProbeClock:
    """The fixed instant the probe process is initialized at."""

    def now(self) -> datetime:
        """Always :data:`~simulator.clock.DEFAULT_START`."""
        return DEFAULT_START


def process_plugin_class(
    argv: list[str],
    *,
    label: str,
    call_timeout_s: float = 10.0,
    cwd: Path | None = None,
    start_timeout_s: float | None = None,
    fork_target: str | None = None,
    children: ChildSource | None = None,
) -> type[ProcessPlugin]:
    """A plugin class whose instances run ``argv`` as a child process each.

    ``fork_target`` says that ``argv`` is ``python -m simulator.bridge.server
    fork_target``: instances are then forked from a fork server that imported it once,
    a tenth of the cost of starting an interpreter, and spawned when that fails.

    A probe process is started first and asked to ``initialize`` (component ``api``, no
    properties, at :data:`~simulator.clock.DEFAULT_START`) so that the class can carry
    the plugin's metadata as class attributes, then shut down. ``call_timeout_s`` is the
    wall-clock deadline of every call; ``start_timeout_s`` (default: the larger of 30 s
    and ``call_timeout_s``) that of starting a process and its ``initialize``, which
    includes the start-up of an interpreter or a JVM. ``children`` says where the
    processes come from (default: a new one for every start, see :class:`ChildSource`).

    Raises :class:`PluginLaunchError` when the command cannot be started or the probe
    does not initialize.
    """
    if not argv or not all(isinstance(a, str) and a for a in argv):
        raise ValueError(f"argv must be a non-empty list of non-empty strings, got {argv!r}")
    if not call_timeout_s > 0:
        raise ValueError(f"call_timeout_s must be positive, got {call_timeout_s!r}")
    start_timeout = max(30.0, call_timeout_s) if start_timeout_s is None else start_timeout_s
    if not start_timeout > 0:
        raise ValueError(f"start_timeout_s must be positive, got {start_timeout_s!r}")
    attrs: dict[str, Any] = {
        "argv": tuple(argv),
        "label": label,
        "call_timeout_s": float(call_timeout_s),
        "start_timeout_s": float(start_timeout),
        "cwd": cwd,
        "fork_target": fork_target,
        "children": children or _NEW_PROCESSES,
        "pipelines": fork_target is not None,
        "__module__": __name__,
        "__doc__": f"The plugin {label!r}, run as `{shlex.join(argv)}`, one process per instance.",
    }
    probe_class = type(f"ProcessPluginProbe[{label}]", (_ProbeBase,), dict(attrs))
    try:
        probe = probe_class(PluginContext(clock=_ProbeClock(), properties={}, component="api"))
    except HarnessPluginFault as exc:
        raise PluginLaunchError(
            f"plugin {label!r} (`{shlex.join(argv)}`) did not initialize: {exc}. Check the "
            "command, and that the plugin answers initialize as docs/protocol.md says."
        ) from exc
    except (BackupPluginException, ConfigurationError) as exc:
        raise PluginLaunchError(
            f"plugin {label!r} (`{shlex.join(argv)}`) refused initialize: {exc}; initialize "
            "must not fail on missing properties (validateConfiguration checks them)"
        ) from exc
    try:
        description = probe.probed
    finally:
        probe.close()
    attrs.update(
        metadata=description.metadata,
        connection_metadata=description.connection_metadata,
        unsupported_operations=frozenset(description.unsupported_operations),
        supported_backup_types=description.backup_types(),
        supported_periodicities=description.periodicities(),
        contract_profiles=description.contract_profiles(),
        max_policies_per_vm=description.max_policies_per_vm,
        supports_replication=description.supports_replication,
        description=description,
    )
    if description.example_properties is not None:
        attrs["example_properties"] = dict(description.example_properties)
    name = f"ProcessPlugin[{label}]"
    attrs["__qualname__"] = name
    return type(name, (ProcessPlugin,), attrs)


class _ProbeBase(ProcessPlugin):
    """Learns the description: it has none to compare against yet, and never restarts."""

    restarts = False
    probed: InitializeResult

    def _accept(self, described: InitializeResult) -> None:
        self.probed = described
