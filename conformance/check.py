"""A check as data: the flags of a ``bpcert check`` run, and running one from them.

``bpcert certify``, ``bpcert verify`` and ``bpcert check --rerun-failed`` all run a check
that is not typed on their command line (it comes from a manifest or from a report's
replay line); :class:`CheckRequest` holds what such a run needs, and :func:`run_check`
runs it as ``bpcert check`` would.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from conformance.runner import DEFAULT_SCENARIOS, resolve_plugin, run
from conformance.usage import UsageError, read_properties
from reports.model import RunReport
from simulator.bridge.loader import Isolation, LoadedPlugin

__all__ = ["CheckRequest", "run_check"]


@dataclass(frozen=True)
class CheckRequest:
    """Every flag of a ``bpcert check`` that changes its outcome."""

    plugin: str
    isolation: Isolation = "in-process"
    properties_file: str | None = None
    call_timeout_s: float = 10.0
    seed: int | None = None
    examples: int = 10
    #: ``None``: the default set (:data:`conformance.runner.DEFAULT_SCENARIOS`).
    scenarios: tuple[str, ...] | None = None
    rules: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    profile: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace, plugin: LoadedPlugin) -> CheckRequest:
        """The request of a ``check`` or ``certify`` command line, ``plugin`` loaded from it.

        Raises :class:`UsageError` for a negative ``--examples``.
        """
        if args.examples < 0:
            raise UsageError(f"--examples must be 0 or more, got {args.examples}")
        return cls(
            plugin=plugin.spec,
            isolation=plugin.isolation,
            properties_file=args.properties,
            call_timeout_s=args.call_timeout,
            seed=args.seed,
            examples=args.examples,
            scenarios=tuple(args.scenario) or None,
            rules=tuple(getattr(args, "rules", ())),
            skip=tuple(getattr(args, "skip", ())),
            profile=getattr(args, "profile", None),
        )


def run_check(
    request: CheckRequest,
    *,
    out: Path,
    plugin: LoadedPlugin | None = None,
    progress: Callable[[str, float, float], None] | None = None,
    max_wall_s: float | None = None,
) -> RunReport:
    """Run the check ``request`` describes into ``out`` (the caller writes the report files).

    ``plugin`` is the plugin already loaded from ``request.plugin``, if it is;
    ``max_wall_s`` bounds the run (``--max-wall``, see :func:`conformance.runner.run`).
    """
    from conformance.properties.stateful import property_sinks

    loaded = plugin or resolve_plugin(
        request.plugin, isolation=request.isolation, call_timeout_s=request.call_timeout_s
    )
    return run(
        loaded,
        scenarios=list(DEFAULT_SCENARIOS if request.scenarios is None else request.scenarios),
        rules=request.rules,
        skip=request.skip,
        examples=request.examples,
        seed=request.seed,
        out=out,
        properties=read_properties(request.properties_file),
        properties_file=request.properties_file,
        call_timeout_s=request.call_timeout_s,
        kind="check",
        progress=progress,
        max_wall_s=max_wall_s,
        extra_sinks=lambda p, seed: property_sinks(
            p,
            request.examples,
            seed,
            out,
            call_timeout_s=request.call_timeout_s,
            profile=request.profile,
        ),
        profile=request.profile,
    )
