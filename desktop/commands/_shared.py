"""Helpers shared by the command modules of several areas.

``export`` and ``import`` take a kind (``export citations``, ``import owners`` ...) and every area
adds its own kinds, so the group's subparsers must be created once and found again by the others.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

#: id(subparsers of main.py) -> {group name: (subparsers, the group's own subparsers)}
_GROUPS: dict[int, tuple[Any, dict[str, Any]]] = {}


def subcommand_group(sub: Any, name: str, help: str) -> Any:
    """The subparsers of command ``name`` (``export``, ``import`` ...), created on the first call."""
    entry = _GROUPS.get(id(sub))
    if entry is None or entry[0] is not sub:
        entry = (sub, {})
        _GROUPS[id(sub)] = entry
    groups = entry[1]
    if name not in groups:
        parser = sub.add_parser(name, help=help)
        groups[name] = parser.add_subparsers(dest=f"{name}_kind", required=True, metavar="KIND")
        parser.set_defaults(**{f"{name}_sub": groups[name]})
    return groups[name]


def iso_date(text: str) -> date:
    """An argparse type: a date as YYYY-MM-DD, refused in one sentence otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None
