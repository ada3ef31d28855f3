"""Reading an import file within bounds (issue 14), and writing CSV exports a spreadsheet will not run.

Every importer reads its file through ``read_limited`` (the size limit of the setting
``imports.max_file_mb``; a gzip file is undone streamed, in constant memory, and its decompressed
size held to the same limit) and ``read_text`` (binary input refused in one sentence, UTF-8 with or
without BOM). Error lines go through ``cut`` (``desktop.domain.imports``). Every CSV export writes
through ``csv_writer``, which neutralises formulas in text cells.
"""

from __future__ import annotations

import csv
import zlib
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from desktop.domain.errors import UserError
from desktop.domain.imports import binary_message, cut, looks_binary, neutralise_row
from desktop.services.core import settings

__all__ = ["cut", "looks_binary", "read_limited", "read_text", "max_bytes", "csv_writer", "SafeCsvWriter"]

MB = 1024 * 1024
_CHUNK = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


def max_bytes(session: Session) -> int:
    """The size limit of one import file (and of a gzip file's contents), from ``imports.max_file_mb``."""
    return max(int(settings.get(session, "imports.max_file_mb")), 1) * MB


def _too_big(name: str, max_bytes: int, what: str) -> UserError:
    limit = f"{max_bytes / MB:g} MB"
    return UserError(f"{cut(name, 80)} {what} more than {limit}, the limit for an import file "
                     f"(setting imports.max_file_mb); split the file or ask an administrator to raise the limit.")


def read_limited(path: Path, max_bytes: int, *, gzip_ok: bool = True) -> bytes:
    """The bytes of an import file, refused with a clear ``UserError`` past ``max_bytes``.

    The file is read in chunks and never more than ``max_bytes + 1`` bytes of it. A gzip file (by its
    magic bytes) is decompressed chunk by chunk and refused as soon as its contents pass ``max_bytes``,
    so a small file that expands to gigabytes costs no more memory than the limit.
    """
    path = Path(path)
    name = path.name
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise _too_big(name, max_bytes, "is")
            if not (gzip_ok and data[:2] == _GZIP_MAGIC):
                return data
    except FileNotFoundError:
        raise UserError(f"There is no file {cut(path, 120)}.") from None
    except IsADirectoryError:
        raise UserError(f"{cut(path, 120)} is a folder, not a file.") from None
    except OSError as exc:
        raise UserError(f"Cannot read {cut(path, 120)}: {exc.strerror}.") from None
    return _gunzip(data, name, max_bytes)


def _gunzip(data: bytes, name: str, max_bytes: int) -> bytes:
    """Every gzip member of ``data``, decompressed at most ``_CHUNK`` bytes at a time."""
    out = bytearray()
    rest = data
    try:
        while rest:
            d = zlib.decompressobj(zlib.MAX_WBITS | 16)
            pending = rest
            while pending and not d.eof:
                out += d.decompress(pending, _CHUNK)
                if len(out) > max_bytes:
                    raise _too_big(name, max_bytes, "expands to")
                pending = d.unconsumed_tail
            while not d.eof:
                piece = d.decompress(b"", _CHUNK)
                if not piece:
                    break
                out += piece
                if len(out) > max_bytes:
                    raise _too_big(name, max_bytes, "expands to")
            if not d.eof:
                raise UserError(f"{cut(name, 80)} is a damaged gzip file (it ends too soon).")
            rest = d.unused_data.lstrip(b"\x00")
    except zlib.error:
        raise UserError(f"{cut(name, 80)} is a damaged gzip file.") from None
    return bytes(out)


def read_text(path: Path, max_bytes: int, kind: str) -> str:
    """The text of an import file: ``read_limited``, binary refused, UTF-8 (a BOM is dropped).

    ``kind`` names what the file should be, for the sentences (e.g. "permit list (CSV)").
    """
    data = read_limited(path, max_bytes)
    return decode_text(data, Path(path).name, kind)


def decode_text(data: bytes, name: str, kind: str) -> str:
    if looks_binary(data):
        raise UserError(binary_message(name, kind))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{cut(name, 80)} is not UTF-8 text (byte {exc.start + 1}); save the {kind} as UTF-8.") from None


# ---------------------------------------------------------------- exports


class SafeCsvWriter:
    """``csv.writer`` whose rows are neutralised against spreadsheet formulas (``neutralise``)."""

    def __init__(self, fh: IO[str]) -> None:
        self._writer = csv.writer(fh)

    def writerow(self, row: Any) -> Any:
        return self._writer.writerow(neutralise_row(row))

    def writerows(self, rows: Any) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(fh: IO[str]) -> SafeCsvWriter:
    """The writer every CSV export uses."""
    return SafeCsvWriter(fh)
