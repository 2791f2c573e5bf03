"""Plugin bridges: how a plugin spec becomes calls the invoker can make (in-process Python,
a child process or an exec'd program speaking JSON-RPC), and the wire protocol.

Import its modules: :mod:`~simulator.bridge.loader` (a plugin spec to a plugin),
:mod:`~simulator.bridge.process`, :mod:`~simulator.bridge.server`,
:mod:`~simulator.bridge.protocol` (which re-exports :mod:`~simulator.bridge.jsonrpc` and
:mod:`~simulator.bridge.backend_methods`).
Nothing is re-exported here, so that importing one module does not load the others.
"""

__all__: list[str] = []
