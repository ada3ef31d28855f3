"""The shape of the house: only desktop/ui imports PySide6; domain and services import neither Qt
nor ReportLab (STYLE.md, issue 2). Checked by importing every module in a clean interpreter."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _modules(package: str) -> list[str]:
    pkg = __import__(package, fromlist=["_"])
    return [package] + [f"{package}.{m.name}" for m in pkgutil.walk_packages(pkg.__path__, prefix="")]


@pytest.mark.parametrize("package", ["desktop.domain", "desktop.services", "desktop.persistence", "desktop.sync"])
def test_core_packages_import_no_gui_and_no_reportlab(package: str) -> None:
    modules = [m for m in _modules(package) if not m.endswith("__main__")]
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(json.loads(out.stdout))
    assert "PySide6" not in loaded, f"{package} pulls in PySide6"
    if package in ("desktop.domain", "desktop.services"):
        assert "reportlab" not in loaded, f"{package} pulls in ReportLab"


def test_domain_imports_no_sqlalchemy() -> None:
    modules = _modules("desktop.domain")
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "sqlalchemy" not in set(json.loads(out.stdout))
