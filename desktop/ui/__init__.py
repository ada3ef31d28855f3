"""Everything that imports PySide6: the main window, views, table models, widgets, background tasks."""

from desktop.ui import pyside_fixes  # noqa: F401  - must run before any signal is emitted
