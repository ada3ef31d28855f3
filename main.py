"""Curbdesk entry point: parse arguments, set up logging and paths, hand over to the GUI or a command."""

import multiprocessing
import sys

from desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # large notice runs render on spawned processes, also when frozen
    sys.exit(main())
