"""Text a clerk, a file or a device hands us, checked before it reaches a column: the same rule on SQLite and
on PostgreSQL.

SQLite stores any text in any column; PostgreSQL refuses a NUL character in text and a value longer than
its ``varchar(n)`` with a raw ``DataError`` (issue 14: a SQLite office could not be moved). Every text
column declares its length (``desktop.persistence.models``); :func:`clean_text` is the check the forms'
services, the importers' row checks and the sync wire schema make against it, with one sentence that
names the field and the limit.
"""

from __future__ import annotations

from typing import overload

from desktop.domain.errors import UserError

#: the widths of the free-text columns (the models use them; the services check against them)
NAME = 200
ADDRESS = 500
EMAIL = 200
REFERENCE = 1000
REMARKS = 2000
REASON = 4000
NOTE = 10_000
STATEMENT = 20_000


def text_problem(value: str, max_len: int | None = None) -> str | None:
    """What is wrong with ``value`` for a column of ``max_len`` characters (None: it fits; ``max_len`` None:
    only what no column can hold)."""
    if "\x00" in value:
        return "contains a NUL character (a zero byte), which cannot be stored"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains characters that are not valid text (broken UTF-16 surrogates)"
    if max_len is not None and len(value) > max_len:
        return f"is {len(value):,} characters long; at most {max_len:,} fit"
    return None


@overload
def clean_text(value: str, field_label: str, max_len: int) -> str: ...
@overload
def clean_text(value: None, field_label: str, max_len: int) -> None: ...
@overload
def clean_text(value: str | None, field_label: str, max_len: int) -> str | None: ...
def clean_text(value: str | None, field_label: str, max_len: int) -> str | None:
    """``value`` unchanged if it can be stored in a column of ``max_len`` characters; otherwise a
    :class:`UserError` naming the field (``field_label``, e.g. "The owner's name") and the limit."""
    if value is None:
        return None
    problem = text_problem(value, max_len)
    if problem is not None:
        raise UserError(f"{field_label} {problem}. Correct it and try again.")
    return value
