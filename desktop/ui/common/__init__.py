"""Shared pieces of the screens: the task runner, the message channel, table models, widgets, the map and evidence viewers, printing."""
