"""Curbdesk: the back office of a parking enforcement agency."""

__version__ = "0.1.0"

import time as _time

#: when the process imported the package, for the start-up measurement
STARTED_AT = _time.perf_counter()
