"""A user's ``--properties`` file the plugin cannot start with is a usage error.

Without ``--properties`` the plugin runs with its own example properties, which it
publishes as complete; a refusal then is the plugin's fault, and a finding. With
``--properties FILE`` the file is the user's: a required key it lacks, or a value the
plugin refuses, is a mistake on the command line, reported with exit code 4, naming the
file and the keys, before any rule is judged on a plugin that never started.

Two moments catch it:

- before the run, a plugin that declares ``required_properties`` (as
  :class:`simulator.contract.BackupPluginBase` subclasses do) is held to that list;
- after the first scenario that hands the plugin the file as it is, a
  ``validate_configuration`` that raised ``ConfigurationError`` refuses the file, whatever
  the bridge (exec:, isolated, in-process), and the message quotes the plugin.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from conformance.findings import Sink
from conformance.usage import UsageError
from simulator.bridge.loader import LoadedPlugin
from simulator.scenario import Scenario

__all__ = ["hands_the_file_as_is", "refuse_file_the_plugin_refused", "refuse_incomplete_file"]

#: The rule whose findings say that validate_configuration failed on the file as given.
_VALIDATE_RULE = "startup.validate-passes-with-complete-properties"


def _lacking(keys: object, properties: Mapping[str, str]) -> list[str]:
    if not isinstance(keys, tuple | list | frozenset | set | Mapping):
        return []
    return sorted(str(k) for k in keys if not str(properties.get(str(k), "")).strip())


def refuse_incomplete_file(
    plugin: LoadedPlugin, path: str | Path, properties: Mapping[str, str]
) -> None:
    """Raise :class:`UsageError` if the file lacks a key the plugin declares required."""
    missing = _lacking(getattr(plugin.plugin_class, "required_properties", ()), properties)
    if missing:
        raise UsageError(
            f"--properties {path}: the plugin {plugin.spec} requires "
            f"{', '.join(missing)}, which the file lacks or leaves blank; add "
            f"{' and '.join(f'{k}=...' for k in missing)} (without --properties the plugin "
            "runs with its own example properties)"
        )


def hands_the_file_as_is(scenario: Scenario) -> bool:
    """True when ``scenario`` gives the plugin the ``--properties`` file unchanged."""
    spec = scenario.platform.properties
    return spec.mode == "default" and not spec.set and not spec.unset


def refuse_file_the_plugin_refused(
    plugin: LoadedPlugin, path: str | Path, properties: Mapping[str, str], sink: Sink
) -> None:
    """Raise :class:`UsageError` if ``validate_configuration`` refused the file in ``sink``'s run.

    Only a ``ConfigurationError`` counts: any other failure of the plugin stays a finding.
    """
    for finding in sink.findings.get(_VALIDATE_RULE, ()):
        for call in finding.evidence:
            if call.get("op") == "validateConfiguration" and call.get("error_code") == (
                "CONFIGURATION"
            ):
                example = getattr(plugin.plugin_class, "example_properties", None) or {}
                missing = _lacking(tuple(example), properties)
                lacks = (
                    f"; compared with the plugin's example properties it lacks {', '.join(missing)}"
                    if missing
                    else ""
                )
                raise UsageError(
                    f"--properties {path}: the plugin {plugin.spec} refuses this properties "
                    f"file: {call.get('detail')}{lacks} (without --properties the plugin runs "
                    "with its own example properties)"
                )
