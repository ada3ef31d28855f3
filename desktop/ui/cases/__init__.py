"""The Cases screen: the windowed case list, the detail panel, the daily escalation dialog."""
