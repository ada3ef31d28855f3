"""Small pieces the Devices & Sync screen's tabs share: text made safe for rich-text labels (the tabs' table
view is desktop.ui.common.widgets.row_table).
"""

from __future__ import annotations


def html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
