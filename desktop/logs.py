"""Logging: a rotating log file in the data folder, and the console for commands."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path


def setup_logging(log_dir: Path, *, verbose: bool = False, console: bool = True) -> Path | None:
    root = logging.getLogger()
    if getattr(root, "_curbdesk", False):
        return None
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    path: Path | None = None
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / "curbdesk.log"
        fh = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(fh)
    except OSError:
        path = None
    if console and verbose:
        ch = logging.StreamHandler()
        ch.setLevel(logging.DEBUG)
        ch.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(ch)
    root._curbdesk = True  # type: ignore[attr-defined]
    return path
