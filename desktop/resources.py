"""One helper that finds the application's resources, in a checkout and in a bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource(*parts: str) -> Path:
    """The path of a file under resources/ (it may not exist: callers check)."""
    return resources_dir().joinpath(*parts)
