"""Loading scenarios from YAML, and dumping them back.

Loading goes through :func:`load_scenario` (a path or a built-in name) or
:func:`load_scenario_text`. Every problem becomes a :class:`ScenarioError` that names
the file, the line and column, the dotted field path and what was expected, e.g.::

    scenarios/x.yaml:12:7: policies[0].configurations[1].time: time '25:00' does not
    match the DAILY format: expected 'HH:mm:ss Z', e.g. '23:30:00 +0000'

Positions come from the composed YAML nodes: a pydantic error's location is walked
down the node tree (:func:`_locate`).

:func:`dump_scenario` writes a scenario back as YAML that loads to an equal scenario;
the property-based suites use it to save a shrunk failure as a replayable file.

The built-in scenarios are the ``*.yaml`` files of the ``scenarios`` package
(:func:`builtin_scenarios`).
"""

from __future__ import annotations

import difflib
import importlib.resources
import os
import re
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, NoReturn, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from simulator.scenario.bounded_yaml import (
    MAX_DOCUMENT_BYTES,
    ScenarioYamlLoader,
    YamlLimitError,
    check_bytes,
    check_expansion,
    check_text,
)
from simulator.scenario.errors import (
    Loc,
    ScenarioError,
    ScenarioProblem,
    SpecProblems,
    brief,
    dotted_path,
    scenario_error,
)
from simulator.scenario.spec import Scenario
from simulator.scenario.spec_base import suggest

__all__ = ["builtin_scenarios", "dump_scenario", "load_scenario", "load_scenario_text"]

_MODEL_ERROR_TYPES = frozenset({"model_type", "model_attributes_type", "dict_type"})


#: pydantic's error types of a strict number or boolean that got something else.
_STRICT_TYPES = frozenset({"int_type", "float_type", "bool_type"})
_NUMERIC_TEXT = re.compile(r"[-+]?(?:\d[\d_]*)?\.?\d*(?:[eE][-+]?\d+)?")


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to ``X``."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin is Union or origin is types.UnionType:
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _descend(tp: Any, part: str | int) -> Any:
    """The type found under ``part`` of a value of type ``tp`` (None if unknown)."""
    tp = _unwrap(tp)
    origin = get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
        field = tp.model_fields.get(part)
        return field.annotation if field else None
    if origin is tuple and isinstance(part, int):
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
        return args[part] if part < len(args) else None
    if origin is dict and isinstance(part, str):
        return get_args(tp)[1]
    return None


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The scenario model class found at ``loc``, if a model is there."""
    tp: Any = Scenario
    for part in loc:
        tp = _descend(tp, part)
        if tp is None:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _locate(root: yaml.Node, loc: Loc, *, at_key: bool) -> yaml.Node:
    """The deepest node along ``loc``: the key node itself when ``at_key``."""
    node = root
    for i, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    if at_key and i == len(loc) - 1:
                        return key
                    node = value
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def _clean_loc(loc: Loc) -> Loc:
    # pydantic adds union and function tags such as 'function-before[...]'; they are
    # no key of the file.
    return tuple(p for p in loc if isinstance(p, int) or not ("[" in p or "(" in p))


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _problem_message(err: Mapping[str, Any], loc: Loc) -> tuple[Loc, str, bool]:
    """Turn one pydantic error into (loc, message, points-at-key)."""
    kind = err["type"]
    msg = str(err["msg"])
    value = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        model = _model_at(loc[:-1])
        allowed = list(model.model_fields) if model else []
        return (
            loc,
            f"unknown key {brief(key)}; {suggest(key[:80], allowed)}allowed keys: "
            f"{', '.join(allowed)}",
            True,
        )
    if kind == "missing":
        return loc, f"required key {str(loc[-1])!r} is missing", False
    if kind in _MODEL_ERROR_TYPES:
        model = _model_at(loc)
        keys = f" with keys {', '.join(model.model_fields)}" if model else ""
        return loc, f"expected a mapping{keys}, got {brief(value)}", False
    if kind == "timezone_aware":
        return (
            loc,
            f"expected a timezone-aware instant such as 2026-01-05T00:00:00Z, got {brief(value)}",
            False,
        )
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        # A model-level rule of a contract model names its field first ("time '25:00'
        # does not match", "days: ..."): point at that key.
        model = _model_at(loc)
        if model is not None:
            head = re.split(r"[ :]", msg, maxsplit=1)[0]
            if head in model.model_fields:
                loc = (*loc, head)
                msg = msg.removeprefix(f"{head}: ")
        return loc, msg, False
    if _scalar(value):
        msg = f"{msg}, got {brief(value)}"
        if kind in _STRICT_TYPES and isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value):
            msg += " (text, not a number: write numbers unquoted, floats with a dot: 1.0e+3)"
    return loc, msg, False


def _problems_from(exc: ValidationError, root: yaml.Node | None) -> list[ScenarioProblem]:
    raw: list[tuple[Loc, str, bool]] = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc(tuple(err["loc"]))
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, SpecProblems):
            raw.extend(((*loc, *sub), msg, cause.at_key) for sub, msg in cause.problems)
        else:
            raw.append(_problem_message(err, loc))
    out: list[ScenarioProblem] = []
    for loc, msg, at_key in raw:
        line = column = None
        if root is not None:
            node = _locate(root, loc, at_key=at_key)
            line, column = node.start_mark.line + 1, node.start_mark.column + 1
        out.append(ScenarioProblem(line, column, dotted_path(loc), msg))
    return sorted(out, key=lambda p: (p.line if p.line is not None else 1 << 30, p.column or 0))


def _walk(node: yaml.Node, path: Loc, seen: set[int]) -> Iterator[tuple[yaml.MappingNode, Loc]]:
    """Every mapping node under ``node`` with its path, each node once (aliases)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        yield node, path
        for key, value in node.value:
            part = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            yield from _walk(value, (*path, part), seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, (*path, i), seen)


def _duplicate_keys(root: yaml.Node) -> list[ScenarioProblem]:
    """PyYAML keeps the last of duplicate keys silently; a scenario must not."""
    out: list[ScenarioProblem] = []
    for mapping, path in _walk(root, (), set()):
        first: dict[str, int] = {}
        for key, _ in mapping.value:
            if not isinstance(key, yaml.ScalarNode) or key.value == "<<":
                continue
            mark = key.start_mark
            if key.value in first:
                out.append(
                    ScenarioProblem(
                        mark.line + 1,
                        mark.column + 1,
                        dotted_path((*path, str(key.value))),
                        f"duplicate key {brief(key.value)}; it was already given on line "
                        f"{first[key.value]}; keep one",
                    )
                )
            else:
                first[key.value] = mark.line + 1
    return out


def _raise(source: str, problems: list[ScenarioProblem]) -> NoReturn:
    raise scenario_error(source, problems)


def load_scenario_text(text: str, source: str = "<string>") -> Scenario:
    """Parse and validate a scenario from YAML ``text``.

    ``source`` names the text in error messages. Raises :class:`ScenarioError` for
    invalid YAML, a document that is not a mapping, duplicate keys and every
    validation problem (all of them, in file order).
    """
    try:
        check_text(text)
        loader = ScenarioYamlLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                raise ScenarioError(
                    source, "the scenario is empty; it needs at least name, duration and fleet"
                )
            check_expansion(root)
            duplicates = _duplicate_keys(root)
            if duplicates:
                _raise(source, duplicates)
            data = loader.construct_document(root)
        finally:
            loader.dispose()
    except YamlLimitError as exc:
        raise ScenarioError(
            source, exc.message, line=exc.line, column=exc.column, field=exc.field
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = "; ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise ScenarioError(
            source,
            f"invalid YAML: {detail}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, f"invalid YAML: {exc}") from None
    except (ValueError, ArithmeticError) as exc:  # e.g. a timestamp like 2026-13-45
        raise ScenarioError(source, f"invalid YAML value: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(
            source,
            f"a scenario is a mapping of keys (name, duration, fleet, ...), got "
            f"{type(data).__name__} {brief(data)}",
            line=root.start_mark.line + 1,
            column=root.start_mark.column + 1,
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        _raise(source, _problems_from(exc, root))


def builtin_scenarios() -> dict[str, Path]:
    """The built-in scenarios, name to file, sorted by name.

    They are the ``*.yaml`` files of the ``scenarios`` package, found through
    :mod:`importlib.resources` so that an installed wheel finds them too.
    """
    found: dict[str, Path] = {}
    for entry in importlib.resources.files("scenarios").iterdir():
        if entry.is_file() and entry.name.endswith(".yaml"):
            found[entry.name.removesuffix(".yaml")] = Path(str(entry))
    return dict(sorted(found.items()))


def _is_path(ref: str | Path) -> bool:
    if isinstance(ref, Path):
        return True
    return ref.endswith((".yaml", ".yml")) or "/" in ref or os.sep in ref


def _read_text(path: Path) -> str:
    """A scenario file's text: at most MAX_DOCUMENT_BYTES of it, no binary, UTF-8."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(str(path), f"cannot read the scenario file: {exc}") from None
    try:
        check_bytes(data)
        return data.decode("utf-8")
    except YamlLimitError as exc:
        raise ScenarioError(str(path), exc.message, line=exc.line, column=exc.column) from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError(
            str(path),
            f"the scenario is not UTF-8 text (byte {data[exc.start]:#04x}); binary content "
            "is refused",
            line=line,
            column=column,
        ) from None


def load_scenario(ref: str | Path) -> Scenario:
    """Load a scenario from a ``.yaml``/``.yml`` path or a built-in name (``"smoke"``).

    Raises :class:`ScenarioError` when the file is missing or unreadable, the name is no
    built-in (the message lists them and suggests close matches), or the scenario is
    invalid.
    """
    builtins = builtin_scenarios()
    names = list(builtins)
    listing = f"built-in scenarios: {', '.join(names)}"
    if _is_path(ref):
        path = Path(ref)
        if not path.is_file():
            what = "is a directory, not a file" if path.is_dir() else "does not exist"
            close = difflib.get_close_matches(path.stem, names, n=1, cutoff=0.6)
            hint = (
                f"did you mean the built-in {close[0]!r} (named without .yaml)? " if close else ""
            )
            raise ScenarioError(str(path), f"scenario file {what}; {hint}{listing}")
        return load_scenario_text(_read_text(path), str(path))
    name = str(ref)
    if name not in builtins:
        raise ScenarioError(
            name,
            f"unknown scenario {name!r}; {suggest(name, names)}{listing}; "
            "to load a file, give its path ending in .yaml",
        )
    path = builtins[name]
    return load_scenario_text(path.read_text(encoding="utf-8"), str(path))


def dump_scenario(scenario: Scenario, *, comment: str | None = None) -> str:
    """YAML for ``scenario`` that :func:`load_scenario_text` loads back to an equal one.

    Keys left at their defaults are omitted; durations are written in the duration
    syntax. ``comment`` (any number of lines) goes on top as ``#`` lines, e.g. how to
    replay a shrunk failure.
    """
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    if comment:
        header = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
        return header + body
    return body
