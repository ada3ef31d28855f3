"""Curbdesk: the back office of a parking enforcement agency."""

#: the one place the version is written (pyproject.toml reads it; so do the installers)
__version__ = "0.2.0"

import time as _time

#: when the process imported the package, for the start-up measurement
STARTED_AT = _time.perf_counter()
