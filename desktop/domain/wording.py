"""Words for counts in the reports clerks read ("1 case", "2 cases", "1,000 penalties")."""

from __future__ import annotations


def counted(n: int, one: str, many: str | None = None) -> str:
    """``n`` with its noun in the right number: ``counted(1, "case")`` -> ``"1 case"``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
