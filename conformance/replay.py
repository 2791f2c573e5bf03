"""Replay lines: the exact command that runs a scenario, a rule or a whole check again.

A replay holds every flag that changed the outcome (the plugin, the profile, the
properties file, the isolation, the call timeout and the seed) and starts with the
program that launched this bpcert, so that it runs as printed from the directory it was
printed in:

- ``.venv/bin/bpcert`` (or the installed script's absolute path) when bpcert was started
  through its console script;
- ``.venv/bin/python -m conformance`` when it was started as ``python -m conformance``;
- the ``bpcert`` script beside the running interpreter when bpcert runs as a library
  (``conformance.run``, the pytest plugin), or ``python -m conformance`` if there is none.

Paths (the launcher, a scenario file, a properties file) are printed relative to the
working directory when they are under it, absolute otherwise. A flag left at its
default is left out, since it changed nothing.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from simulator.bridge.loader import Isolation, LoadedPlugin

__all__ = [
    "DEFAULT_CALL_TIMEOUT_S",
    "ReplayFlags",
    "check_replay",
    "display_path",
    "launcher",
    "run_replay",
    "scenario_word",
]

#: ``--call-timeout``'s default: a replay names the flag only when it differs.
DEFAULT_CALL_TIMEOUT_S = 10.0


def display_path(path: str | Path) -> str:
    """``path`` relative to the working directory when it is under it, else absolute.

    Symbolic links are kept (a virtual environment's ``python`` is one), so the printed
    path is the one that was used.
    """
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    try:
        relative = os.path.relpath(absolute, cwd)
    except ValueError:  # another drive on Windows
        return absolute
    if relative == os.curdir or relative.startswith(os.pardir):
        return absolute
    return relative


def launcher(argv0: str | None = None) -> list[str]:
    """The words that start bpcert again the way this process was started."""
    first = sys.argv[0] if argv0 is None else argv0
    name = Path(first).name
    if name in ("bpcert", "bpcert.exe") and os.path.isfile(first):
        return [display_path(first)]
    if first.endswith(os.path.join("conformance", "__main__.py")) or first == "-m":
        return [display_path(sys.executable), "-m", "conformance"]
    script = Path(sys.executable).parent / "bpcert"
    if script.is_file():
        return [display_path(script)]
    return [display_path(sys.executable), "-m", "conformance"]


@dataclass(frozen=True)
class ReplayFlags:
    """Every flag of a run that changes its outcome, besides the scenario and the seed."""

    plugin: str
    isolation: Isolation = "in-process"
    properties: str | None = None
    call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S
    profile: str | None = None
    #: Extra ``(flag, value)`` pairs a caller adds (a flag this module does not know yet).
    extra: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def of(
        cls,
        plugin: LoadedPlugin,
        *,
        properties: str | Path | None = None,
        call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S,
        profile: str | None = None,
    ) -> ReplayFlags:
        """The flags of a run of ``plugin`` (its spec and isolation as loaded)."""
        return cls(
            plugin=plugin.spec,
            isolation=plugin.isolation,
            properties=display_path(properties) if properties is not None else None,
            call_timeout_s=call_timeout_s,
            profile=profile,
        )

    def args(self) -> list[str]:
        """The flags as command-line words, defaults left out."""
        words = ["--plugin", self.plugin]
        if self.profile is not None:
            words += ["--profile", self.profile]
        if self.isolation == "process" and not self.plugin.startswith("exec:"):
            words += ["--isolation", "process"]
        if self.properties is not None:
            words += ["--properties", self.properties]
        if self.call_timeout_s != DEFAULT_CALL_TIMEOUT_S:
            words += ["--call-timeout", f"{self.call_timeout_s:g}"]
        for flag, value in self.extra:
            words += [flag, value]
        return words


def scenario_word(scenario: str | Path) -> str:
    """A built-in scenario's name as it is; a file's path as :func:`display_path` gives it."""
    text = str(scenario)
    if isinstance(scenario, Path) or text.endswith((".yaml", ".yml")) or os.sep in text:
        return display_path(text)
    return text


def run_replay(scenario: str | Path, flags: ReplayFlags, seed: int | None) -> str:
    """``bpcert run SCENARIO ...``: replays one scenario run (or one finding of it)."""
    words = [*launcher(), "run", scenario_word(scenario), *flags.args()]
    if seed is not None:
        words += ["--seed", str(seed)]
    return shlex.join(words)


def check_replay(
    flags: ReplayFlags,
    *,
    scenarios: Sequence[str | Path] | None,
    rules: Iterable[str] = (),
    skip: Iterable[str] = (),
    examples: int,
    seed: int | None,
) -> str:
    """``bpcert check ...``: replays a check (``scenarios`` ``None`` means the default set)."""
    words = [*launcher(), "check", *flags.args()]
    for scenario in scenarios or ():
        words += ["--scenario", scenario_word(scenario)]
    for glob in rules:
        words += ["--rules", glob]
    for glob in skip:
        words += ["--skip", glob]
    words += ["--examples", str(examples)]
    if seed is not None:
        words += ["--seed", str(seed)]
    return shlex.join(words)
