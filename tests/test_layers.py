"""The code reads top-down: no import cycles, and nothing below an entry point imports it.

Every import counts, also those inside functions (a lazy import is still a dependency); only
imports under `if TYPE_CHECKING:` are left out, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"alpaca_index": ROOT / "index" / "alpaca_index", "alpaca_server": ROOT / "server" / "alpaca_server"}
# what a user or a client starts: commands, the MCP server, the language server
ENTRY_POINTS = {"alpaca_index.cli", "alpaca_index.answer.cli", "alpaca_index.models.cli", "alpaca_index.mcp_server",
                "alpaca_server.cli", "alpaca_server.__main__"}


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for file in folder.rglob("*.py"):
            parts = [package, *file.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = file
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, file: Path, modules: dict[str, Path]) -> set[str]:
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                targets.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - child.level + 1] + ([base] if base else []))
                for alias in child.names:  # `from pkg import module` depends on the module, not on pkg
                    targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
            visit(child)

    visit(ast.parse(file.read_text(encoding="utf-8")))
    resolved = set()
    for target in targets:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, file, modules) for name, file in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_the_graph_is_read():
    graph = _graph()
    assert "alpaca_index.api" in graph["alpaca_index.opening"]
    assert "alpaca_index.opening" in graph["alpaca_server.engine"]  # a lazy import counts


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_nothing_imports_an_entry_point():
    graph = _graph()
    wrong = {name: sorted(deps & ENTRY_POINTS) for name, deps in graph.items()
             if name not in ENTRY_POINTS and deps & ENTRY_POINTS}
    assert wrong == {}


def test_the_index_library_never_imports_the_server():
    graph = _graph()
    assert {name for name, deps in graph.items()
            if name.startswith("alpaca_index") and any(d.startswith("alpaca_server") for d in deps)} == set()
