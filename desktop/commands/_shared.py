"""Helpers the command modules share: one ``import`` (or ``export``...) command that every area extends.

Each area's ``register(sub)`` calls ``subcommand_group(sub, "import", help=...)`` and adds its own
kind (``import zones``, ``import payments``...) to the returned subparsers object::

    kinds = subcommand_group(sub, "import", "import reference data and payment files")
    p = kinds.add_parser("zones", help="...")
    p.set_defaults(handler=cmd_import_zones)

The first call creates the command; later calls, from any module, get the same object back, so the
areas never clash over who owns ``import``. Command modules whose name starts with ``_`` are not
registered as commands themselves.
"""

from __future__ import annotations

import weakref
from typing import Any

#: top-level subparsers -> {command name: that command's subparsers}
_GROUPS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def subcommand_group(sub: Any, name: str, help: str = "", dest: str | None = None) -> Any:
    """The subparsers of command ``name`` under ``sub`` (created on the first call, shared after)."""
    groups = _GROUPS.setdefault(sub, {})
    group = groups.get(name)
    if group is None:
        parser = sub.add_parser(name, help=help or f"{name} data")
        group = parser.add_subparsers(dest=dest or f"{name.replace('-', '_')}_kind", metavar="KIND", required=True)
        groups[name] = group
    return group
