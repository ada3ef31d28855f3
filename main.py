"""Curbdesk entry point: parse arguments, set up logging and paths, hand over to the GUI or a command."""

import sys

from desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
