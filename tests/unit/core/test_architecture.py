"""The shape of the house (STYLE.md, issue 13): every import of every module, read from its source.

The modules are parsed, not imported, so an import inside a function, under ``if TYPE_CHECKING`` or in a
branch that never runs is seen like any other. Each import is checked against the layer table below,
which README's "Layout" section shows as a picture; a module-level import loop, a loop between the
workflow packages of the services, or an import inside a function without its measured reason fails.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

#: What each package may import of ours. The first matching prefix (longest first) decides.
#: ``domain <- persistence, sync (transport) <- services <- reports.data``; the services use persistence
#: and the sync transport as their adapters, and reach ReportLab only through the printing port
#: (``desktop.services.core.printing``), implemented in ``reports`` and injected at start-up.
BASE = ("desktop.paths", "desktop.resources", "desktop.logs", "desktop.version", "desktop.secrets", "desktop")
LAYERS: dict[str, tuple[str, ...]] = {
    "desktop.domain": ("desktop.domain",),
    "desktop.persistence": ("desktop.domain", "desktop.persistence", *BASE),
    "desktop.sync": ("desktop.domain", "desktop.sync"),
    "reports": ("desktop.domain", "reports", "desktop.resources"),
    "desktop.services": ("desktop.domain", "desktop.persistence", "desktop.sync", "desktop.services", "reports.data",
                         *BASE),
    "desktop.demo": ("desktop.domain", "desktop.persistence", "desktop.sync", "desktop.services", "desktop.demo",
                     "desktop.bootstrap", "reports", *BASE),
    "desktop.bootstrap": ("desktop.domain", "desktop.persistence", "desktop.services", "reports", *BASE),
    "desktop.commands": ("desktop.domain", "desktop.persistence", "desktop.sync", "desktop.services", "desktop.demo",
                         "desktop.bootstrap", "desktop.commands", "reports", *BASE),
    "desktop.ui": ("desktop.domain", "desktop.persistence", "desktop.sync", "desktop.services", "desktop.demo",
                   "desktop.bootstrap", "desktop.ui", "reports", *BASE),
    # the entry point: parses arguments and hands over to a command or the GUI
    "desktop.cli": ("desktop.domain", "desktop.persistence", "desktop.services", "desktop.bootstrap",
                    "desktop.commands", "desktop.ui", *BASE),
    "desktop": BASE,  # desktop/__init__.py, paths, resources, logs: plain helpers every layer may use
}

#: Third-party packages that belong to one layer.
ONLY_IN = {
    "PySide6": ("desktop.ui",), "shiboken6": ("desktop.ui",), "qasync": ("desktop.ui",),
    # the demo also draws the PDF letters its fictional appellants send in (their documents, not ours)
    "reportlab": ("reports", "desktop.demo"),
}
NEVER_IN = {
    "sqlalchemy": ("desktop.domain", "desktop.sync", "reports"),
    "alembic": ("desktop.domain", "desktop.sync", "reports", "desktop.services"),
    "requests": ("desktop.domain", "desktop.persistence", "reports"),
}

#: An import inside a function is allowed only with its reason measured: a comment on its line or the
#: line above naming the start-up cost it saves (e.g. ``# lazy: folium costs 330 ms at start-up``), or one
#: comment near the top of the module that says so for all of its deferred imports.
FIGURE = re.compile(r"#.*\blazy\b.*\d+(\.\d+)?\s*(ms|s|MB)\b", re.IGNORECASE)
MODULE_REASON = re.compile(r"^# Deferred imports:.*\d+(\.\d+)?\s*(ms|s|MB)\b", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Import:
    module: str      # the importing module
    target: str      # what it names: a module, or module.attribute for ``from m import attribute``
    line: int
    top: bool        # at module level (also inside a module-level if/try), not inside a function or class


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@cache
def _sources() -> dict[str, Path]:
    files = [*ROOT.glob("desktop/**/*.py"), *ROOT.glob("reports/**/*.py")]
    return {_module_name(p): p for p in files if "__pycache__" not in p.parts}


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _imports(module: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.If | ast.Try):
            top.update(id(n) for n in ast.walk(node))
        top.add(id(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno, id(node) in top)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = _package_of(module, path).split(".")
                base = ".".join(pkg[: len(pkg) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                yield Import(module, f"{base}.{alias.name}", node.lineno, id(node) in top)


@cache
def _all_imports() -> tuple[Import, ...]:
    return tuple(i for m, p in _sources().items() for i in _imports(m, p))


def _ours(name: str) -> str | None:
    """The module of ours a dotted name refers to (longest existing prefix), or None for a third party."""
    sources = _sources()
    while name:
        if name in sources:
            return name
        name = name.rpartition(".")[0]
    return None


def _layer(module: str, table: dict[str, tuple[str, ...]]) -> str:
    for prefix in sorted(table, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    raise AssertionError(f"{module} is in no layer of the table")


def _allowed(target: str, prefixes: tuple[str, ...]) -> bool:
    return any(target == p or target.startswith(p + ".") for p in prefixes if p != "desktop") or (
        "desktop" in prefixes and target == "desktop")


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for imp in _all_imports():
        target = _ours(imp.target)
        if target and target != imp.module:
            edges[imp.module].add(target)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    nodes = set(edges) | {t for ts in edges.values() for t in ts}
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_every_module_is_in_a_layer() -> None:
    for module in _sources():
        _layer(module, LAYERS)


def test_imports_of_ours_follow_the_layer_table() -> None:
    wrong = []
    for imp in _all_imports():
        target = _ours(imp.target)
        if target is None or target == imp.module:
            continue
        layer = _layer(imp.module, LAYERS)
        if not _allowed(target, LAYERS[layer]):
            where = "" if imp.top else " (inside a function)"
            wrong.append(f"{imp.module}:{imp.line} imports {target}{where}: not allowed in {layer}")
    assert not wrong, "\n".join(wrong)


def test_third_party_packages_stay_in_their_layer() -> None:
    wrong = []
    for imp in _all_imports():
        top_level = imp.target.split(".")[0]
        if top_level in ONLY_IN and not _allowed(imp.module, ONLY_IN[top_level]):
            wrong.append(f"{imp.module}:{imp.line} imports {top_level}: only {ONLY_IN[top_level]} may")
        if top_level in NEVER_IN and _allowed(imp.module, NEVER_IN[top_level]):
            wrong.append(f"{imp.module}:{imp.line} imports {top_level}: never in {NEVER_IN[top_level]}")
    assert not wrong, "\n".join(wrong)


def test_no_import_loops_between_modules() -> None:
    assert _cycles(_edges()) == []


def _package_graph(root: str) -> dict[str, set[str]]:
    """The import graph of ``root``'s workflow packages (desktop.services.payments, ...)."""
    depth = root.count(".") + 2
    edges: dict[str, set[str]] = defaultdict(set)
    for module, targets in _edges().items():
        if not module.startswith(root + "."):
            continue
        src = ".".join(module.split(".")[:depth])
        for target in targets:
            if target.startswith(root + ".") and target.count(".") >= depth - 1:
                dst = ".".join(target.split(".")[:depth])
                if dst != src and dst in _sources() and src in _sources():
                    edges[src].add(dst)
    return edges


@pytest.mark.parametrize("root", ["desktop.services", "desktop.ui"])
def test_no_loops_between_workflow_packages(root: str) -> None:
    assert _cycles(_package_graph(root)) == []


def test_services_core_is_below_every_workflow() -> None:
    graph = _package_graph("desktop.services")
    assert graph.get("desktop.services.core", set()) == set()


def test_imports_inside_functions_state_their_measured_reason() -> None:
    sources = _sources()
    unexplained = []
    for imp in _all_imports():
        if imp.top:
            continue
        text = sources[imp.module].read_text(encoding="utf-8")
        if MODULE_REASON.search(text):
            continue
        lines = text.splitlines()
        here = lines[imp.line - 1]
        above = lines[imp.line - 2] if imp.line >= 2 else ""
        if not (FIGURE.search(here) or FIGURE.search(above)):
            unexplained.append(f"{imp.module}:{imp.line} imports {imp.target} inside a function")
    assert not unexplained, (f"{len(unexplained)} imports inside functions without a measured reason "
                             "(move them to the top, or comment '# lazy: <what> costs N ms at start-up'):\n"
                             + "\n".join(unexplained))


def test_the_parser_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The guard itself: an import hidden in a function body is found and placed correctly."""
    source = tmp_path / "probe.py"
    source.write_text("import os\n\ndef f():\n    from desktop.ui import app\n    return app\n")
    found = list(_imports("desktop.services.probe", source))
    assert Import("desktop.services.probe", "os", 1, True) in found
    assert Import("desktop.services.probe", "desktop.ui.app", 4, False) in found
    layer = _layer("desktop.services.probe", LAYERS)
    assert not _allowed("desktop.ui.app", LAYERS[layer])


def test_cycle_finder_finds_a_loop() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_only_the_gui_loads_qt_when_the_core_is_imported() -> None:
    """Belt and braces: import the core packages in a clean interpreter and look at what got loaded."""
    core = sorted(m for m in _sources() if m.startswith(("desktop.domain", "desktop.services", "desktop.sync",
                                                          "desktop.persistence")) and "migrations" not in m)
    code = ("import importlib, json, sys\n"
            f"for m in {core!r}:\n"
            "    importlib.import_module(m)\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(json.loads(out.stdout))
    assert "PySide6" not in loaded
    assert "reportlab" not in loaded


def test_a_module_over_600_lines_says_why_at_its_top() -> None:
    """A file that passes ~600 lines usually holds two things (STYLE.md): split it, or say why not."""
    unexplained = []
    for module, path in _sources().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > 600 and "migrations" not in module and not any(
                "Over 600 lines" in line for line in lines[:40]):
            unexplained.append(f"{module}: {len(lines)} lines")
    assert not unexplained, "\n".join(unexplained)
