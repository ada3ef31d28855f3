"""The map component of every screen (Review, the Appeals workspace, and later the compliance map): a Qt
WebEngine view of a ``MapSpec`` page, offline, over a street map served on the ``curbdesk-tiles`` scheme
(``desktop.ui.common.map_tiles``). It fills whatever space its layout gives it; other screens add their
own shapes and legend lines through ``MapSpec.overlays``.

The page comes from ``desktop.services.review.map_html`` (folium with Leaflet and jQuery from the installed
xstatic packages). It is written to a file in this view's own temporary folder and loaded by its
``file://`` URL, so the page may read those local assets. Qt WebEngine is imported only when the
first map is shown (it is heavy and the window must open fast). If WebEngine cannot start, the
view says so in words instead of a blank pane.

The first map loads a page; every later one is drawn into that same page by a JavaScript call
(``cdShow``), which takes a few milliseconds where loading a page takes 100-250. The page is loaded
again only when the tile server setting changes.

Signals: ``ready()`` once the current citation's map is drawn and laid out (the page sets its title
to ``READY_TITLE:<serial>``); ``failed(str)`` when a page did not load.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QLabel, QStackedLayout, QToolButton, QVBoxLayout, QWidget

from desktop.services.review.map_html import READY_TITLE, MapSpec, page_key, render_map_html, update_script
from desktop.ui.common.map_tiles import install_tile_handler

log = logging.getLogger(__name__)


def webengine_available() -> bool:
    try:
        import PySide6.QtWebEngineWidgets  # noqa: F401  # lazy: Qt WebEngine costs 60 ms at start-up (and may be absent)
    except ImportError:
        return False
    return True


class MapView(QWidget):
    """One map. Signals: ``ready()`` once the shown map is drawn and laid out, ``failed(str)``."""

    ready = Signal()
    failed = Signal(str)
    #: the key of an overlay the user clicked (``Overlay.key``: a zone code on the compliance map)
    picked = Signal(str)

    def __init__(self, parent: QWidget | None = None, expandable: bool = False) -> None:
        super().__init__(parent)
        self._web: Any = None
        self._folder = Path(tempfile.mkdtemp(prefix="curbdesk-map-"))
        self._serial = 0
        self._page_serial = 0
        self._page_key: Any = None
        self._expected = -1
        self._pending_script: str | None = None
        self._loading = False
        self._shut = False
        self.is_ready = False
        self.spec: MapSpec | None = None
        self.placeholder = QLabel("The map appears here.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("background:#e9ecef; color:#555;")
        self.stack = QStackedLayout(self)
        self.stack.setContentsMargins(0, 0, 0, 0)
        self.stack.addWidget(self.placeholder)
        self.setMinimumHeight(160)
        #: "Larger map": the same map in a window nearly the size of the screen
        self.larger_button: QToolButton | None = None
        self.dialog: MapDialog | None = None
        if expandable:
            self.larger_button = QToolButton(self)
            self.larger_button.setText("⤢")
            self.larger_button.setToolTip("Larger map: open this map in a large window")
            self.larger_button.setAccessibleName("Larger map")
            self.larger_button.setFixedSize(34, 34)
            self.larger_button.setStyleSheet("QToolButton{background:white; border:2px solid rgba(0,0,0,.25);"
                                             "border-radius:4px; font-size:16pt; font-weight:600;}")
            self.larger_button.clicked.connect(self.open_larger)
            self.larger_button.setEnabled(False)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.destroyed.connect(lambda *_a, folder=self._folder: shutil.rmtree(folder, ignore_errors=True))

    # ----------------------------------------------------------- the web view, made on first use
    def _ensure_web(self) -> Any:
        if self._web is not None or self._shut:
            return self._web
        try:  # lazy: Qt WebEngine costs 60 ms at start-up, paid when the first map is shown
            from PySide6.QtWebEngineCore import QWebEnginePage
            from PySide6.QtWebEngineWidgets import QWebEngineView  # lazy: with the line above, 60 ms
        except ImportError as exc:  # pragma: no cover - depends on the installation
            self.placeholder.setText(f"Map unavailable: Qt WebEngine is not installed ({exc}).")
            return None
        web = QWebEngineView(self)
        web.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the review screen
        web.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        page = QWebEnginePage(web)
        web.setPage(page)
        web.loadFinished.connect(self._load_finished)
        web.titleChanged.connect(self._title_changed)
        web.urlChanged.connect(self._url_changed)
        self.stack.addWidget(web)
        self._web = web
        return web

    def shutdown(self) -> None:
        """Delete the web view now (before the application exits, or WebEngine complains); no map after it."""
        self._shut = True
        if self._web is not None:
            web, self._web = self._web, None
            self.stack.removeWidget(web)
            if shiboken6.isValid(web):
                shiboken6.delete(web)  # now, with its page: deleteLater may never run at exit
        shutil.rmtree(self._folder, ignore_errors=True)

    # ----------------------------------------------------------- showing a map
    def show_message(self, text: str) -> None:
        if self.larger_button is not None:
            self.larger_button.setEnabled(False)
        self.placeholder.setText(text)
        self.stack.setCurrentWidget(self.placeholder)

    def show_html(self, html: str, serial: int = 0) -> Path | None:
        """Load a whole rendered page; returns the file it was written to (None when WebEngine is missing)."""
        web = self._ensure_web()
        if web is None:
            return None
        self._page_serial += 1
        self._folder.mkdir(parents=True, exist_ok=True)
        path = self._folder / f"map-{self._page_serial % 4}.html"
        path.write_text(html, encoding="utf-8")
        self.is_ready = False
        self._expected = serial
        self._loading = True
        self._pending_script = None
        web.load(QUrl.fromLocalFile(str(path)))
        self.stack.setCurrentWidget(web)
        return path

    def show_spec(self, spec: MapSpec) -> Path | None:
        """Show a citation's map: the first time by loading a page, then by redrawing in that page
        (much faster than loading a new one). Returns the page file when a page was (re)loaded."""
        self._serial += 1
        key = page_key(spec)
        web = self._ensure_web()
        if web is None:
            return None
        self.spec = spec
        if self.larger_button is not None:
            self.larger_button.setEnabled(True)
        layer = spec.tile_layer()
        if layer is not None and layer.source is not None:
            server = install_tile_handler()
            if server is not None:
                server.add(layer.source)
        # The page is a local file, which WebEngine lets load only local content: a tile server the agency
        # configured (map.tile_url) is the one remote address it may reach, and only while one is shown.
        self._allow_remote(layer is not None and layer.kind == "server")
        if self._page_key != key:
            self._page_key = key
            return self.show_html(render_map_html(spec, self._serial), self._serial)
        self.is_ready = False
        self._expected = self._serial
        self.stack.setCurrentWidget(web)
        script = update_script(spec, self._serial)
        if self._loading:
            self._pending_script = script  # drawn as soon as the page has loaded
        else:
            web.page().runJavaScript(script)
        return None

    def _allow_remote(self, allow: bool) -> None:
        from PySide6.QtWebEngineCore import QWebEngineSettings  # lazy: loaded with the web view, 0 ms more

        if self._web is not None:
            page_settings = self._web.page().settings()
            page_settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, allow)
            page_settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)

    @property
    def web_view(self) -> Any:
        return self._web

    def _load_finished(self, ok: bool) -> None:
        self._loading = False
        if not ok:
            self._page_key = None
            self.failed.emit("the map page did not load")
            return
        if self._pending_script is not None and self._web is not None:
            script, self._pending_script = self._pending_script, None
            self._web.page().runJavaScript(script)
        elif self._web is not None:
            self._title_changed(self._web.title())

    def _url_changed(self, url: QUrl) -> None:
        fragment = url.fragment()
        if fragment.startswith("pick:"):
            self.picked.emit(QUrl.fromPercentEncoding(fragment.split(":", 2)[2].encode()))

    def _title_changed(self, title: str) -> None:
        if title == f"{READY_TITLE}:{self._expected}":
            self._mark_ready()

    def _mark_ready(self) -> None:
        if not self.is_ready:
            self.is_ready = True
            self.ready.emit()

    def grab_image(self) -> Any:
        """The map as it is painted now (a QImage), for screenshots and tests."""
        target = self._web if self._web is not None else self
        return target.grab().toImage()


    def layout_info(self, callback: Any) -> None:
        """Ask the page where its markers and legend are (JSON text: legend box, marker points, size, zoom,
        tiles loaded) and call ``callback`` with it; for tests and screenshots."""
        if self._web is not None:
            self._web.page().runJavaScript("cdLayout()", 0, callback)

    def set_legend_open(self, open_: bool) -> None:
        if self._web is not None:
            self._web.page().runJavaScript(f"cdToggleLegend({'true' if open_ else 'false'})")


    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self.larger_button is not None:
            # under Leaflet's zoom buttons, in the left column the page keeps free of markers
            self.larger_button.move(10, 84)
            self.larger_button.raise_()

    def open_larger(self) -> None:
        if self.spec is None:
            return
        if self.dialog is not None and shiboken6.isValid(self.dialog):
            self.dialog.close()
        self.dialog = MapDialog(self.spec, self.window())
        self.dialog.show()


class MapDialog(QDialog):
    """A map in a window of nine tenths of the screen (closed with Esc), its web view released on closing."""

    def __init__(self, spec: MapSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(spec.title or "Map")
        self.map = MapView(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.map)
        screen = (parent.screen() if parent is not None else None) or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        self.resize(int(area.width() * 0.9), int(area.height() * 0.9))
        self.finished.connect(lambda _r: self.map.shutdown())
        self.map.show_spec(spec)


CitationMapView = MapView
"""The name the Review screen has always used."""
