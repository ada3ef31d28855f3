"""Where the application context is put together: the one place that chooses the implementations the
services work with (today the document renderer), used by the command line, the GUI, the demo, the
tests and the benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.services.core.context import AppContext, utcnow
from reports.renderer import ReportLabRenderer


def make_app_context(db: Database, paths: AppPaths, clock: Callable[[], datetime] | None = None) -> AppContext:
    """The application context over `db` and `paths`, printing with ReportLab (loaded when the first
    document is printed, not here)."""
    return AppContext(db=db, paths=paths, clock=clock or utcnow, renderer=ReportLabRenderer())
