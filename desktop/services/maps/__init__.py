"""The street map under every map screen, offline: MBTiles packages, street tiles drawn from the imported
zones, and the choice between them (``tiles.tile_choice``). No Qt: the screens serve these tiles to
WebEngine through a URL scheme handler (``desktop.ui.common.map_tiles``)."""

TILE_SCHEME = "curbdesk-tiles"
"""The URL scheme the screens serve these tiles on: ``curbdesk-tiles://<source key>/{z}/{x}/{y}``."""
