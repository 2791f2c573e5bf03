"""Resolve a plugin spec to a plugin class, and check that the class fits the contract.

A spec is one of:

- an entry-point name in the group ``bpcert.plugins`` (``reference``);
- ``module:Class`` (``my_vendor.plugin:VeeamPlugin``);
- ``exec:COMMAND ...``: a plugin in any language speaking the JSON-RPC protocol of
  ``docs/protocol.md`` over stdio (``exec:node examples/node-plugin/plugin.js``);
- ``jar:PLUGIN.jar[:MORE.jar:DIR...]``: a Java plugin jar and its dependencies, served
  by the JVM bridge of :mod:`simulator.bridge.jvm` (``docs/java.md``).

With ``isolation="process"`` a Python plugin is served from a child process by
``simulator.bridge.server``, so that a hang or a crash cannot take the harness down.

Every failure is a :class:`PluginSpecError` with a message that says what was
expected, what came and how to fix it: unknown names list the installed plugins and
suggest close matches; a class missing a method or with a wrong signature names it.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import itertools
import shlex
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal

from simulator.contract import ConnectionMetadata, Operation, PluginMetadata
from simulator.profiles import PROFILES, ProfileError, declared_profiles

__all__ = [
    "ENTRY_POINT_GROUP",
    "LoadedPlugin",
    "PluginSpecError",
    "component_classes",
    "installed_plugins",
    "load_plugin",
    "release_component_classes",
    "validate_plugin_class",
]

ENTRY_POINT_GROUP = "bpcert.plugins"
_COPY_NUMBERS = itertools.count(1)
Isolation = Literal["in-process", "process"]

#: Method name -> the parameters after ``self`` the platform passes, by position.
_SIGNATURES: dict[str, tuple[str, ...]] = {
    "validate_configuration": (),
    "new_connection": (),
    "apply_schedule": ("connection", "vm", "schedule"),
    "apply_new_schedule": ("connection", "vm", "old_schedule", "new_schedule"),
    "remove_schedule": ("connection", "vm"),
    "execute_backup": ("connection", "vm", "options"),
    "execute_restore": ("connection", "vm", "backup_id"),
    "list_results": ("connection", "last_check_date", "in_progress_result_provider_ids"),
    "get_expired_results": ("connection", "provider_ids"),
    "is_backup_expired": ("connection", "backup_id"),
    "get_backup_result": ("connection", "backup_id"),
    "get_restore_result": ("connection", "restore_id"),
    "list_new_backup_results": ("connection", "start_date"),
    "list_new_restore_results": ("connection", "start_date"),
    "list_virtual_machines_in_backup_policy": ("connection", "policy_code"),
}
_LIFECYCLE = ("validate_configuration", "new_connection")


def _required_methods(cls: type, problems: list[str]) -> list[str]:
    """The methods ``cls`` needs: the lifecycle ones and those of every profile it declares."""
    try:
        declared = declared_profiles(cls)
    except ProfileError as exc:
        problems.append(str(exc))
        declared = ()
    ops = {op for profile in declared for op in PROFILES[profile].operations}
    if not declared:
        ops = set(PROFILES["abiquo-4.0.4"].operations)
    wanted = {op.python_name for op in ops}
    return [name for name in _SIGNATURES if name in _LIFECYCLE or name in wanted]


class PluginSpecError(Exception):
    """A plugin spec that cannot be resolved, or a class that does not fit the contract."""


@dataclass(frozen=True)
class LoadedPlugin:
    """A resolved plugin: its class and how it was found."""

    spec: str
    plugin_class: type
    isolation: Isolation

    @property
    def metadata(self) -> PluginMetadata | None:
        """The plugin's ``metadata`` class attribute, if well formed."""
        value = getattr(self.plugin_class, "metadata", None)
        return value if isinstance(value, PluginMetadata) else None


def installed_plugins() -> dict[str, str]:
    """Entry-point name -> ``module:Class`` of every installed plugin, sorted by name."""
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return dict(sorted(found.items()))


def _unknown(spec: str, reason: str) -> PluginSpecError:
    installed = installed_plugins()
    listing = ", ".join(installed) or "(none)"
    close = difflib.get_close_matches(spec, list(installed), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return PluginSpecError(
        f"unknown plugin {spec!r}: {reason}. Installed plugins: {listing}.{hint} "
        "A spec is an installed name, 'module:Class', 'exec:COMMAND' or 'jar:PLUGIN.jar'."
    )


def _import_class(spec: str) -> type:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise _unknown(spec, "it is not an installed plugin name")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise _unknown(spec, f"module {module_name!r} cannot be imported ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - a vendor module may fail in any way on import
        raise PluginSpecError(
            f"importing {module_name!r} for plugin {spec!r} failed: {type(exc).__name__}: {exc}"
        ) from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            names = [n for n in dir(module) if not n.startswith("_")]
            close = difflib.get_close_matches(part, names, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise PluginSpecError(
                f"module {module_name!r} has no attribute {part!r} (plugin {spec!r}).{hint}"
            ) from None
    if not inspect.isclass(obj):
        raise PluginSpecError(f"plugin {spec!r} is a {type(obj).__name__}, expected a class")
    return obj


def validate_plugin_class(cls: type, spec: str) -> None:
    """Raise :class:`PluginSpecError` unless ``cls`` has every contract method and attribute.

    Methods are checked by name and by the number of positional parameters the
    platform passes (those of every contract profile the class declares in
    ``contract_profiles``); class attributes by type.
    """
    problems: list[str] = []
    for name in _required_methods(cls, problems):
        params = _SIGNATURES[name]
        method = getattr(cls, name, None)
        if method is None or not callable(method):
            problems.append(f"method {name}({', '.join(params)}) is missing")
            continue
        try:
            signature = inspect.signature(method)
        except (TypeError, ValueError):
            continue
        positional = [
            p
            for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if positional and positional[0].name in ("self", "cls"):
            positional = positional[1:]
        has_varargs = any(p.kind is p.VAR_POSITIONAL for p in signature.parameters.values())
        required = [p for p in positional if p.default is p.empty]
        if has_varargs:
            continue
        if len(positional) < len(params) or len(required) > len(params):
            got = ", ".join(p.name for p in positional)
            problems.append(
                f"method {name} takes ({got}) but the platform calls it with ({', '.join(params)})"
            )
    if not isinstance(getattr(cls, "metadata", None), PluginMetadata):
        problems.append("class attribute metadata must be a simulator.contract.PluginMetadata")
    connection = getattr(cls, "connection_metadata", ConnectionMetadata())
    if not isinstance(connection, ConnectionMetadata):
        problems.append(
            "class attribute connection_metadata must be a simulator.contract.ConnectionMetadata"
        )
    unsupported: Any = getattr(cls, "unsupported_operations", frozenset())
    if not isinstance(unsupported, frozenset | set) or not all(
        isinstance(op, Operation) for op in unsupported
    ):
        problems.append("class attribute unsupported_operations must be a frozenset[Operation]")
    max_policies: Any = getattr(cls, "max_policies_per_vm", None)
    if max_policies is not None and (
        not isinstance(max_policies, int) or isinstance(max_policies, bool) or max_policies < 1
    ):
        problems.append("class attribute max_policies_per_vm must be None or an int of at least 1")
    if not isinstance(getattr(cls, "supports_replication", True), bool):
        problems.append("class attribute supports_replication must be a bool")
    if problems:
        raise PluginSpecError(
            f"plugin {spec!r} ({cls.__module__}.{cls.__qualname__}) does not fit the contract:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


def component_classes(plugin: LoadedPlugin) -> dict[str, type]:
    """One copy of the plugin's class per component, from its own copy of the module.

    Abiquo's API, Virtual Factory and Cloud Provider Proxy are separate JVMs, so a
    plugin's static (module-level or class-level) state is never shared between them.
    In one Python process it would be; executing the plugin's module once per component
    restores the separation, so state kept there is invisible to the other components,
    as it would be in production. Modules the plugin imports are still shared.

    Isolated plugins already have a process per component; a class whose module cannot
    be re-executed (``__main__``, built in a function, ...) falls back to sharing.
    """
    cls = plugin.plugin_class
    if plugin.isolation != "in-process":
        return {}
    module_name = cls.__module__
    spec = importlib.util.find_spec(module_name) if module_name != "__main__" else None
    if (
        spec is None
        or spec.origin is None
        or not spec.has_location
        or "<locals>" in (cls.__qualname__)
    ):
        return {}
    copies: dict[str, type] = {}
    world = next(_COPY_NUMBERS)
    for component in ("api", "virtualfactory", "cpp"):
        name = f"{module_name}__bpcert_{world}_{component}"
        copy_spec = importlib.util.spec_from_file_location(name, spec.origin)
        if copy_spec is None or copy_spec.loader is None:
            return {}
        module = importlib.util.module_from_spec(copy_spec)
        module.__package__ = spec.parent
        # Registered while the world runs (pydantic resolves annotations through it).
        sys.modules[name] = module
        try:
            copy_spec.loader.exec_module(module)
        except Exception:  # noqa: BLE001 - fall back to one shared class
            release_component_classes(copies)
            sys.modules.pop(name, None)
            return {}
        obj: Any = module
        for part in cls.__qualname__.split("."):
            obj = getattr(obj, part, None)
        if not inspect.isclass(obj):
            return {}
        copies[component] = obj
    return copies


def release_component_classes(copies: dict[str, type]) -> None:
    """Forget the module copies behind ``copies`` once their world has finished."""
    for cls in copies.values():
        if "__bpcert_" in cls.__module__:
            sys.modules.pop(cls.__module__, None)


def _exec_class(
    command: str, spec: str, call_timeout_s: float, fork_target: str | None = None
) -> type:
    argv = shlex.split(command)
    if not argv:
        raise PluginSpecError(f"plugin {spec!r}: 'exec:' needs a command, e.g. 'exec:node p.js'")
    from simulator.bridge.process import process_plugin_class  # only needed for exec specs

    try:
        return process_plugin_class(
            argv, label=spec, call_timeout_s=call_timeout_s, fork_target=fork_target
        )
    except Exception as exc:  # noqa: BLE001 - any start-up failure is a usage error here
        raise PluginSpecError(f"plugin {spec!r} could not be started: {exc}") from None


def load_plugin(
    spec: str, *, isolation: Isolation = "in-process", call_timeout_s: float = 10.0
) -> LoadedPlugin:
    """Resolve ``spec`` to a validated plugin class."""
    spec = spec.strip()
    if not spec:
        raise _unknown(spec, "the spec is empty")
    if spec.startswith("exec:"):
        cls = _exec_class(spec[len("exec:") :], spec, call_timeout_s)
        validate_plugin_class(cls, spec)
        return LoadedPlugin(spec, cls, "process")
    if spec.startswith("jar:"):
        from simulator.bridge.jvm import jar_plugin_class  # only needed for jar specs

        cls = jar_plugin_class(spec[len("jar:") :], label=spec, call_timeout_s=call_timeout_s)
        validate_plugin_class(cls, spec)
        return LoadedPlugin(spec, cls, "process")
    installed = installed_plugins()
    target = installed.get(spec, spec)
    if ":" not in target:
        raise _unknown(spec, "it is not an installed plugin name")
    cls = _import_class(target)
    validate_plugin_class(cls, spec)
    if isolation == "process":
        command = shlex.join([sys.executable, "-m", "simulator.bridge.server", target])
        # Forked from a process that imported it once: see simulator.bridge.child.
        served = _exec_class(command, spec, call_timeout_s, fork_target=target)
        validate_plugin_class(served, spec)
        return LoadedPlugin(spec, served, "process")
    return LoadedPlugin(spec, cls, "in-process")
