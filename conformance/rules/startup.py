"""Startup: the plugin's metadata, its configuration validation, its connection constraints,
and that its instances keep no state of their own.

Online, the checker judges the platform's own constructor and ``validate_configuration``
calls and every connect. At the end it lists through a fresh instance (``audit``), and
probes validation with each property removed, emptied or made invalid (``probe``).
"""

from __future__ import annotations

import re
from typing import Any

from conformance.rules.base import (
    Checker,
    EndOfRun,
    Gen,
    Rule,
    declare,
)
from conformance.rules.connections import connect_probes
from simulator.contract import (
    BackupPluginError,
    BackupResult,
    ConnectionData,
    ConnectionMetadata,
    FieldConstraint,
    OnDemandBackupOptions,
    Operation,
    PluginContext,
    ResultState,
)
from simulator.platform.invoker import CONSTRUCTOR, VALIDATE, CallRecord
from simulator.world import World, properties_for

__all__ = ["RULES", "StartupChecker", "world_has_copies"]

_O = Operation

RULES: tuple[Rule, ...] = (
    declare(
        "startup.metadata-well-formed",
        "Metadata is well formed: a non-empty type token, a version and at least one "
        "supported backup-technology version (supportedVersions: the backup product's "
        "versions, not Abiquo's).",
    ),
    declare(
        "startup.validate-passes-with-complete-properties",
        "validate_configuration returns normally when the properties are complete.",
    ),
    declare(
        "startup.validate-raises-configuration-error",
        "validate_configuration raises ConfigurationError, and nothing else, when a property "
        "is missing or invalid.",
    ),
    declare(
        "startup.validate-detects-missing-properties",
        "A property the plugin cannot work without is reported by validate_configuration, "
        "not discovered later by an operation.",
        [_O.LIST_RESULTS],
    ),
    declare(
        "startup.connection-constraints-honoured",
        "The plugin connects with exactly the fields its connection metadata asks for, and a "
        "missing MANDATORY field fails the connect with PluginConnectionError.",
    ),
    declare(
        "startup.instances-isolated",
        "Every component works with its own instance: a fresh instance sees the same results "
        "as a long-lived one, so no state lives only in one instance's memory.",
        [_O.LIST_RESULTS],
    ),
)

_TYPE_TOKEN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def world_has_copies(world: World) -> bool:
    """True when the components build from separate copies of the plugin's module."""
    return bool(world.platform.component_classes)


class StartupChecker(Checker):
    """Metadata, validation, connection constraints and instance isolation."""

    rules = RULES

    def before_run(self) -> None:
        """The metadata: it needs only the plugin class."""
        sink = self.sink
        meta = getattr(self.world.plugin_class, "metadata", None)
        sink.exercise("startup.metadata-well-formed")
        problems = []
        if meta is None:
            problems.append("metadata is missing")
        else:
            if not _TYPE_TOKEN.match(meta.type or ""):
                problems.append(
                    f"type {meta.type!r} is not a lower-case token such as 'veeam10' or 'rubrik'"
                )
            if not (meta.version or "").strip():
                problems.append("version is empty")
            if not meta.friendly_name.strip():
                problems.append("friendly_name is empty")
            if not meta.supported_versions or not all(v.strip() for v in meta.supported_versions):
                problems.append(
                    f"supported_versions {list(meta.supported_versions)!r} must list at least "
                    "one non-empty version of the backup technology the plugin works with"
                )
        for problem in problems:
            sink.fail(
                "startup.metadata-well-formed",
                f"plugin metadata: {problem}",
                expected="a non-empty type token, a version and at least one supported version",
                actual=repr(meta),
            )

    def on_call(self, rec: CallRecord) -> None:
        """The platform's own constructor and validation calls, and every connect."""
        if rec.op in (CONSTRUCTOR, VALIDATE):
            self._lifecycle(rec)
            return
        if rec.connect.startswith("failed"):
            if not self.ctx.outages.contains(rec.start):
                self.sink.exercise("startup.connection-constraints-honoured")
                self.sink.fail(
                    "startup.connection-constraints-honoured",
                    "connect() failed with the connection data the plugin's metadata asks for, "
                    f"while the backup system was up: {rec.detail}",
                    at=rec.start,
                    calls=[rec],
                )
        elif rec.connect == "ok":
            self.sink.exercise("startup.connection-constraints-honoured")

    def _properties_source(self) -> str:
        """Whose properties the plugin got: its own examples, or a file the user gave."""
        world = self.world
        example = properties_for(world.plugin_class, world.scenario)
        if world.properties == example:
            return "its own complete example properties"
        return "the properties file given (--properties), with the scenario's changes"

    def _lifecycle(self, rec: CallRecord) -> None:
        sink = self.sink
        if rec.probe or self.world.platform.ready.triggered:
            return  # the probes judge what they build, however short the run was
        if rec.op == CONSTRUCTOR and rec.outcome != "ok":
            sink.fail(
                "startup.validate-passes-with-complete-properties",
                f"building the {rec.component} instance failed: {rec.detail}",
                calls=[rec],
            )
            return
        if rec.op != VALIDATE:
            return
        if self.world.scenario.platform.properties.mode == "default":
            sink.exercise("startup.validate-passes-with-complete-properties")
            if rec.outcome != "ok":
                sink.fail(
                    "startup.validate-passes-with-complete-properties",
                    f"validate_configuration failed on the {rec.component} with "
                    f"{self._properties_source()}: {rec.detail}",
                    expected="returns normally",
                    actual=rec.detail,
                    calls=[rec],
                )
        else:
            sink.exercise("startup.validate-raises-configuration-error")
            if rec.outcome == "ok" or rec.error_code == "CONFIGURATION":
                return
            sink.fail(
                "startup.validate-raises-configuration-error",
                f"validate_configuration raised {rec.detail} instead of ConfigurationError",
                expected="ConfigurationError",
                actual=rec.detail,
                calls=[rec],
            )

    # ------------------------------------------------------------------ the end

    def audit(self, end: EndOfRun) -> Gen:
        """A fresh instance (and one of the Virtual Factory's class) lists what the CPP lists."""
        if end.listing is None or end.listing_call is None:
            return
        yield from self._fresh_instance(end.listing, end.listing_call)
        if world_has_copies(self.world):
            yield from self._fresh_instance(end.listing, end.listing_call, "virtualfactory")

    def probe(self, end: EndOfRun) -> Gen:
        """A missing MANDATORY connection field fails the connect; then validation with
        each property removed, emptied or made invalid."""
        meta = getattr(self.world.plugin_class, "connection_metadata", ConnectionMetadata())
        good = self.world.connection_data
        cases: list[tuple[str, ConnectionData]] = []
        if meta.endpoint is FieldConstraint.MANDATORY:
            cases.append(
                ("no endpoint although it is MANDATORY", good.model_copy(update={"endpoint": None}))
            )
        if meta.credentials is FieldConstraint.MANDATORY:
            no_credentials = good.model_copy(update={"user": None, "password": None})
            cases.append(("no credentials although they are MANDATORY", no_credentials))
        yield from connect_probes(self.ctx, "startup.connection-constraints-honoured", cases)
        yield from self._validate_probes(baseline=end.listing_call)

    def without_plugins(self) -> Gen:
        """Validation probes need no loaded plugin: they build their own instances."""
        yield from self._validate_probes(baseline=None)

    def _fresh_instance(
        self, listing: list[BackupResult], rec: CallRecord, component: str = "cpp"
    ) -> Gen:
        """A brand-new instance (of ``component``'s class) must see what the CPP sees."""
        world = self.world
        checker = self.ctx.profile.results_component
        context = PluginContext(world.clock, dict(world.properties), checker, world.profile.id)
        cls = world.platform.class_for(component)
        built = yield from world.invoker.lifecycle(
            checker,
            CONSTRUCTOR,
            lambda: cls(context),
            owner=world.plugin_class,
            probe=True,
        )
        if not built.ok:
            return
        fresh = built.result
        try:
            validated = yield from world.invoker.lifecycle(
                checker, VALIDATE, fresh.validate_configuration, owner=fresh, probe=True
            )
            if not validated.ok:
                return
            other = yield from self.ctx.full_listing(fresh)
            if not other.ok:
                return
            self.sink.exercise("startup.instances-isolated")
            cutoff = rec.now
            mine = {r.provider_id for r in listing}
            theirs = {r.provider_id: r for r in other.result}
            missing = sorted(mine - set(theirs))
            extra = sorted(
                pid
                for pid, r in theirs.items()
                if pid not in mine and cutoff is not None and r.creation_date <= cutoff
            )
            if missing or extra:
                where = (
                    "instance memory"
                    if component == "cpp"
                    else "the Virtual Factory's memory (its JVM's static state)"
                )
                self.sink.fail(
                    "startup.instances-isolated",
                    f"a fresh instance built like the {component}'s lists {len(theirs)} results "
                    f"where the long-lived CPP instance lists {len(mine)}: {len(missing)} "
                    f"missing (e.g. {missing[:3]}), {len(extra)} extra (e.g. {extra[:3]}); "
                    f"state seems to live in {where}",
                    calls=[rec, other],
                )
        finally:
            close = getattr(fresh, "close", None)
            if callable(close):
                close()

    def _work_with(
        self, instance: Any, label: str, validated: CallRecord, baseline: CallRecord
    ) -> Gen:
        """A short lifecycle with an instance whose reduced properties validation accepted:
        list, apply a VM's schedule again, back up with and without replication, restore,
        ask about expiry. These are what properties are for; any failure (but UNSUPPORTED
        replication) means validation should have refused them."""
        ctx = self.ctx
        world = self.world
        steps: list[tuple[Operation, Any]] = [(Operation.LIST_RESULTS, (None, frozenset()))]
        listing = list(baseline.result) if baseline.ok else []
        vms = ctx.deployed_vms()
        if vms:
            i = vms[0]
            info = world.fleet.info(i)
            schedule = ctx.platform.vm_schedule.get(info.uuid)
            if schedule is not None:
                steps.append((Operation.APPLY_SCHEDULE, (info, schedule)))
            steps.append((Operation.EXECUTE_BACKUP, (info, OnDemandBackupOptions())))
            steps.append(
                (Operation.EXECUTE_BACKUP, (info, OnDemandBackupOptions(replication=True)))
            )
            now = world.clock.now()
            done = [
                r.provider_id
                for r in listing
                if r.vm_uuid == info.uuid
                and r.state is ResultState.DONE
                and (r.expiration_date is None or r.expiration_date > now)
            ]
            if done:
                steps.append((Operation.EXECUTE_RESTORE, (info, done[-1])))
        ids = sorted(r.provider_id for r in listing)[:20]
        steps.append((Operation.GET_EXPIRED_RESULTS, (ids,)))
        for op, args in steps:
            if not ctx.supported(op):
                continue
            if op in (Operation.LIST_RESULTS, Operation.GET_EXPIRED_RESULTS):
                call = yield from ctx.cpp_call(instance, op, args)
            else:
                call = yield from world.invoker.call(
                    "virtualfactory", instance, op, args[0].uuid, args, probe=True
                )
            replication = op is Operation.EXECUTE_BACKUP and args[1].replication
            if call.ok or (replication and call.error_code == BackupPluginError.UNSUPPORTED.value):
                continue
            self.sink.fail(
                "startup.validate-detects-missing-properties",
                f"validate_configuration accepted {label}, but {op.value} then failed "
                f"({call.outcome}: {call.detail}); it works with the complete properties, so "
                "validation should have refused these",
                calls=[validated, call, baseline],
            )
            return

    def _validate_probes(self, baseline: CallRecord | None) -> Gen:
        """Each property removed or made invalid: ConfigurationError or a working plugin."""
        world = self.world
        sink = self.sink
        complete = dict(getattr(world.plugin_class, "example_properties", {}) or {})
        if world.scenario.platform.properties.mode == "default":
            complete = dict(world.properties)
        if not complete:
            sink.not_exercisable(
                "startup.validate-raises-configuration-error",
                "the plugin publishes no example properties to remove",
                declared=True,
            )
            sink.not_exercisable(
                "startup.validate-detects-missing-properties",
                "the plugin publishes no example properties to remove",
                declared=True,
            )
            return
        variants: list[tuple[str, dict[str, str]]] = [("no properties at all", {})]
        for key in sorted(complete):
            without = {k: v for k, v in complete.items() if k != key}
            variants.append((f"{key!r} missing", without))
            variants.append((f"{key!r} empty", {**without, key: ""}))
            variants.append((f"{key!r} invalid", {**without, key: "bpcert-invalid-\u2603"}))
        can_probe = (
            baseline is not None
            and baseline.ok
            and not self.ctx.outages.contains(world.env.now)
            and self.ctx.supported(self.ctx.listing_op)
        )
        for label, props in variants:
            context = PluginContext(world.clock, props, "api", world.profile.id)

            def build(context: PluginContext = context) -> Any:
                return world.plugin_class(context)

            built = yield from world.invoker.lifecycle(
                "api", CONSTRUCTOR, build, owner=world.plugin_class, probe=True
            )
            if not built.ok:
                sink.exercise("startup.validate-raises-configuration-error")
                sink.fail(
                    "startup.validate-raises-configuration-error",
                    f"building the plugin with {label} raised {built.detail}; problems with "
                    "properties belong in validate_configuration",
                    calls=[built],
                )
                continue
            instance = built.result
            try:
                rec = yield from world.invoker.lifecycle(
                    "api", VALIDATE, instance.validate_configuration, owner=instance, probe=True
                )
                sink.exercise("startup.validate-raises-configuration-error")
                sink.exercise("startup.validate-detects-missing-properties")
                if rec.outcome != "ok" and rec.error_code != "CONFIGURATION":
                    sink.fail(
                        "startup.validate-raises-configuration-error",
                        f"validate_configuration with {label} raised {rec.detail}",
                        expected="ConfigurationError (or return normally)",
                        actual=rec.detail,
                        calls=[rec],
                    )
                    continue
                if rec.outcome != "ok" or not can_probe or baseline is None:
                    continue
                # Accepted: then the plugin must do its work without that property.
                yield from self._work_with(instance, label, rec, baseline)
            finally:
                close = getattr(instance, "close", None)
                if callable(close):
                    close()
