"""Everything that imports PySide6: the main window, views, table models, widgets, background tasks."""
