"""The street map: check an MBTiles file, make one the office's map (``map.mbtiles_path``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("map", help="the street map under every map screen (MBTiles)")
    msub = p.add_subparsers(dest="map_command", required=True, metavar="ACTION")
    c = msub.add_parser("check", help="what an MBTiles file holds (default: the one the settings name), or why "
                                      "it cannot be used")
    c.add_argument("file", type=Path, nargs="?")
    c.set_defaults(handler=cmd_map_check)
    u = msub.add_parser("use", help="check an MBTiles file and make it the office's street map (administrators)")
    u.add_argument("file", type=Path)
    u.set_defaults(handler=cmd_map_use)


def _describe(path: Path, info: Any) -> str:
    bounds = ", ".join(f"{v:.4f}" for v in info.bounds) if info.bounds else "not stated"
    return (f"{path}: {info.name}, {info.format.upper()} tiles, zooms {info.min_zoom}-{info.max_zoom}, "
            f"bounds {bounds}")


def cmd_map_check(env: Any) -> int:
    from desktop.services.maps.mbtiles import MBTilesError, check_mbtiles  # lazy: with tiles, 0.1 s at start-up
    from desktop.services.maps.tiles import configured_mbtiles  # lazy: SQLAlchemy and the services, 0.5 s

    app = env.app()
    env.actor(app)  # every command signs in
    if env.args.file is not None:
        try:
            print(_describe(env.args.file, check_mbtiles(env.args.file)))
        except MBTilesError as exc:
            print(exc)
            return 2
        return 0
    path, info, problem = configured_mbtiles(app)
    if path is None:
        print("No MBTiles file is set (map.mbtiles_path): maps show the streets drawn from the imported zones.")
        return 0
    if problem:
        print(problem)
        return 2
    print(_describe(path, info))
    return 0


def cmd_map_use(env: Any) -> int:
    from desktop.services.maps.tiles import use_mbtiles  # lazy: SQLAlchemy and the services, 0.5 s at start-up

    app = env.app()
    info = use_mbtiles(app, env.actor(app), env.args.file)
    print(f"{_describe(env.args.file, info)}; every map now shows it.")
    return 0
