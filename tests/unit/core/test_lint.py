"""The guard rails run with the suite: ruff (pyflakes, import sorting, bugbear) and mypy over the whole tree,
strict for the domain, the services, the sync transport and persistence (pyproject.toml says which flags)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TREE = ["desktop", "reports", "tests", "main.py", "installer"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_finds_nothing() -> None:
    out = _run("ruff", "check", "--no-cache", *TREE)
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]


@pytest.mark.slow
def test_mypy_finds_nothing() -> None:
    out = _run("mypy", "desktop", "reports", "main.py")
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
