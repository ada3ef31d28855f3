"""The application's look: Fusion with a calm, high-contrast palette for all-day use."""

STYLESHEET = """
QListWidget#nav { background: #1f2a37; color: #dfe6ee; border: none; font-size: 11pt; padding-top: 8px; }
QListWidget#nav::item { padding: 9px 14px; }
QListWidget#nav::item:selected { background: #2f6fb3; color: white; }
QListWidget#nav::item:hover:!selected { background: #2a3a4c; }
QTableView { gridline-color: #e3e6ea; selection-background-color: #cfe2f7; selection-color: black; }
QHeaderView::section { background: #eef1f4; padding: 4px; border: none; border-right: 1px solid #d5d9de;
                       border-bottom: 1px solid #d5d9de; font-weight: 600; }
QTabWidget::pane { border: 1px solid #d5d9de; }
QFrame#placeholder { background: #f6f8fa; border: 1px dashed #b8c0c8; border-radius: 8px; padding: 24px;
                     min-width: 420px; max-width: 620px; }
QStatusBar { background: #eef1f4; }
"""
