"""Benchmark: how long "next citation" takes on the review screen, on a demo office database.

Run with ``pytest tests/benchmarks/bench_review.py --benchmark-only``.

Group ``review-next`` (the same citations in every test):

* baseline: fetch the citation row by key and decode its photos with Pillow: the least any viewer does;
* cold: what the screen does when the next citation was not prefetched: the review service (facts,
  stored warnings, zones, EXIF of each photo), decoding every photo upright into a QImage, and
  the map's drawing data;
* prefetch hit: what is left on the GUI thread when it was prefetched (the screen shows it from
  its cache): facts, warnings, first photo, and handing the map page to WebEngine;
* prefetch hit until the map is drawn: the same, plus waiting until Qt WebEngine has redrawn the
  map for the new citation and fitted it (the page sets its title when done).
"""

from __future__ import annotations

import os

import pytest
from PIL import Image
from sqlalchemy import select

from desktop.bootstrap import make_app_context
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.migrate import upgrade
from desktop.persistence.models import Citation, EvidencePhoto
from desktop.services.admin import users
from desktop.services.core.context import AppContext

DEMO_CITATIONS = int(os.environ.get("CURBDESK_BENCH_CITATIONS", "600"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[AppContext, object, list[int]]:
    from desktop.demo.office import build_demo

    folder = tmp_path_factory.mktemp("review-bench")
    paths = AppPaths(folder)
    paths.ensure()
    db = Database(paths.default_db_url)
    upgrade(db)
    app = make_app_context(db, paths)
    build_demo(app, DEMO_CITATIONS)
    actor = users.actor_for(app, "clerk")
    with db.reading() as s:
        ids = list(s.scalars(select(Citation.id).where(Citation.status == "pending_review").order_by(Citation.id)))
    assert len(ids) >= 6, "the demo needs citations waiting for review"
    return app, actor, ids[:6]


def _cycle(ids: list[int]):  # type: ignore[no-untyped-def]
    state = {"i": 0}

    def next_id() -> int:
        state["i"] = (state["i"] + 1) % len(ids)
        return ids[state["i"]]

    return next_id


@pytest.mark.benchmark(group="review-next")
def test_baseline_row_and_pillow_decode(benchmark, demo) -> None:  # type: ignore[no-untyped-def]
    app, _actor, ids = demo
    store = EvidenceStore(app.paths.evidence_dir)
    next_id = _cycle(ids)

    def run() -> int:
        cid = next_id()
        with app.db.reading() as s:
            c = s.get(Citation, cid)
            shas = list(s.scalars(select(EvidencePhoto.sha256).where(EvidencePhoto.citation_id == cid)))
        pixels = 0
        for sha in shas:
            path = store.path_for(sha)
            if path.is_file():
                with Image.open(path) as im:
                    im.load()
                    pixels += im.width * im.height
        return pixels + (1 if c is not None else 0)

    assert benchmark(run) > 0


@pytest.mark.benchmark(group="review-next")
def test_next_cold_service_decode_and_map(benchmark, demo, qapp) -> None:  # type: ignore[no-untyped-def]
    from desktop.ui.review.prepared import prepare

    app, actor, ids = demo
    prepare(app, actor, ids[0])  # imports (folium) and the zone cache are a one-off, not per citation
    next_id = _cycle(ids)
    from desktop.services.review.map_html import update_script

    def run():  # type: ignore[no-untyped-def]
        prepared = prepare(app, actor, next_id())
        update_script(prepared.item.map, 1)  # the map's drawing data, as the screen sends it
        return prepared

    prepared = benchmark(run)
    assert prepared.photos
    benchmark.extra_info["service_and_decode_ms_inside"] = round(prepared.seconds * 1000, 1)


def _view(qtbot, demo):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    from desktop.ui.common.messages import MessageChannel
    from desktop.ui.common.tasks import TaskRunner
    from desktop.ui.context import UiContext
    from desktop.ui.review.prepared import prepare
    from tests.helpers.review_view import open_review_view

    app, actor, ids = demo
    ctx = UiContext(app=app, actor=actor, runner=TaskRunner(), messages=MessageChannel(interactive=False),
                    tz=ZoneInfo("America/Los_Angeles"))
    view = open_review_view(qtbot, ctx, "queue_loaded", 60000)
    wanted = [e.id for e in view.entries[:6]]
    for cid in wanted:
        view.cache[cid] = prepare(app, actor, cid)
    return view, list(range(len(wanted)))


def _idle(view) -> None:  # type: ignore[no-untyped-def]
    """Let background prefetching finish, as it does while a clerk looks at a citation (seconds, not ms)."""
    from PySide6.QtCore import QEventLoop, QTimer

    while view.ctx.runner.active() or view._prefetch_timer.isActive():
        pause = QEventLoop()
        QTimer.singleShot(20, pause.quit)
        pause.exec()


@pytest.mark.benchmark(group="review-next")
def test_next_prefetch_hit_on_screen(benchmark, demo, qtbot) -> None:  # type: ignore[no-untyped-def]
    view, rows = _view(qtbot, demo)
    next_row = _cycle(rows)
    benchmark.pedantic(lambda: view.show_index(next_row()), setup=lambda: _idle(view), rounds=30, iterations=1)
    assert view.current is not None and view.current.item.id in view.cache
    qtbot.waitUntil(lambda: view.map.is_ready, timeout=30000)


@pytest.mark.benchmark(group="review-next")
def test_next_prefetch_hit_until_map_drawn(benchmark, demo, qtbot, qapp) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QEventLoop

    view, rows = _view(qtbot, demo)
    qtbot.waitUntil(lambda: view.map.is_ready, timeout=60000)
    next_row = _cycle(rows)
    # A local event loop that the map's "ready" ends (spinning processEvents() thousands of times
    # trips a reference-count bug in PySide6 6.12 on Python 3.11).
    loop = QEventLoop()
    view.map.ready.connect(loop.quit)

    def run() -> None:
        view.show_index(next_row())
        if not view.map.is_ready:
            loop.exec()

    benchmark.pedantic(run, setup=lambda: _idle(view), rounds=30, iterations=1, warmup_rounds=2)
