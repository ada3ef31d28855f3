"""Curbdesk entry point: parse arguments, set up logging and paths, hand over to the GUI or a command."""

import sys

from desktop.cli import main

if __name__ == "__main__":
    if getattr(sys, "frozen", False):  # large notice runs render on spawned processes, also when frozen
        import multiprocessing

        multiprocessing.freeze_support()
    sys.exit(main())
