"""Money shown to people. Amounts are integer cents everywhere; never a float."""

from __future__ import annotations

_SYMBOLS = {"USD": "$", "GBP": "£"}


def format_cents(cents: int, currency: str = "USD") -> str:
    """1234567 -> '$12,345.67'; negatives as '-$1.00'."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{_SYMBOLS.get(currency, currency + ' ')}{whole:,}.{part:02d}"
