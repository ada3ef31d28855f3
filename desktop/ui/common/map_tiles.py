"""The street map's tiles, served to Qt WebEngine on the ``curbdesk-tiles`` URL scheme.

A map page asks for ``curbdesk-tiles://<source key>/<z>/<x>/<y>``; ``TileSchemeHandler`` answers from the
source registered under that key (an MBTiles file, or streets drawn from the imported zones:
``desktop.services.maps.tiles``). ``TileServer.respond(url)`` is the whole answer as plain data
(status, MIME type, bytes), so it is tested without a request job. MBTiles tiles are read on the GUI
thread (an indexed lookup: well under a millisecond); drawn tiles (10-100 ms) are drawn on the task
runner and the request answered when they are ready (WebEngine lets a job be answered later).

The scheme must be registered before the QApplication exists (``register_tile_scheme``, called by
``desktop.ui.app`` and the GUI tests' conftest); the handler is installed on the default WebEngine profile
the first time a map is shown (``install_tile_handler``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QBuffer, QByteArray, QObject

from desktop.services.maps import TILE_SCHEME
from desktop.ui.common.tasks import TaskControl, TaskRunner

if TYPE_CHECKING:
    from desktop.services.maps.tiles import TileSource

log = logging.getLogger(__name__)

_PATH = re.compile(r"^/(\d{1,2})/(\d{1,9})/(\d{1,9})(?:\.\w{2,5})?$")
_registered = False


@dataclass(frozen=True)
class TileAnswer:
    status: int  # 200, 404 (no tile there), 400 (not a tile address)
    mime_type: str = ""
    data: bytes = b""


class TileServer:
    """The registered tile sources by key, and the answer to a tile address."""

    def __init__(self) -> None:
        self.sources: dict[str, TileSource] = {}

    def add(self, source: TileSource) -> None:
        self.sources[source.key] = source

    def parse(self, host: str, path: str) -> tuple[TileSource, int, int, int] | None:
        source = self.sources.get(host)
        match = _PATH.match(path)
        if source is None or match is None:
            return None
        z, x, y = (int(g) for g in match.groups())
        return source, z, x, y

    def respond(self, host: str, path: str) -> TileAnswer:
        parsed = self.parse(host, path)
        if parsed is None:
            return TileAnswer(400)
        source, z, x, y = parsed
        return answer(source, z, x, y)


def answer(source: TileSource, z: int, x: int, y: int) -> TileAnswer:
    try:
        tile = source.tile(z, x, y)
    except Exception:  # a tile that cannot be made is a missing tile, never a broken map
        log.exception("map tile %s/%s/%s/%s", source.key, z, x, y)
        return TileAnswer(404)
    if tile is None:
        return TileAnswer(404)
    return TileAnswer(200, tile[1], tile[0])


def register_tile_scheme() -> bool:
    """Declare the ``curbdesk-tiles`` scheme to WebEngine; only before the QApplication exists.
    Returns whether the scheme is registered (False when Qt WebEngine is not installed)."""
    global _registered
    if _registered:
        return True
    try:  # lazy: Qt WebEngine Core and the declaration cost 20-40 ms (measured), only on the way into the GUI
        from PySide6.QtWebEngineCore import QWebEngineUrlScheme
    except ImportError:  # pragma: no cover - depends on the installation
        return False
    if QWebEngineUrlScheme.schemeByName(QByteArray(TILE_SCHEME.encode())).name().isEmpty():
        scheme = QWebEngineUrlScheme(QByteArray(TILE_SCHEME.encode()))
        scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
        # Local: the map page is a file:// page, and local pages may only load other local content
        # (QWebEngineSettings.LocalContentCanAccessRemoteUrls stays off).
        scheme.setFlags(QWebEngineUrlScheme.Flag.SecureScheme | QWebEngineUrlScheme.Flag.LocalScheme)
        QWebEngineUrlScheme.registerScheme(scheme)
    _registered = True
    return True


def scheme_registered() -> bool:
    return _registered


_handler: Any = None


def install_tile_handler() -> TileServer | None:
    """The application's tile server, its handler installed on the default profile (once)."""
    global _handler
    if _handler is not None and shiboken6.isValid(_handler):
        return _handler.server  # type: ignore[no-any-return]
    if not _registered:
        log.warning("map tiles: the %s scheme was not registered before the application started", TILE_SCHEME)
        return None
    from PySide6.QtWebEngineCore import QWebEngineProfile  # lazy: Qt WebEngine Core costs 20 ms at start-up

    profile = QWebEngineProfile.defaultProfile()
    _handler = _make_handler(profile)
    profile.installUrlSchemeHandler(QByteArray(TILE_SCHEME.encode()), _handler)
    return _handler.server  # type: ignore[no-any-return]


def _make_handler(parent: QObject) -> Any:
    # lazy: Qt WebEngine Core costs 20 ms at start-up, paid when the first map is shown
    from PySide6.QtWebEngineCore import QWebEngineUrlRequestJob, QWebEngineUrlSchemeHandler

    class TileSchemeHandler(QWebEngineUrlSchemeHandler):
        """Answers ``curbdesk-tiles://`` requests from ``server``; drawn tiles off the GUI thread."""

        def __init__(self, parent: QObject) -> None:
            super().__init__(parent)
            self.server = TileServer()
            self.runner = TaskRunner(self, max_threads=2)
            self._gone: set[int] = set()  # jobs WebEngine deleted (the page closed or moved on) while drawing
            self._serial = 0

        def requestStarted(self, job: Any) -> None:  # noqa: N802 - Qt's name
            url = job.requestUrl()
            parsed = self.server.parse(url.host(), url.path())
            if parsed is None:
                job.fail(QWebEngineUrlRequestJob.Error.UrlInvalid)
                return
            source, z, x, y = parsed
            if not source.slow:
                self._reply(job, answer(source, z, x, y))
                return

            def draw(_control: TaskControl) -> TileAnswer:
                return answer(source, z, x, y)

            self._serial += 1
            serial = self._serial
            job.destroyed.connect(lambda *_a, n=serial: self._gone.add(n))
            def done(result: TileAnswer) -> None:
                self._reply(job, result, serial)

            def failed(_exc: BaseException) -> None:
                self._reply(job, TileAnswer(404), serial)

            self.runner.run(draw, on_done=done, on_error=failed)

        def _reply(self, job: Any, result: TileAnswer, serial: int = 0) -> None:
            if serial in self._gone or not shiboken6.isValid(job):
                self._gone.discard(serial)
                return  # the page went away (or scrolled on) before the tile was drawn
            if result.status != 200:
                job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
                return
            buffer = QBuffer(job)
            buffer.setData(QByteArray(result.data))
            job.reply(QByteArray(result.mime_type.encode()), buffer)

    return TileSchemeHandler(parent)
