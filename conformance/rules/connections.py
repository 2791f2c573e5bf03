"""Connections: every connection is closed, ``disconnect`` never fails, and a connect failure
is a :class:`~simulator.contract.PluginConnectionError`.

Online, the checker reads how each call's connect and disconnect went. At the end it tries
bad credentials and an unreachable endpoint (``probe``), and counts the sessions left open
on the fake backup system (``ground_truth``).
"""

from __future__ import annotations

from pydantic import SecretStr

from conformance.rules.base import FAKE_BACKEND, Checker, Context, EndOfRun, Gen, Rule, declare
from simulator.contract import (
    ConnectionData,
    ConnectionMetadata,
    FieldConstraint,
    PluginConnectionError,
)
from simulator.platform.invoker import CONSTRUCTOR, VALIDATE, CallRecord

__all__ = ["RULES", "ConnectionChecker", "connect_probes"]

RULES: tuple[Rule, ...] = (
    declare(
        "connections.closed-after-use",
        "Every connection that is opened is closed, also after a failed call, and no session "
        "is left open on the backup server.",
        needs=[FAKE_BACKEND],
    ),
    declare(
        "connections.disconnect-does-not-fail",
        "disconnect() returns normally after every operation, failed or not.",
    ),
    declare(
        "connections.connect-failure-typed",
        "A connect failure (unreachable endpoint, bad credentials, backend down) surfaces as "
        "PluginConnectionError.",
    ),
)


def connect_probes(ctx: Context, rule_id: str, cases: list[tuple[str, ConnectionData]]) -> Gen:
    """Connect a new Virtual Factory connection with each case's data: each must fail with
    PluginConnectionError, or ``rule_id`` fails."""
    world = ctx.world
    instance = ctx.platform.instances["virtualfactory"]
    for label, data in cases:

        def attempt(data: ConnectionData = data) -> str:
            connection = instance.new_connection()
            try:
                connection.connect(data)
            except PluginConnectionError:
                return "PluginConnectionError"
            connection.disconnect()
            return "connected"

        rec = yield from world.invoker.lifecycle(
            "virtualfactory", "connect", attempt, owner=instance, probe=True
        )
        ctx.sink.exercise(rule_id)
        if rec.outcome == "ok" and rec.result == "PluginConnectionError":
            continue
        actual = "connected" if rec.outcome == "ok" else f"{rec.outcome}: {rec.detail}"
        ctx.sink.fail(
            rule_id,
            f"connect() with {label} did not raise PluginConnectionError ({actual})",
            expected="PluginConnectionError",
            actual=actual,
            calls=[rec],
        )


class ConnectionChecker(Checker):
    """How every call connected and disconnected, the connect probes and open sessions."""

    rules = RULES

    def on_call(self, rec: CallRecord) -> None:
        """Judge the call's disconnect and, when it failed, its connect."""
        if rec.op in (CONSTRUCTOR, VALIDATE):
            return
        sink = self.sink
        sink.exercise("connections.disconnect-does-not-fail")
        if rec.disconnect.startswith("failed"):
            sink.fail(
                "connections.disconnect-does-not-fail",
                f"disconnect() after {rec.op} raised {rec.disconnect.split(':', 1)[1]}",
                at=rec.start,
                calls=[rec],
            )
        if rec.connect.startswith("failed"):
            sink.exercise("connections.connect-failure-typed")
            exc_type = rec.connect.split(":", 1)[1]
            if exc_type != "PluginConnectionError":
                sink.fail(
                    "connections.connect-failure-typed",
                    f"connect() failed with {exc_type}, not PluginConnectionError: {rec.detail}",
                    expected="PluginConnectionError",
                    actual=exc_type,
                    at=rec.start,
                    calls=[rec],
                )

    def probe(self, end: EndOfRun) -> Gen:
        """A wrong password and an unreachable endpoint must fail the connect with
        PluginConnectionError."""
        world = self.world
        meta = getattr(world.plugin_class, "connection_metadata", ConnectionMetadata())
        good = world.connection_data
        cases: list[tuple[str, ConnectionData]] = []
        if meta.credentials is not FieldConstraint.NO_APPLICABLE and good.user is not None:
            wrong = SecretStr("bpcert-wrong-password")
            cases.append(("a wrong password", good.model_copy(update={"password": wrong})))
        if meta.endpoint is not FieldConstraint.NO_APPLICABLE and good.endpoint is not None:
            unreachable = "sim://bpcert-unreachable"
            cases.append(
                ("an unreachable endpoint", good.model_copy(update={"endpoint": unreachable}))
            )
        yield from connect_probes(self.ctx, "connections.connect-failure-typed", cases)

    def ground_truth(self, end: EndOfRun) -> None:
        """No session may be left open on the fake backup system."""
        if not self.observed.uses_fake_backend:
            return
        self.sink.exercise("connections.closed-after-use")
        open_sessions = self.world.backup_system.open_sessions()
        if open_sessions:
            opened = ", ".join(f"{sid} (opened at {t:.0f} s)" for sid, t in open_sessions[:5])
            self.sink.fail(
                "connections.closed-after-use",
                f"{len(open_sessions)} session(s) left open on the backup server at the end: "
                f"{opened}",
                expected="every session closed by disconnect()",
                actual=f"{len(open_sessions)} open",
            )
