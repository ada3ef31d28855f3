"""Command groups shared by several areas (`import`, `export`): each area adds its own kind to one group.

`subcommand_group(sub, "export", help)` creates `main.py export` the first time and hands back the
same sub-parsers object on every later call, so `export citations` and `export payments` can be
registered by different modules without knowing about each other.
"""

from __future__ import annotations

import weakref
from typing import Any

_GROUPS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def subcommand_group(sub: Any, name: str, help: str) -> Any:
    """The sub-parsers of command `name` under `sub`, created on first use."""
    groups = _GROUPS.setdefault(sub, {})
    if name not in groups:
        parser = sub.add_parser(name, help=help)
        groups[name] = parser.add_subparsers(dest=f"{name}_kind", required=True, metavar="KIND")
    return groups[name]
