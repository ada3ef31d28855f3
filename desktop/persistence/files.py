"""Durable files: flushing a file and its folder to disk before a rename is relied on (backups, evidence,
print batches). POSIX says a rename is durable only once the folder holding it is fsync'd."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_file(path: Path | str) -> None:
    """The file's bytes on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path | str) -> None:
    """The folder's entries (a new or renamed name) on disk; Windows has no folder handle to fsync."""
    if os.name != "posix":
        return
    fsync_file(directory)
