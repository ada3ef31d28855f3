"""A printed list's columns: each its share of the page by weight, except that a date or a date and time is never
cut, nor any column's heading (the payments list printed "2026-12-2…", "2026-12-…" and "Value d…" in its first
two columns, the case list "St…", "Warni…" and "On h…")."""

from __future__ import annotations

import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth

from desktop.services.lists import CASE_COLUMNS, PAYMENT_COLUMNS, REVIEW_COLUMNS
from reports.data import ColumnKind, TableColumn
from reports.tables import BODY_SIZE, FONT, FONT_BOLD, HEAD_SIZE, MARGIN, PAD, PAGE, column_widths

WIDTH = PAGE[0] - 2 * MARGIN


def need(text: str, heading: str) -> float:
    return max(stringWidth(text, FONT, BODY_SIZE), stringWidth(heading, FONT_BOLD, HEAD_SIZE)) + 2 * PAD


@pytest.mark.parametrize("columns", [PAYMENT_COLUMNS, CASE_COLUMNS, REVIEW_COLUMNS])
def test_dates_and_times_fit_and_the_page_is_filled(columns: tuple[TableColumn, ...]) -> None:
    widths = column_widths(columns, WIDTH)
    assert sum(widths) == pytest.approx(WIDTH)
    for column, width in zip(columns, widths, strict=True):
        assert width >= need("", column.title) - 1e-9, column.title
        if column.kind is ColumnKind.DATETIME:
            assert width >= need("2026-12-31 23:59", column.title) - 1e-9, column.title
        if column.kind is ColumnKind.DATE:
            assert width >= need("2026-12-31", column.title) - 1e-9, column.title


def test_the_other_columns_keep_their_weights_between_them() -> None:
    widths = column_widths(PAYMENT_COLUMNS, WIDTH)
    others = [(c.width, w) for c, w in zip(PAYMENT_COLUMNS, widths, strict=True)
              if c.kind not in (ColumnKind.DATE, ColumnKind.DATETIME) and w > need("", c.title) + 1e-9]
    ratios = {round(w / weight, 6) for weight, w in others}
    assert len(ratios) == 1


def test_a_list_of_more_dates_than_the_page_holds_is_shared_by_weight() -> None:
    columns = [TableColumn(f"D{i}", ColumnKind.DATETIME, 1.0) for i in range(12)]  # 12 x 80 pt on 720
    assert column_widths(columns, WIDTH) == pytest.approx([WIDTH / 12] * 12)
