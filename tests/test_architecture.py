"""The layout keeps itself: lib is pure Python by feature, database code in store modules,
no import circle, files a newcomer can read (docs/architecture.md)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lib.settings import PROJECT_ROOT

LIB = PROJECT_ROOT / "lib"
MAX_LIB_LINES = 450
MAX_PAGE_LINES = 250


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # what it imports, dotted (a module, or a package's __init__)
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def lib_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(LIB.rglob("*.py"))}


def is_database_module(name: str) -> bool:
    """Database code lives in lib/store/ and in modules named store or *_store."""
    last = name.rsplit(".", 1)[-1]
    in_store = name == "lib.store" or name.startswith("lib.store.")
    return in_store or last == "store" or last.endswith("_store")


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import that runs (module level or inside functions), not `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (n for child in node.orelse for n in _imports_in(child))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    elif isinstance(node, ast.If) and _type_checking_only(node):
        return
    else:
        yield from _imports(node)


def imports_of(path: Path, known: dict[str, Path]) -> list[Import]:
    """What a file imports at run time: `from lib.x import y` names lib.x.y when that is a
    module, else lib.x (the module or the package's __init__)."""
    name = module_name(path)
    found = []
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [Import(name, alias.name, node.lineno) for alias in node.names]
        elif node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.append(Import(name, child if child in known else node.module, node.lineno))
    return found


def graph() -> dict[str, set[str]]:
    known = lib_modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for imp in imports_of(path, known):
            if imp.target in known:
                edges[name].add(imp.target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in edges[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_imports() -> None:
    # The checks below are only as good as the graph: it must see known edges.
    edges = graph()
    assert (
        "lib.store.db" in edges["lib.program.step_store"]
        or "lib.store.models" in (edges["lib.program.step_store"])
    )
    assert "lib.audit.engine" in edges["lib.program.report"]
    assert "lib.audit.engine" in edges["lib.audit"]  # a package's __init__ re-exports


def test_no_import_circle_in_lib() -> None:
    assert cycles(graph()) == []


def test_cycles_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_lib_never_imports_streamlit() -> None:
    known = lib_modules()
    offenders = [
        f"{imp.module} line {imp.line}"
        for path in known.values()
        for imp in imports_of(path, known)
        if imp.target.split(".")[0] == "streamlit"
    ]
    assert offenders == []


def test_pure_modules_import_no_database_code() -> None:
    known = lib_modules()
    offenders = [
        f"{imp.module} line {imp.line}: {imp.target}"
        for name, path in known.items()
        # A package's __init__ re-exports its API (store functions too); lib.cli opens
        # the units of work.
        if not is_database_module(name) and path.name != "__init__.py" and name != "lib.cli"
        for imp in imports_of(path, known)
        if imp.target.split(".")[0] == "sqlalchemy"
        or (imp.target.startswith("lib.") and is_database_module(imp.target))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("name", "database"),
    [
        ("lib.store.db", True),  # the shared database layer
        ("lib.meetings.store", True),  # a feature's database code
        ("lib.audit.finding_store", True),
        ("lib.audit.engine", False),  # pure
        ("lib.pricing", False),
        ("lib.storey", False),  # not a store by accident of spelling
    ],
)
def test_database_modules_by_name(name: str, database: bool) -> None:
    assert is_database_module(name) is database


def test_pages_leave_the_database_to_lib_and_ui() -> None:
    known = lib_modules()
    offenders = [
        f"{path.name} line {imp.line}: {imp.target}"
        for path in sorted((PROJECT_ROOT / "app_pages").glob("*.py"))
        for imp in imports_of(path, known)
        if imp.target.split(".")[0] == "sqlalchemy" or imp.target.startswith("lib.store")
    ]
    assert offenders == []


def test_lib_files_stay_readable() -> None:
    long = {
        str(path.relative_to(PROJECT_ROOT)): n
        for path in LIB.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LIB_LINES
    }
    assert long == {}


def test_pages_stay_thin() -> None:
    long = {
        path.name: n
        for path in (PROJECT_ROOT / "app_pages").glob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_PAGE_LINES
    }
    assert long == {}
