"""The import graph keeps its shape: layers point one way, and nothing imports in a circle.

The graph is read from the source with :mod:`ast`, never by importing it, so that a test
plugin or an import with side effects cannot hide an edge.

What counts:

- **Layers** and the **order of units** inside ``simulator`` and ``conformance``: every
  import, at module level or inside a function (a lazy import is still a dependency).
- **Package-level cycles** (between units: a subpackage, or a top-level module): every
  import too.
- **Module-level cycles**: only the imports that run when the module is imported, i.e. not
  inside a function. A lazy import is how a module breaks a load-time circle, and Python
  allows it.
- ``if TYPE_CHECKING:`` imports never run. They count for the layers, the order and the
  package graph (naming a type of a higher layer still couples the two), but not for
  module-level cycles: a type-only import of the module that imports you is the standard
  way to annotate with its class.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("simulator", "conformance", "reports")
MODULES = (
    "simulator",
    "simulator.contract",
    "simulator.clock",
    "simulator.backend.schedule",
    "simulator.backend.fleet",
    "simulator.backend.backup_system",
    "simulator.reference",
)
FORBIDDEN = ("pytest", "_pytest", "hypothesis", "matplotlib")

#: The front doors of the harness: nothing else in the repository imports them.
FRONT_DOORS = frozenset({"conformance.cli", "conformance.pytest_plugin", "conformance.__main__"})

#: Units of ``simulator`` (a subpackage or a top-level module), lowest tier first. A unit
#: imports only units of lower tiers: the contract knows nothing else, the shared pieces
#: nothing of each other, the backend and the scenario format only the shared pieces, and
#: the world wires them all.
SIMULATOR_TIERS: tuple[frozenset[str], ...] = (
    frozenset({"simulator"}),
    frozenset({"contract"}),
    frozenset({"clock", "faults", "calendar_queue", "trace", "metrics", "profiles", "interrupts"}),
    frozenset({"backend", "scenario"}),
    frozenset({"reference", "bridge"}),
    frozenset({"platform"}),
    frozenset({"world"}),
)

#: Units of ``conformance``, likewise. The package's own ``__init__`` (``conformance``) is
#: its library face: it re-exports the runner and the rules.
CONFORMANCE_TIERS: tuple[frozenset[str], ...] = (
    frozenset({"supervisor"}),
    frozenset({"exit_codes", "usage", "findings", "summary", "replay", "progress"}),
    frozenset({"run_dir"}),
    frozenset({"rules", "plugin_properties", "bundle", "guidelines"}),
    frozenset({"selection", "fits_interval"}),
    frozenset({"runner"}),
    frozenset({"conformance", "properties", "load", "selftest"}),
    frozenset({"check"}),
    frozenset({"certify", "rerun"}),
    frozenset({"cli", "pytest_plugin"}),
    frozenset({"__main__"}),
)


@dataclass(frozen=True)
class Edge:
    """One import: ``source`` imports ``target`` at ``path:line``."""

    source: str
    target: str
    path: str
    line: int
    lazy: bool  # inside a function
    type_only: bool  # under ``if TYPE_CHECKING:``

    def where(self) -> str:
        """``path:line``, relative to the repository."""
        return f"{self.path}:{self.line}"


def _module_files(root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


#: An import statement, whether it is inside a function, whether under TYPE_CHECKING.
_Found = tuple[ast.Import | ast.ImportFrom, bool, bool]


def _imports(tree: ast.Module) -> Iterator[_Found]:
    """Every import statement of ``tree``, with where it sits."""

    def visit(node: ast.AST, lazy: bool, type_only: bool) -> Iterator[_Found]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, lazy, type_only
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from visit(child, True, type_only)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    yield from visit(ast.Module(body=[stmt], type_ignores=[]), lazy, True)
                for stmt in child.orelse:
                    yield from visit(ast.Module(body=[stmt], type_ignores=[]), lazy, type_only)
            else:
                yield from visit(child, lazy, type_only)

    yield from visit(tree, False, False)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def import_graph(root: Path = ROOT) -> list[Edge]:
    """Every import between modules of :data:`PACKAGES` under ``root``."""
    files = _module_files(root)
    edges: list[Edge] = []
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        rel = str(path.relative_to(root))
        for node, lazy, type_only in _imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(module, path.name == "__init__.py", node)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in files else base)
            for target in targets:
                # `import a.b.c` names a module; keep the longest prefix that is one.
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    edges.append(Edge(module, target, rel, node.lineno, lazy, type_only))
    return edges


# ----------------------------------------------------------------------- checks


def _layer(module: str) -> int:
    if module in FRONT_DOORS:
        return 3
    return {"conformance": 2, "reports": 1, "simulator": 0}[module.split(".")[0]]


_LAYER_NAMES = ("simulator", "reports", "conformance", "a front door")


def upward_imports(edges: list[Edge]) -> list[str]:
    """Imports against the layers: front doors -> conformance -> reports -> simulator."""
    return [
        f"{e.where()}: {e.source} ({_LAYER_NAMES[_layer(e.source)]}) imports {e.target} "
        f"({_LAYER_NAMES[_layer(e.target)]}), a higher layer; layers import downward only: "
        "front doors -> conformance -> reports -> simulator"
        for e in edges
        if _layer(e.target) > _layer(e.source)
    ]


def _unit(module: str) -> str:
    """The unit of a module: its subpackage or top-level module (``simulator.backend``)."""
    return ".".join(module.split(".")[:2])


def _tier(package: str, tiers: tuple[frozenset[str], ...], unit: str) -> int:
    name = unit.split(".")[1] if "." in unit else unit
    for i, tier in enumerate(tiers):
        if name in tier:
            return i
    raise AssertionError(
        f"{unit} is in no tier of the {package} order; add it to the tiers in "
        f"tests/test_import_layers.py where it belongs"
    )


def out_of_order_imports(edges: list[Edge]) -> list[str]:
    """Imports between units of one package that do not go to a lower tier."""
    out: list[str] = []
    for package, tiers in (("simulator", SIMULATOR_TIERS), ("conformance", CONFORMANCE_TIERS)):
        for e in edges:
            a, b = _unit(e.source), _unit(e.target)
            if a == b or not (a.startswith(package) and b.startswith(package)):
                continue
            ta, tb = _tier(package, tiers, a), _tier(package, tiers, b)
            if tb >= ta:
                how = "in the same tier as" if ta == tb else "in a higher tier than"
                out.append(
                    f"{e.where()}: {e.source} imports {e.target}: {b} is {how} {a} in the "
                    f"{package} order (tier {tb}, {a} is in tier {ta}); a unit imports only "
                    "units of lower tiers (SIMULATOR_TIERS, CONFORMANCE_TIERS)"
                )
    return out


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as [a, b, ..., a], or ``None``; the smallest node first."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def _cycle(edges: list[Edge], node: Callable[[str], str]) -> str | None:
    """A cycle of the graph whose nodes are ``node(module)``, with the imports that make it."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        a, b = node(e.source), node(e.target)
        if a != b:
            graph.setdefault(a, set()).add(b)
    cycle = find_cycle(graph)
    if cycle is None:
        return None
    steps = [
        next(e for e in edges if node(e.source) == a and node(e.target) == b)
        for a, b in itertools.pairwise(cycle)
    ]
    lines = [f"  {e.where()}: {e.source} imports {e.target}" for e in steps]
    return " -> ".join(cycle) + "\n" + "\n".join(lines)


def module_cycle(edges: list[Edge]) -> str | None:
    """A cycle among the imports that run at import time, described, or ``None``."""
    return _cycle([e for e in edges if not e.lazy and not e.type_only], lambda m: m)


def package_cycle(edges: list[Edge]) -> str | None:
    """A cycle between units (every import counts), described, or ``None``."""
    return _cycle(edges, _unit)


# ------------------------------------------------------------------------ tests


def test_layers_import_downward_only() -> None:
    offenders = upward_imports(import_graph())
    assert offenders == [], "upward imports:\n" + "\n".join(offenders)


def test_units_of_simulator_and_conformance_import_lower_tiers_only() -> None:
    offenders = out_of_order_imports(import_graph())
    assert offenders == [], "imports against the order of units:\n" + "\n".join(offenders)


def test_no_import_cycle_between_modules() -> None:
    cycle = module_cycle(import_graph())
    assert cycle is None, f"import cycle at module level:\n{cycle}"


def test_no_import_cycle_between_packages() -> None:
    cycle = package_cycle(import_graph())
    assert cycle is None, f"import cycle between packages:\n{cycle}"


def test_the_graph_sees_lazy_and_type_only_imports(tmp_path: Path) -> None:
    # The checks are only as good as the graph: a lazy import and a TYPE_CHECKING import
    # must both be edges, marked as such.
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "simulator" / "low.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from simulator.high import Thing\n"
        "def later():\n    from reports import x\n"
    )
    (tmp_path / "simulator" / "high.py").write_text("from simulator import low\n")
    edges = {(e.source, e.target, e.lazy, e.type_only) for e in import_graph(tmp_path)}
    assert ("simulator.low", "simulator.high", False, True) in edges
    assert ("simulator.low", "reports", True, False) in edges
    assert ("simulator.high", "simulator.low", False, False) in edges
    assert module_cycle(import_graph(tmp_path)) is None  # the type-only edge does not run
    assert package_cycle(import_graph(tmp_path)) is not None  # high <-> low as units
    assert upward_imports(import_graph(tmp_path)) != []  # simulator -> reports


def test_importing_the_simulator_loads_no_test_or_plotting_tool() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    offenders = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN)
    assert offenders == [], f"importing the simulator loaded {offenders}"
