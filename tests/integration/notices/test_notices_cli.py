"""`main.py notices`: run the due notices, confirm a batch, record returned mail; one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.persistence.models import Notice, NoticeBatch
from desktop.services.core.context import AppContext
from tests.helpers.notice_cases import mail_office, queue_case
from tests.helpers.signed_in import signed_in

PASSWORDS = {"admin": "admin-password-1", "mail": "mail-password-1", "clerk": "clerk-password-1"}


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppContext:
    data = tmp_path / "data"
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(data))
    monkeypatch.delenv("CURBDESK_DB", raising=False)
    return mail_office(data, clerk=True)


def test_due_confirm_returned(office: AppContext, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    main = signed_in(monkeypatch, PASSWORDS)
    for _ in range(3):
        queue_case(office)
    queue_case(office, owner_kwargs={"address_raw": "UNKNOWN"})
    out = tmp_path / "batches"
    assert main(["--as", "mail", "notices", "--due", "--out", str(out)]) == 0
    got = capsys.readouterr()
    line = got.out.strip()
    assert line.count("\n") == 0
    assert line.startswith("printed 3 pieces in 1 batch (3 pages), held 1: ") and str(out) in line
    assert "held notice 4" in got.err and "cannot be mailed" in got.err
    pdf = Path(line.split(": ", 1)[1])
    assert pdf.exists() and pdf.parent == out
    with office.db.reading() as s:
        batch_id = s.scalars(select(NoticeBatch.id)).one()
    # a clerk may not confirm mailing: one line, exit 2
    assert main(["--as", "clerk", "notices", "confirm", str(batch_id)]) == 2
    assert capsys.readouterr().err.startswith("error: clerk (clerk) may not confirm mailing")
    assert main(["--as", "mail", "notices", "confirm", str(batch_id), "--mailed-on", "2999-01-01"]) == 2
    assert "in the future" in capsys.readouterr().err
    assert main(["--as", "mail", "notices", "confirm", str(batch_id)]) == 0  # today, on the real clock
    assert capsys.readouterr().out.strip().startswith(f"batch {batch_id}: 3 pieces confirmed mailed on ")
    assert main(["--as", "mail", "notices", "confirm", str(batch_id)]) == 2
    assert "already confirmed" in capsys.readouterr().err
    assert main(["--as", "clerk", "notices", "returned", "1", "--reason", "Moved, left no address"]) == 0
    assert "recorded as returned" in capsys.readouterr().out
    with office.db.reading() as s:
        assert s.get(Notice, 1).status == "returned"  # type: ignore[union-attr]
    assert main(["notices", "log", "--status", "returned"]) == 0
    assert "returned" in capsys.readouterr().out
    # nothing due: still one line, exit 0
    assert main(["notices", "--due", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == "printed 0 pieces in 0 batches (0 pages), held 0"


def test_usage_errors_are_one_line(office: AppContext, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    main = signed_in(monkeypatch, PASSWORDS)
    assert main(["notices"]) == 2
    assert "notices --due" in capsys.readouterr().err
    assert main(["notices", "confirm", "99"]) == 2
    assert capsys.readouterr().err.strip() == "error: There is no print batch 99."
    with pytest.raises(SystemExit):
        main(["notices", "confirm", "1", "--mailed-on", "yesterday"])


def test_max_pieces_prints_the_oldest_and_says_how_many_wait(office: AppContext, capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    main = signed_in(monkeypatch, PASSWORDS)
    for _ in range(3):
        queue_case(office)
    out = tmp_path / "batches"
    assert main(["--as", "mail", "notices", "--due", "--out", str(out), "--max-pieces", "2"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("printed 2 pieces in 1 batch (2 pages), held 0, 1 more queued for the next run "
                           "(at most 2 pieces a run: mail.run_max_pieces): "), line
    with office.db.reading() as s:
        assert list(s.scalars(select(Notice.status).order_by(Notice.id))) == ["printed", "printed", "queued"]
