"""Curbdesk: the back office of a parking enforcement agency."""

import time as _time

__version__ = "0.1.0"

#: When the application package was first imported (the start of `main.py`), for start-up timing.
STARTED = _time.perf_counter()
