"""Curbdesk: the back office of a parking enforcement agency."""

__version__ = "0.1.0"
