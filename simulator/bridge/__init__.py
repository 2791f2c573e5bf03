"""Plugin bridges: how a plugin spec becomes calls the invoker can make (in-process Python,
a child process or an exec'd program speaking JSON-RPC), and the wire protocol."""
