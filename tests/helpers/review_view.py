"""The Review screen as the GUI tests and the benchmarks open it: at a clerk's screen size, shown, and
activated until it has signalled that it is ready."""

from __future__ import annotations

from typing import Any

from desktop.ui.context import UiContext
from desktop.ui.review.view import ReviewView


def open_review_view(qtbot: Any, ctx: UiContext, ready: str = "citation_shown", timeout: int = 20000) -> ReviewView:
    """The Review screen, shown and activated; returns once it emits its signal named ``ready``."""
    view = ReviewView(ctx)
    qtbot.addWidget(view, before_close_func=lambda w: w.map.shutdown())
    view.resize(1400, 850)
    view.show()
    with qtbot.waitSignal(getattr(view, ready), timeout=timeout):
        view.activate()
    return view
