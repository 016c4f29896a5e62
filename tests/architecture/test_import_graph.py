"""The import graph of the ``compiler`` package has no cycle.

The graph is read from the source (the AST of every module), so it includes imports inside functions
(the lazy ones) and relative imports, which a run-time check of ``sys.modules`` would miss. Which stage may import
which (``argo/`` sees only the IR, ``run/`` never the emitter, ...) is written as import-linter contracts in
``pyproject.toml`` and checked, indirect imports included, by ``lint-imports`` in CI.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "compiler"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(name: str) -> str | None:
    """The compiler module that ``name`` refers to (a submodule, or the package that defines the name)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    # Imports under `if TYPE_CHECKING:` exist only for the type checker: they never run, so they are no edge.
    type_only = {
        id(inner)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
        for stmt in block.body
        for inner in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from compiler import argo` imports the submodule compiler.argo; `from .x import f` imports .x
            names = [f"{origin}.{alias.name}" for alias in node.names] + [origin]
        else:
            continue
        for name in names:
            target = resolve(name)
            if target and target != module:
                found.add(target)
    # A module's enclosing packages are initialised before it, whatever it imports: not an edge.
    return {m for m in found if not module.startswith(m + ".")}


GRAPH = {module: imports_of(module) for module in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph[node]):
            if colour[nxt] == GREY:
                return [*stack[stack.index(nxt) :], nxt]
            if colour[nxt] == WHITE and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(graph):
        if colour[node] == WHITE and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_is_read():
    # The reader sees what we know is there: absolute, relative and function-level imports.
    assert "compiler.pipeline" in MODULES and "compiler.argo.emit" in MODULES
    assert "compiler.diagnostics" in GRAPH["compiler.pipeline"] or any(
        m.startswith("compiler.diagnostics") for m in GRAPH["compiler.pipeline"]
    )
    assert any(m.startswith("compiler.argo") for m in GRAPH["compiler.pipeline"])


def test_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle():
    assert find_cycle(GRAPH) is None
