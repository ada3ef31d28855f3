"""The windowed case model and the Cases screen, over a real temporary database."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from PySide6.QtCore import Qt

from desktop.services.cases import queries as cases
from desktop.ui.cases.model import PAGE, CaseSource, CaseTableModel
from desktop.ui.cases.view import CasesView
from tests.helpers.factories import add_citation


def _fill(app, n: int) -> None:
    base = datetime(2026, 10, 1, 16, 0, tzinfo=timezone.utc)
    for i in range(n):
        add_citation(app, number=f"M-{i:05d}", plate=f"7AB{i:04d}", issued_at=base + timedelta(minutes=i))


def test_model_pages_lazily_and_passes_modeltester(qtbot, qtmodeltester, ui_ctx) -> None:
    app, actor = ui_ctx.app, ui_ctx.actor
    _fill(app, PAGE + 40)
    calls: list[int] = []

    def page(f, off, lim):
        calls.append(off)
        return cases.case_page(app, actor, f, off, lim)

    model = CaseTableModel(ui_ctx.runner, CaseSource(lambda f: cases.count_cases(app, actor, f), page))
    with qtbot.waitSignal(model.loaded, timeout=10000) as sig:
        model.set_filter(cases.CaseFilter())
    assert sig.args == [PAGE + 40]
    assert calls == [0]
    assert model.index(0, CaseTableModel.CITATION).data() == f"M-{PAGE + 39:05d}"  # newest first
    # a row on the second page is fetched on demand, off the GUI thread
    assert model.index(PAGE + 5, 0).data() == "…"
    qtbot.waitUntil(lambda: model.row_at(PAGE + 5) is not None, timeout=10000)
    assert model.index(PAGE + 5, CaseTableModel.CITATION).data() == f"M-{34:05d}"
    row = model.index(3, 0).data(CaseTableModel.ROW_ROLE)
    assert row.balance_cents == 6300 and model.index(3, CaseTableModel.BALANCE).data() == "$63.00"
    qtmodeltester.check(model, force_py=True)


def test_search_shows_the_case_and_its_detail(qtbot, ui_ctx) -> None:
    _fill(ui_ctx.app, 5)
    target = add_citation(ui_ctx.app, number="HH0042-000123", plate="8OBS123")
    view = CasesView(ui_ctx)
    qtbot.addWidget(view)
    view.show()
    view.search.setText("80B5123")  # read from a photo with O/0, B/8, S/5 confused
    shown: list[int] = []
    view.detail.shown.connect(shown.append)
    with qtbot.waitSignal(view.results, timeout=10000) as sig:
        qtbot.keyClick(view.search, Qt.Key.Key_Return)
    assert sig.args == [1]
    qtbot.waitUntil(lambda: target in shown, timeout=10000)
    assert "HH0042-000123" in view.detail.header.text() and "$63.00" in view.detail.header.text()
    ledger = view.detail.ledger
    assert ledger.rowCount() == 2  # the fine, then the balance line
    assert ledger.item(0, 1).text() == "fine" and ledger.item(1, 2).text() == "$63.00"


def test_no_match_says_so(qtbot, ui_ctx) -> None:
    _fill(ui_ctx.app, 2)
    view = CasesView(ui_ctx)
    qtbot.addWidget(view)
    view.search.setText("ZZZZZZZZ")
    with qtbot.waitSignal(view.results, timeout=10000):
        view.run_search()
    assert view.count_label.text() == "No case matches this search."


def test_a_search_past_the_cap_says_narrow_it(qtbot, ui_ctx, monkeypatch) -> None:
    from tests.helpers.casework import add_owner

    monkeypatch.setattr(cases, "SEARCH_COUNT_CAP", 3)
    owner = add_owner(ui_ctx.app, "7GAR001", "GARCIA, ANA")
    base = datetime(2026, 10, 1, 16, 0, tzinfo=timezone.utc)
    for i in range(5):
        add_citation(ui_ctx.app, plate="7GAR001", owner_id=owner, issued_at=base + timedelta(days=i))
    view = CasesView(ui_ctx)
    qtbot.addWidget(view)
    view.search.setText("garcia")
    with qtbot.waitSignal(view.results, timeout=10000) as sig:
        view.run_search()
    assert sig.args == [3] and view.model.rowCount() == 3 and view.model.capped
    assert view.count_label.text().startswith("More than 3 matching cases — narrow the search")
    view.search.setText("7GAR001")
    with qtbot.waitSignal(view.results, timeout=10000) as sig:
        view.run_search()
    assert sig.args == [3] and view.model.capped  # the plate's five cases: capped too
    view.search.setText("nobody")
    with qtbot.waitSignal(view.results, timeout=10000):
        view.run_search()
    assert not view.model.capped and view.count_label.text() == "No case matches this search."


def test_a_search_that_finds_nothing_clears_the_previous_case(qtbot, ui_ctx) -> None:
    """One match says "1 matching case" (not "cases"); then a search with no match empties the detail panel
    with a sentence instead of leaving the previous case's facts on screen."""
    _fill(ui_ctx.app, 2)
    target = add_citation(ui_ctx.app, number="HH0042-000999", plate="8ONE999")
    view = CasesView(ui_ctx)
    qtbot.addWidget(view)
    view.show()
    shown: list[int] = []
    view.detail.shown.connect(shown.append)
    view.search.setText("HH0042-000999")
    with qtbot.waitSignal(view.results, timeout=10000):
        view.run_search()
    assert view.count_label.text().startswith("1 matching case,")
    qtbot.waitUntil(lambda: target in shown, timeout=10000)
    view.search.setText("ZZZZZZZZ")
    with qtbot.waitSignal(view.results, timeout=10000):
        view.run_search()
    assert view.detail.detail is None
    assert "HH0042-000999" not in view.detail.header.text() and "No case matches" in view.detail.header.text()
    assert view.detail.ledger.rowCount() == 0 and view.detail.timeline.rowCount() == 0
    assert not view.detail.note_button.isEnabled()


def _estimating_model(ui_ctx, guess: int, counting_may_start) -> CaseTableModel:
    """A model over PAGE + 40 real cases whose estimate says ``guess``; the exact count waits for the event."""
    app, actor = ui_ctx.app, ui_ctx.actor
    _fill(app, PAGE + 40)

    def count(f):
        assert counting_may_start.wait(10)
        return cases.count_cases(app, actor, f)

    return CaseTableModel(ui_ctx.runner, CaseSource(count, lambda f, off, lim: cases.case_page(app, actor, f, off, lim),
                                                    estimate=lambda f: guess))


def test_an_estimated_count_too_low_grows_to_the_exact_one(qtbot, qtmodeltester, ui_ctx) -> None:
    counting = threading.Event()
    model = _estimating_model(ui_ctx, 100, counting)
    with qtbot.waitSignal(model.loaded, timeout=10000) as sig:
        model.set_filter(cases.CaseFilter())
    assert sig.args == [100] and model.estimated and model.rowCount() == 100
    with qtbot.waitSignal(model.counted, timeout=10000) as sig:
        counting.set()
    assert sig.args == [PAGE + 40] and not model.estimated and model.rowCount() == PAGE + 40
    assert model.index(PAGE + 39, 0).data() == "…"  # asks for its page
    qtbot.waitUntil(lambda: model.row_at(PAGE + 39) is not None, timeout=10000)
    assert model.index(PAGE + 39, CaseTableModel.CITATION).data() == "M-00000"  # the oldest, past the estimate
    qtmodeltester.check(model, force_py=True)


def test_an_estimated_count_too_high_ends_where_the_list_ends(qtbot, qtmodeltester, ui_ctx) -> None:
    counting = threading.Event()
    model = _estimating_model(ui_ctx, 5000, counting)
    with qtbot.waitSignal(model.loaded, timeout=10000):
        model.set_filter(cases.CaseFilter())
    assert model.estimated and model.rowCount() == 5000
    # the clerk scrolls down before the count comes: the short pages say where the list ends
    with qtbot.waitSignal(model.counted, timeout=10000):
        assert model.index(4000, 0).data() == "…"
    assert model.estimated and model.rowCount() == 15 * PAGE  # page 15 was empty: the end is before it
    while model.estimated:  # each empty page moves the end up a page, until a short one says where it is
        with qtbot.waitSignal(model.counted, timeout=10000) as sig:
            assert model.index(model.rowCount() - 1, 0).data() == "…"
    assert sig.args == [PAGE + 40] and model.rowCount() == PAGE + 40
    counting.set()  # the exact count, coming last, changes nothing
    qtbot.waitUntil(lambda: model.row_at(PAGE + 39) is not None, timeout=10000)
    assert model.rowCount() == PAGE + 40 and model.index(PAGE + 39, CaseTableModel.CITATION).data() == "M-00000"
    qtmodeltester.check(model, force_py=True)


def test_the_count_line_says_about_until_the_list_is_counted(qtbot, ui_ctx, monkeypatch) -> None:
    counting = threading.Event()
    _fill(ui_ctx.app, PAGE + 40)
    exact = cases.count_cases
    monkeypatch.setattr(cases, "estimate_cases", lambda app, actor, f: 1_200_000)

    def count(app, actor, f):
        assert counting.wait(10)
        return exact(app, actor, f)

    monkeypatch.setattr(cases, "count_cases", count)
    view = CasesView(ui_ctx)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.model.loaded, timeout=10000):
        view.model.refresh()
    qtbot.waitUntil(lambda: view.count_label.text().startswith("About"), timeout=10000)
    assert view.count_label.text() == "About 1,200,000 cases, newest first (counting…)"
    with qtbot.waitSignal(view.model.counted, timeout=10000):
        counting.set()
    assert view.count_label.text() == f"{PAGE + 40} cases, newest first"


def test_a_list_on_one_page_is_counted_by_its_page_whatever_the_estimate(qtbot, ui_ctx, monkeypatch) -> None:
    _fill(ui_ctx.app, 3)
    monkeypatch.setattr(cases, "estimate_cases", lambda app, actor, f: 1_200_000)
    view = CasesView(ui_ctx)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.model.loaded, timeout=10000) as sig:
        view.model.refresh()
    assert sig.args == [3] and not view.model.estimated and view.count_label.text() == "3 cases, newest first"


def test_count_and_first_page_are_asked_for_together_and_a_failure_is_told_once(qtbot, ui_ctx) -> None:
    both_running = threading.Barrier(2, timeout=10)

    def count(f):
        both_running.wait()  # returns only if the page is being fetched at the same time
        raise RuntimeError("the server closed the connection")

    def page(f, off, lim):
        both_running.wait()
        raise RuntimeError("the server closed the connection")

    model = CaseTableModel(ui_ctx.runner, CaseSource(count, page))
    told: list[BaseException] = []
    model.failed.connect(told.append)
    with qtbot.waitSignal(model.failed, timeout=10000):
        model.set_filter(cases.CaseFilter())
    assert ui_ctx.runner.pool.waitForDone(10000)
    qtbot.waitUntil(lambda: not ui_ctx.runner._tasks, timeout=10000)
    assert len(told) == 1 and "server closed" in str(told[0]) and model.rowCount() == 0


def _searched(qtbot, ui_ctx, text: str) -> tuple[CasesView, int]:
    """A Cases screen after Enter on ``text``, and the count its list was first shown with."""
    view = CasesView(ui_ctx)
    qtbot.addWidget(view)
    view.search.setText(text)
    with qtbot.waitSignal(view.model.loaded, timeout=10000) as sig:
        qtbot.keyClick(view.search, Qt.Key.Key_Return)
    return view, sig.args[0]


def test_a_text_search_shows_its_first_page_before_its_count(qtbot, ui_ctx, monkeypatch) -> None:
    """A text search is counted to 1,001 (19.6 ms for an owner's surname at a million on PostgreSQL, its first
    page 11.7 ms): a full first page is shown at once as "at least" its rows, and the count corrects it."""
    counting = threading.Event()
    _fill(ui_ctx.app, PAGE + 40)
    page = cases.case_page
    monkeypatch.setattr(cases, "case_page", lambda app, actor, f, off, lim: page(app, actor, cases.CaseFilter(), off, lim))

    def count(app, actor, f):
        assert counting.wait(10)
        return cases.SEARCH_COUNT_CAP + 1  # "more than 1,000"

    monkeypatch.setattr(cases, "count_cases", count)
    view, shown = _searched(qtbot, ui_ctx, "garcia")
    assert shown == PAGE and view.model.estimated and view.model.rowCount() == PAGE
    assert view.count_label.text().startswith(f"At least {PAGE} matching cases, ") and "(counting…)" in \
        view.count_label.text()
    with qtbot.waitSignal(view.model.counted, timeout=10000) as sig:
        counting.set()
    assert sig.args == [cases.SEARCH_COUNT_CAP] and view.model.capped and not view.model.estimated
    assert view.model.rowCount() == cases.SEARCH_COUNT_CAP
    assert view.count_label.text().startswith("More than 1,000 matching cases — narrow the search")


def test_a_text_search_with_a_short_first_page_needs_no_count(qtbot, ui_ctx, monkeypatch) -> None:
    _fill(ui_ctx.app, 3)
    never = threading.Event()

    def count(app, actor, f):
        never.wait(10)  # the count has not come when the list is shown
        return 3

    monkeypatch.setattr(cases, "count_cases", count)
    view, shown = _searched(qtbot, ui_ctx, "7AB0001")
    assert shown == 1 and not view.model.estimated and view.count_label.text().startswith("1 matching case")
    never.set()
