"""The help: F1 opens the user manual's chapter for the screen in view; Help › User manual opens its
contents. The manual is Markdown in resources/manual (one chapter per screen, pictures taken from the
running application by ``desktop.ui.screenshots``), shown offline in a QTextBrowser, which follows the
links between chapters itself.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import (
    QDesktopServices,
    QImage,
    QKeySequence,
    QPixmap,
    QResizeEvent,
    QShortcut,
    QShowEvent,
    QTextCursor,
    QTextDocument,
    QTextImageFormat,
)
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from desktop.resources import resource
from desktop.ui.common.screen_fit import fit_to_screen


def manual_dir() -> Path:
    return resource("manual")


def chapter_for(area_key: str | None) -> Path:
    """The manual's chapter for a screen (``review``, ``cases`` ...), or its contents when there is none."""
    if area_key:
        page = manual_dir() / f"{area_key}.md"
        if page.is_file():
            return page
    return manual_dir() / "index.md"


def export_html(out: Path) -> Path:
    """The manual as HTML pages in ``out`` (links between chapters kept, pictures copied): to read it in a
    web browser or print it. Returns the contents page.

        python -m desktop.ui.help --html OUT
    """
    out.mkdir(parents=True, exist_ok=True)
    source = manual_dir()
    for page in sorted(source.glob("*.md")):
        doc = QTextDocument()
        doc.setMarkdown(page.read_text(encoding="utf-8"))
        body = re.sub(r'href="([\w-]+)\.md(#[^"]*)?"', r'href="\1.html\2"', doc.toHtml())
        body = body.replace("</head>", "<style>img { max-width: 100%; height: auto; }</style></head>", 1)
        (out / f"{page.stem}.html").write_text(body, encoding="utf-8")
    shots = source / "shots"
    if shots.is_dir():
        (out / "shots").mkdir(exist_ok=True)
        for picture in shots.glob("*.png"):
            shutil.copyfile(picture, out / "shots" / picture.name)
    return out / "index.html"


class HelpWindow(QDialog):
    """The manual, opened at one chapter; Back, Forward and Contents move about it. Not modal: it can stay
    open beside the screen it explains."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Curbdesk help")
        lay = QVBoxLayout(self)
        nav = QHBoxLayout()
        self.back_button = QPushButton("◀ Back")
        self.forward_button = QPushButton("Forward ▶")
        self.contents_button = QPushButton("&Contents")
        for b in (self.back_button, self.forward_button, self.contents_button):
            nav.addWidget(b)
        nav.addStretch(1)
        self.browser_button = QPushButton("Open in &web browser")
        self.browser_button.setToolTip("The manual as web pages, to read beside the application or to print")
        self.browser_button.clicked.connect(self.open_in_browser)
        nav.addWidget(self.browser_button)
        lay.addLayout(nav)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setSearchPaths([str(manual_dir())])
        lay.addWidget(self.browser, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay.addWidget(buttons)
        self.back_button.clicked.connect(self.browser.backward)
        self.forward_button.clicked.connect(self.browser.forward)
        self.contents_button.clicked.connect(lambda: self.show_page(chapter_for(None)))
        self.browser.backwardAvailable.connect(self.back_button.setEnabled)
        self.browser.forwardAvailable.connect(self.forward_button.setEnabled)
        self.back_button.setEnabled(False)
        self.forward_button.setEnabled(False)
        QShortcut(QKeySequence.StandardKey.Back, self, self.browser.backward)
        fit_to_screen(self, 920, 760)

        self.browser.sourceChanged.connect(lambda _url: self.fit_images())

    def show_page(self, page: Path) -> None:
        self.browser.setSource(QUrl.fromLocalFile(str(page)), QTextDocument.ResourceType.MarkdownResource)
        self.fit_images()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_images()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_images()

    def fit_images(self) -> None:
        """Screenshots are 1366 pixels wide: each is shown at the width of the page, its shape kept."""
        doc = self.browser.document()
        width = max(200, self.browser.viewport().width() - 24)
        found: list[tuple[int, int, QTextImageFormat]] = []
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.isValid() and fragment.charFormat().isImageFormat():
                    found.append((fragment.position(), fragment.length(), fragment.charFormat().toImageFormat()))
                it += 1
            block = block.next()
        for position, length, image_format in found:
            image = doc.resource(QTextDocument.ResourceType.ImageResource, QUrl(image_format.name()))
            size = image.size() if isinstance(image, QImage | QPixmap) else None
            if size is None or size.width() <= 0:
                continue
            shown = min(width, size.width())
            image_format.setWidth(shown)
            image_format.setHeight(shown * size.height() / size.width())
            cursor = QTextCursor(doc)
            cursor.setPosition(position)
            cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
            cursor.setCharFormat(image_format)

    def open_in_browser(self) -> None:
        folder = Path(tempfile.gettempdir()) / "curbdesk-manual"
        index = export_html(folder)
        page = folder / Path(self.page()).with_suffix(".html").name
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(page if page.is_file() else index)))

    def page(self) -> str:
        """The file name of the chapter shown (``appeals.md``)."""
        return Path(self.browser.source().toLocalFile()).name

    def text(self) -> str:
        return self.browser.toPlainText()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Write the user manual as HTML pages.")
    parser.add_argument("--html", required=True, type=Path, help="the folder to write")
    print(export_html(parser.parse_args().html))
