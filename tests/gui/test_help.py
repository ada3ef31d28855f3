"""Help (issue 16, point 7): F1 opens the user manual at the chapter of the screen in view; each chapter
names every key and every button of its screen, so the manual cannot fall behind the screens; the manual
ships with the application (resources/manual) and its links and pictures resolve."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QCheckBox, QPushButton, QRadioButton, QTabWidget

from desktop.domain.roles import Role
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from desktop.ui.help import chapter_for, manual_dir
from desktop.ui.main_window import AREAS, MainWindow

#: who sees the most of each screen (a supervisor's extra buttons, the hearing officer's decision)
WHO = {"review": Role.SUPERVISOR, "cases": Role.SUPERVISOR, "payments": Role.SUPERVISOR,
       "appeals": Role.SUPERVISOR, "notices": Role.MAIL_OFFICE, "sync": Role.SUPERVISOR, "admin": Role.ADMIN,
       "reports": Role.SUPERVISOR}
BUILT = [a.key for a in AREAS if a.view is not None]


def window_as(app, actors, role: Role, qtbot) -> MainWindow:
    ctx = UiContext(app=app, actor=actors[role], runner=TaskRunner(), messages=MessageChannel(interactive=False),
                    tz=ZoneInfo("America/Los_Angeles"))
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    return window


def label(text: str) -> str:
    """A button's or tab's text as the manual writes it: no mnemonic ampersand, one line, no ellipsis."""
    text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
    return " ".join(text.split()).rstrip("…").strip()


def is_mnemonic(key: QKeySequence) -> bool:
    """Alt plus one letter: the underlined letter of a label (the manual says so once, in general)."""
    return re.fullmatch(r"Alt\+\w", key.toString(QKeySequence.SequenceFormat.PortableText)) is not None


@pytest.mark.parametrize("area", [a.key for a in AREAS])
def test_f1_opens_the_chapter_of_the_screen_in_view(app, actors, qtbot, area) -> None:
    window = window_as(app, actors, Role.SUPERVISOR, qtbot)
    window.show_area(area)
    f1 = [a for a in window.findChildren(type(window.menuBar().actions()[0]))
          if a.shortcut() == QKeySequence("F1")]
    assert len(f1) == 1
    f1[0].trigger()
    assert window.help_window is not None and window.help_window.isVisible()
    assert window.help_window.page() == f"{area}.md"
    assert window.help_window.text().strip()
    window.ctx.runner.wait_all(10000)


@pytest.mark.parametrize("area", BUILT)
def test_each_chapter_names_every_key_and_button_of_its_screen(app, actors, qtbot, area) -> None:
    window = window_as(app, actors, WHO[area], qtbot)
    view = window.show_area(area)
    chapter = chapter_for(area).read_text(encoding="utf-8")
    keys = {sc.key().toString(QKeySequence.SequenceFormat.PortableText) for sc in view.findChildren(QShortcut)}
    keys |= {b.shortcut().toString(QKeySequence.SequenceFormat.PortableText)
             for b in view.findChildren(QAbstractButton) if not b.shortcut().isEmpty() and not is_mnemonic(b.shortcut())}
    keys.discard("Escape")
    missing = sorted(f"key {k}" for k in keys if f"`{k}`" not in chapter and f"`{k.replace('Escape', 'Esc')}`" not in chapter)
    buttons = {label(b.text()) for b in view.findChildren(QAbstractButton)
               if isinstance(b, QPushButton | QRadioButton | QCheckBox) and label(b.text())}
    tabs = {label(t.tabText(i)) for t in view.findChildren(QTabWidget) for i in range(t.count())}
    missing += sorted(f"control {b!r}" for b in buttons | tabs if b not in chapter)
    assert missing == [], f"resources/manual/{area}.md does not explain: " + ", ".join(missing)
    window.ctx.runner.wait_all(10000)


def test_the_manual_ships_with_its_links_and_pictures() -> None:
    root = manual_dir()
    pages = sorted(root.glob("*.md"))
    assert {p.stem for p in pages} >= {*BUILT, "index"}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            assert (root / target).is_file(), f"{page.name} links to {target}, which is missing"
    index = (root / "index.md").read_text(encoding="utf-8")
    assert all(f"({key}.md)" in index for key in BUILT)


def test_the_manual_exports_as_web_pages_with_their_links_and_pictures(qapp, tmp_path) -> None:
    from desktop.ui.help import export_html

    index = export_html(tmp_path / "manual")
    text = index.read_text(encoding="utf-8")
    for key in BUILT:
        assert f'href="{key}.html"' in text and (tmp_path / "manual" / f"{key}.html").is_file()
    appeals_page = (tmp_path / "manual" / "appeals.html").read_text(encoding="utf-8")
    pictures = re.findall(r'src="([^"]+)"', appeals_page)
    assert pictures and all((tmp_path / "manual" / p).is_file() for p in pictures)
    assert "Record decision" in appeals_page and ".md\"" not in appeals_page
