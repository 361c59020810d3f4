"""The repository's shape: the elmtex package has no import cycle (counting the imports inside
functions, which hide a cycle until the wrong module is imported first), and no Python file
reaches the package by editing sys.path (it is installed: pip install -e .)."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import elmtex

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "elmtex"


def package_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (packages as their name)."""
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _runtime_nodes(tree: ast.AST):
    """Every node of the tree except what stands under `if TYPE_CHECKING:` (imports for type
    annotations only, never executed)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules that importing `name` may import: every import statement at any
    depth (module level, in functions, under if; not under `if TYPE_CHECKING:`), each with its
    parent packages."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import mod` imports pkg.mod; `from mod import name` imports mod
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            parts = target.split(".")
            found.update(
                ".".join(parts[:i])
                for i in range(1, len(parts) + 1)
                if ".".join(parts[:i]) in modules
            )
    found.discard(name)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def python_files(root: Path = ROOT) -> list[Path]:
    """Every .py file of the repository, without virtual environments, hidden folders (.git,
    caches) and symlinked folders (models/)."""
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith((".", "venv"))
            and d not in ("__pycache__", "build")
            and not os.path.islink(os.path.join(folder, d))
        )
        out += [Path(folder) / f for f in sorted(files) if f.endswith(".py")]
    return out


def touches_sys_path(path: Path) -> list[int]:
    """Lines that use sys.path (reading or changing it), in the code or in code held in a
    string (what a test or script runs with python -c)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "path"
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        )
        or (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.search(r"\bsys\.path\b", node.value)
            and path.name != "test_repository.py"
        )
    ]  # whose messages name it


def test_the_package_has_no_import_cycle():
    modules = package_modules()
    assert len(modules) > 20, "the package's modules were not found"
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_check_sees_imports_inside_functions(tmp_path):
    pkg = tmp_path / PACKAGE
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from elmtex.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from elmtex import a\n    return a\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from elmtex.d import D\nelse:\n    import elmtex.b\n"
    )
    (pkg / "d.py").write_text("from elmtex import c\n")
    modules = package_modules(tmp_path)
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    assert graph["elmtex.b"] == {"elmtex", "elmtex.a"}
    assert graph["elmtex.c"] == {"elmtex", "elmtex.b"}  # not d: for type annotations only
    assert find_cycle(graph) == ["elmtex.a", "elmtex.b", "elmtex.a"]


def test_no_file_touches_sys_path():
    files = python_files()
    assert ROOT / "tests" / "test_repository.py" in files and len(files) > 50
    offenders = [
        f"{path.relative_to(ROOT)}:{line}" for path in files for line in touches_sys_path(path)
    ]
    assert not offenders, (
        "these files use sys.path; import the installed package instead "
        "(pip install -e .): " + ", ".join(offenders)
    )


def test_the_module_map_names_every_module():
    """elmtex/__init__.py's docstring lists the package's modules: none missing, none gone."""
    listed = set(re.findall(r"^\s+(\w+\.py)\s", elmtex.__doc__, re.M))
    files = {p.name for p in (ROOT / PACKAGE).glob("*.py")} - {"__init__.py"}
    assert listed == files, f"missing: {sorted(files - listed)}, gone: {sorted(listed - files)}"
    assert "synth/" in elmtex.__doc__
