"""What was sent: the pages of one mailed piece, cut from the print batch it was printed in, so a clerk on
the phone sees exactly what the motorist received (the batch file is the record of what was printed; a piece
is never rendered again for this, since today's data could differ from the day it was printed).

A notice batch holds one page per piece, in serial order; a letter batch holds each letter from a new sheet,
found by its citation number. A missing or unreadable batch file is one sentence, never a guess.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from desktop.domain.errors import NotFound, UserError
from desktop.domain.roles import Permission
from desktop.persistence.models import Citation, Notice, NoticeBatch
from desktop.services.core.context import Actor, AppContext
from desktop.services.notices.documents import kind_label


@dataclass(frozen=True)
class SentPiece:
    """One piece's pages as their own PDF (under the data folder's documents), and where they came from."""

    notice_id: int
    path: Path
    pages: int
    title: str
    source: str


def sent_piece(app: AppContext, actor: Actor, notice_id: int) -> SentPiece:
    """The pages of notice `notice_id` as printed, written to ``documents/sent/notice-<id>.pdf``."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        notice = s.get(Notice, notice_id)
        if notice is None:
            raise NotFound(f"There is no notice {notice_id}.")
        what = kind_label(notice.kind)
        if notice.batch_id is None:
            raise UserError(f"This {what.lower()} has not been printed yet ({notice.status.replace('_', ' ')}): "
                            "there is nothing sent to show.")
        batch = s.get_one(NoticeBatch, notice.batch_id)
        number = s.scalar(select(Citation.citation_number).where(Citation.id == notice.citation_id)) or ""
        order = list(s.execute(select(Notice.id, Notice.citation_id).where(Notice.batch_id == batch.id)
                               .order_by(Notice.serial, Notice.id)))
        position = [nid for nid, _c in order].index(notice.id)
        same_case_before = sum(1 for nid, cid in order[:position] if cid == notice.citation_id)
        path = Path(batch.file_path or "")
        piece_count = batch.piece_count
        created = batch.created_at
    if not batch.file_path or not path.is_file():
        raise UserError(f"The print batch of this {what.lower()} (batch {batch.id}) is no longer at {path}: "
                        "ask the mail office for its copy.")
    from pypdf import PdfReader, PdfWriter  # lazy: pypdf costs 66 ms; only this preview and the packets need it
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        total = len(reader.pages)
        if total == piece_count:  # a notice batch: one page per piece, in serial order
            pages = [position]
        else:  # a letter batch: this letter's pages are those naming its citation, from its first page on
            pages = _letter_pages(reader, number, same_case_before)
        if not pages:
            raise UserError(f"The print batch {path.name} has no page for citation {number}: ask the mail office "
                            "for its copy.")
        writer = PdfWriter()
        for p in pages:
            writer.add_page(reader.pages[p])
        buffer = io.BytesIO()
        writer.write(buffer)
    except PdfReadError as exc:
        raise UserError(f"The print batch {path.name} cannot be read ({exc}); ask the mail office for its "
                        "copy.") from None
    out = app.paths.documents_dir / "sent" / f"notice-{notice_id}.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(out)
    first, last = pages[0] + 1, pages[-1] + 1
    where = f"page {first}" if first == last else f"pages {first}–{last}"
    return SentPiece(notice_id, out, len(pages), f"{what} for {number}",
                     f"as printed in batch {batch.id} ({path.name}, {where}) on {created:%Y-%m-%d}")


def _letter_pages(reader: object, number: str, skip: int) -> list[int]:
    """The run of pages of the (skip+1)-th letter about citation `number` in a letter batch."""
    pages: list[int] = []
    runs = 0
    inside = False
    for i, page in enumerate(reader.pages):  # type: ignore[attr-defined]
        has = bool(number) and number in (page.extract_text() or "")
        if has and not inside:
            runs += 1
            inside = True
        elif not has:
            inside = False
        if has and runs == skip + 1:
            pages.append(i)
        elif runs > skip + 1:
            break
    return pages
