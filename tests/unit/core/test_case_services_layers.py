"""The case services stay layered (imports inside functions count): the daily run is an orchestrator
nothing in the services imports, and the one-case schedule sits below the case steps that call it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ROOT / "desktop" / "services"


def _imports(path: Path) -> set[str]:
    """Every module a file names in an import statement, wherever the statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_nothing_in_the_services_imports_the_daily_run() -> None:
    offenders = [_module(p) for p in SERVICES.rglob("*.py")
                 if p.name != "daily_run.py" and any(n.startswith("desktop.services.daily_run") for n in _imports(p))]
    assert offenders == []


def test_the_case_schedule_calls_nothing_above_it() -> None:
    above = ("desktop.services.cases.steps", "desktop.services.cases.escalation", "desktop.services.cases.queries",
             "desktop.services.cases.owners", "desktop.services.payments", "desktop.services.appeals")
    names = _imports(SERVICES / "cases" / "schedule.py")
    assert sorted(n for n in names if n.startswith(above)) == []
