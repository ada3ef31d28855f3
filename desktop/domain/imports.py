"""What every importer checks the same way (issue 14): readable error lines, binary input, CSV headers,
field lengths and date years; and the one rule every export follows against spreadsheet formulas.

Pure functions on text and bytes. Reading a file with a size limit (and gzip, streamed) is in
``desktop.services.core.imports``, which uses these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

#: an error line (one problem) is cut to this many characters, an ellipsis marking the cut
MAX_LINE_CHARS = 200
#: a value quoted inside an error line is cut to this many characters
MAX_QUOTED_CHARS = 60
#: the years a date in an import may fall in: anything else is a typing slip (or an attack), not a date
#: an agency can mean, and refusing it keeps date arithmetic (a day before, a day after) from overflowing
MIN_YEAR, MAX_YEAR = 1900, 2200
#: a CSV field longer than this is refused whatever its column (a name, an address, a list of plates)
MAX_FIELD_CHARS = 2000

_CONTROL = {c: " " for c in range(32)} | {0x7F: " "}


def cut(text: object, limit: int = MAX_LINE_CHARS) -> str:
    """One readable line: control characters (newlines, tabs, NUL) as spaces, at most ``limit`` characters,
    an ellipsis where it was cut."""
    flat = str(text).translate(_CONTROL)
    if len(flat) <= limit:
        return flat
    return flat[: max(limit - 1, 0)].rstrip() + "…"


def quoted(value: object, limit: int = MAX_QUOTED_CHARS) -> str:
    """A value as shown inside an error line: in single quotes, cut to ``limit`` characters."""
    return f"'{cut(value, limit)}'"


def looks_binary(data: bytes) -> bool:
    """Whether the start of a file is not text: a NUL byte, or many control bytes other than the text ones
    (tab, newline, carriage return, form feed). UTF-16 text counts as binary here: save it as UTF-8."""
    head = data[:8192]
    if not head:
        return False
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return control > max(len(head) // 100, 2)


def binary_message(name: str, kind: str) -> str:
    """The one sentence for a binary file given to a text importer."""
    return f"{cut(name, 80)} is not UTF-8 text (it looks like a binary or UTF-16 file); choose the {kind}, saved as UTF-8."


def header_problems(header: Sequence[str], required: Iterable[str], known: Iterable[str] | None = None) -> list[str]:
    """What is wrong with a CSV header (names already stripped and lower-cased): repeated, missing or,
    when ``known`` is given, unknown column names. Empty when it is fine."""
    problems: list[str] = []
    seen: set[str] = set()
    repeated: list[str] = []
    for name in header:
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if any(not name for name in header):
        problems.append("a column has no name")
    if repeated:
        problems.append("column(s) " + ", ".join(quoted(n, 40) for n in repeated[:5]) + " repeat")
    missing = [c for c in required if c not in seen]
    if missing:
        problems.append("missing column(s) " + ", ".join(missing))
    if known is not None:
        allowed = set(known)
        unknown = [h for h in header if h and h not in allowed]
        if unknown:
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            problems.append("unknown column(s) " + ", ".join(quoted(n, 40) for n in unknown[:5]) + more)
    return problems


def long_fields(header: Sequence[str], row: Sequence[str], limit: int = MAX_FIELD_CHARS) -> list[str]:
    """The columns of a row whose value is longer than ``limit`` characters (by header name)."""
    return [header[i] if i < len(header) else f"field {i + 1}" for i, v in enumerate(row) if len(v) > limit]


def row_problem(header: Sequence[str], row: Sequence[str], limit: int = MAX_FIELD_CHARS) -> str | None:
    """What is wrong with a CSV data row's shape before its values are read, in the words every importer
    uses: a field count that differs from the header's, or values longer than ``limit`` characters (the
    first three named). None when the shape is fine. A blank row is the caller's to skip."""
    if len(row) != len(header):
        return f"{len(row)} fields, the header has {len(header)}"
    too_long = long_fields(header, row, limit)
    if too_long:
        return f"{', '.join(too_long[:3])} longer than {limit} characters"
    return None


def blank_row(row: Sequence[str]) -> bool:
    """A CSV row with nothing in it (an empty line, or only separators and spaces): skipped by importers."""
    return not any(cell.strip() for cell in row)


def year_problem(day: date) -> str | None:
    """Why a date cannot be meant (outside ``MIN_YEAR``..``MAX_YEAR``), or None."""
    if MIN_YEAR <= day.year <= MAX_YEAR:
        return None
    return f"{day.isoformat()} is outside the years {MIN_YEAR}-{MAX_YEAR}"


# ---------------------------------------------------------------- exports: spreadsheet formulas

#: a text cell starting with one of these is read as a formula by Excel, LibreOffice or Google Sheets
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run (OWASP "CSV injection"): text starting with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return gets a leading single quote, which spreadsheets show as
    text and do not evaluate. Numbers (int, float, Decimal; not bool) are left alone, so a negative
    amount stays a number; everything else is written as its text."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    return [neutralise(v) for v in row]
