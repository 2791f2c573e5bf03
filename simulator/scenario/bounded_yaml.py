"""YAML for untrusted scenario files: bounded in size, depth, nodes and aliases.

A scenario file may come from anyone, so loading it must end quickly and in little memory,
whatever it holds. Before any YAML is composed, :func:`check_text` refuses:

- a document over :data:`MAX_DOCUMENT_BYTES`;
- binary content: a NUL byte, another control character (tab, line feed and carriage
  return are text), or the magic number of an archive or an executable;
- nesting deeper than :data:`MAX_DEPTH`, more than :data:`MAX_NODES` nodes, or more than
  :data:`MAX_ALIASES` aliases. These are counted on the parser's events, which never
  recurse, so that 100,000 opening brackets cost a scan and no stack;
- a number literal longer than :data:`MAX_INTEGER_DIGITS` characters, in any of YAML
  1.1's forms (decimal, hexadecimal, octal, binary, base 60).

Each pass of the loader costs a few microseconds a node, so the bounds keep the worst
document a file may hold (``tests/test_scenario_fuzz.py`` loads them) well within a
second.

After composing, :func:`check_expansion` refuses a document whose aliases would expand it
past :data:`MAX_EXPANDED_NODES` nodes ("billion laughs": ten aliases of ten aliases ...
are a few lines that expand to billions of values) or that refers to itself.

Every refusal is a :class:`YamlLimitError` with the 1-based line and column of the
offending place; the loader turns it into a :class:`~simulator.scenario.errors.ScenarioError`.
libyaml parses and composes when PyYAML has it (100 times faster than the pure-Python
parser, with the same nodes and marks); the pure-Python parser is the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import yaml

from simulator.scenario.errors import dotted_path

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_EXPANDED_NODES",
    "MAX_INTEGER_DIGITS",
    "MAX_NODES",
    "ScenarioYamlLoader",
    "YamlLimitError",
    "check_bytes",
    "check_expansion",
    "check_text",
]

#: The largest scenario document, in bytes of UTF-8 (the built-ins are a few kB).
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
#: The deepest nesting of mappings and sequences (the scenario format needs 6).
MAX_DEPTH = 50
#: How many nodes (scalars, mappings, sequences) a document may hold as written. The
#: largest built-in holds under 300; every node costs a few microseconds in each pass of
#: the loader (scan, compose, checks, construct), and this keeps the worst document far
#: below a second.
MAX_NODES = 20_000
#: How many aliases (``*name``) a document may use.
MAX_ALIASES = 1_000
#: How many nodes a document may hold once every alias is expanded.
MAX_EXPANDED_NODES = 1_000_000
#: The longest number literal, in characters after its sign: decimal, hexadecimal, octal, binary and
#: YAML 1.1's base 60 (``1:30:00``). PyYAML computes a base-60 or hexadecimal one in
#: Python, without the 4,300-digit limit of ``int(str)``, so a long one is a huge int
#: (or a float overflow) that no message can even print.
MAX_INTEGER_DIGITS = 100
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})
_RESOLVER = yaml.resolver.Resolver()

#: Leading bytes of files that are no text: zip (also jar, docx), gzip, ELF, PE, PDF, PNG.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
)
#: Control characters no scenario contains (tab, line feed and carriage return are text).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")

try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class ScenarioYamlLoader(_SafeLoader):
    """The safe loader scenarios are read with: libyaml's when PyYAML has it."""


class YamlLimitError(ValueError):
    """A document refused before or after composing; ``line``/``column`` are 1-based."""

    def __init__(
        self, message: str, line: int | None = None, column: int | None = None, field: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.field = field


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def check_bytes(data: bytes) -> None:
    """Refuse a document by its raw bytes: its size, and archive or executable magic."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise YamlLimitError(
            f"the scenario is over {MAX_DOCUMENT_BYTES:,} bytes, the most a scenario file holds"
        )
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise YamlLimitError(
                f"this is {what}, not a YAML scenario (binary content is refused)", 1, 1
            )


def check_text(text: str) -> None:
    """Refuse a document before composing it (see the module docstring)."""
    if len(text) > MAX_DOCUMENT_BYTES:  # a character is at least a byte
        raise YamlLimitError(
            f"the scenario is over {MAX_DOCUMENT_BYTES:,} bytes, the most a scenario file holds"
        )
    check_bytes(text[:8].encode("utf-8", errors="replace"))
    bad = _CONTROL.search(text)
    if bad is not None:
        line, column = _position(text, bad.start())
        raise YamlLimitError(
            f"control character {ord(bad.group()):#04x} in the text; a scenario is "
            "plain text (binary content is refused)",
            line,
            column,
        )
    _check_events(text)


class _Frame:
    """An open mapping or sequence of the event scan, and where in it the scan is."""

    __slots__ = ("at", "expect_key", "is_mapping")

    def __init__(self, is_mapping: bool) -> None:
        self.is_mapping = is_mapping
        self.expect_key = is_mapping
        self.at: str | int = "?" if is_mapping else 0


def _check_events(text: str) -> None:
    """Count depth, values and aliases on the parser's events, with the path to each."""
    stack: list[_Frame] = []
    roles: list[bool] = []  # per open collection: whether it is a mapping key
    nodes = aliases = 0

    def path() -> str:
        return dotted_path(tuple(f.at for f in stack))

    def start() -> bool:
        """A node begins: whether it is a key of the mapping it is in."""
        parent = stack[-1] if stack else None
        return parent is not None and parent.expect_key

    def done(was_key: bool) -> None:
        parent = stack[-1] if stack else None
        if parent is None:
            return
        if parent.is_mapping:
            parent.expect_key = not was_key
        else:
            parent.at = int(parent.at) + 1

    for event in yaml.parse(text, Loader=ScenarioYamlLoader):
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise _at(event, f"more than {MAX_NODES:,} values", path())
        if isinstance(event, yaml.CollectionStartEvent):
            roles.append(start())
            if len(stack) >= MAX_DEPTH:
                raise _at(event, f"nesting deeper than {MAX_DEPTH} levels", path())
            stack.append(_Frame(isinstance(event, yaml.MappingStartEvent)))
        elif isinstance(event, yaml.CollectionEndEvent):
            stack.pop()
            done(roles.pop())
        elif isinstance(event, yaml.ScalarEvent):
            is_key = start()
            if is_key:
                stack[-1].at = event.value if len(event.value) <= 80 else "?"
            elif not event.style and len(event.value) > MAX_INTEGER_DIGITS:
                _refuse_long_number(event, path)
            done(is_key)
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _at(event, f"more than {MAX_ALIASES:,} aliases", path())
            done(start())


def _refuse_long_number(event: yaml.ScalarEvent, path: Callable[[], str]) -> None:
    """Refuse a plain scalar that YAML reads as a number written in too many characters."""
    value = event.value
    length = len(value.lstrip("+-"))
    if length <= MAX_INTEGER_DIGITS:
        return
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    if tag not in _NUMBER_TAGS:
        return
    what = "an integer" if tag.endswith(":int") else "a number"
    raise _at(
        event,
        f"{what} written in {length:,} characters; a number in a scenario has at most "
        f"{MAX_INTEGER_DIGITS}",
        path(),
    )


def _at(event: yaml.Event | yaml.Node, what: str, field: str = "") -> YamlLimitError:
    mark = event.start_mark
    return YamlLimitError(
        f"the scenario has {what}; a scenario file is refused past that bound",
        None if mark is None else mark.line + 1,
        None if mark is None else mark.column + 1,
        field,
    )


#: A path down the node tree as a chain of ``(parent chain, part)`` pairs: a step costs
#: one tuple, however deep, and the dotted path is spelt out only for a message.
_Chain = tuple["_Chain", str | int] | None


def _spelt(chain: _Chain) -> str:
    parts: list[str | int] = []
    while chain is not None:
        chain, part = chain
        parts.append(part)
    return dotted_path(tuple(reversed(parts)))


def check_expansion(root: yaml.Node) -> None:
    """Refuse a composed document whose aliases expand it too far or too deep, or loop.

    Each node is measured once (an alias reuses its anchor's measure), so the cost is
    that of the document as written; a scalar costs one count.
    """
    measured: dict[int, tuple[int, int]] = {}  # collection id -> (expanded size, depth)
    open_nodes: set[int] = set()
    scalar = yaml.ScalarNode
    mapping = yaml.MappingNode

    def measure(node: yaml.Node, chain: _Chain) -> tuple[int, int]:
        # An anchor comes before its aliases and is measured there first, so this
        # recursion follows the document as written: at most MAX_DEPTH deep.
        key = id(node)
        known = measured.get(key)
        if known is not None:
            return known
        if key in open_nodes:
            raise _at(node, "an alias that refers to the node it is in", _spelt(chain))
        open_nodes.add(key)
        size, depth = 1, 0
        if type(node) is mapping:
            pairs = node.value
            children: Iterable[tuple[str | int, yaml.Node]] = (
                (_key_name(k), part) for k, v in pairs for part in (k, v)
            )
        else:
            children = enumerate(node.value)
        for part, child in children:
            if type(child) is scalar:
                size += 1
                continue
            child_size, child_depth = measure(child, (chain, part))
            size += child_size
            if child_depth > depth:
                depth = child_depth
            if size > MAX_EXPANDED_NODES:
                raise _at(
                    node,
                    f"aliases that expand it past {MAX_EXPANDED_NODES:,} values",
                    _spelt(chain),
                )
        depth += 1
        if depth > MAX_DEPTH:
            raise _at(node, f"aliases that nest it deeper than {MAX_DEPTH} levels", _spelt(chain))
        open_nodes.discard(key)
        measured[key] = (size, depth)
        return size, depth

    if type(root) is not scalar:
        measure(root, None)


def _key_name(key: yaml.Node) -> str:
    return str(key.value) if isinstance(key, yaml.ScalarNode) and len(key.value) <= 80 else "?"
