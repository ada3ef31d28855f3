"""Print copies of evidence photos, made ahead of the notice run (a step of the daily run).

A notice prints its case's main photo from a small grey copy (`PhotoDerivatives`: 600 px, one channel,
checked against the original's digest). Every real notice run is a first run for its new citations, so
making those copies inside the run put a decode of every new photo on the mail office's critical path:
1,205 copies took 32 of the 37 seconds of a 1,188-page run. The daily run now makes them right after the
escalation has queued the day's notices (`make_print_copies`), on a few threads (Pillow releases the
GIL while it decodes and encodes); the notice run makes only what is still missing (a piece queued after
the daily run, a copy deleted), the same way (`make_copies`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import aliased

from desktop.domain.roles import Permission
from desktop.persistence.models import EvidencePhoto, Notice
from desktop.services.core.context import Actor, AppContext
from desktop.services.notices.documents import DOCUMENT_KINDS, Held, PhotoDerivatives

Progress = Callable[[int, int, str], None]
Cancel = Callable[[], bool]


@dataclass
class CopiesResult:
    """What one pass made: copies made, photos that cannot be printed (their notices will be held)."""

    made: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        head = f"{self.made:,} print cop{'y' if self.made == 1 else 'ies'} of new evidence photos made"
        return [head + (f", {len(self.failed):,} photos cannot be printed" if self.failed else ".")] + self.failed[:20]


def make_copies(derivatives: PhotoDerivatives, shas: Sequence[str], progress: Progress | None = None,
                cancel: Cancel | None = None, threads: int | None = None) -> CopiesResult:
    """Make the missing copies of `shas` on a few threads; a damaged photo is reported, not raised."""
    result = CopiesResult()
    todo = sorted(s for s in set(shas) if not derivatives.path_for(s).exists())  # each photo looked for once
    if not todo:
        return result

    def one(sha: str) -> None:
        if cancel is not None and cancel():
            return
        got = derivatives.ensure(sha)
        if isinstance(got, Held):
            result.failed.append(got.reason)
        else:
            result.made += 1
        if progress is not None and result.made % 20 == 0:
            progress(result.made, len(todo), f"Making print copies of the photos… {result.made:,} of {len(todo):,}")

    with ThreadPoolExecutor(max_workers=threads or max(1, min(8, os.cpu_count() or 1))) as pool:
        list(pool.map(one, todo))
    return result


def make_print_copies(app: AppContext, actor: Actor, progress: Progress | None = None,
                      cancel: Cancel | None = None) -> CopiesResult:
    """The print copies of the main photo of every case with a notice queued, where none exists yet."""
    started = time.perf_counter()
    notice_kinds = [k for k, dk in DOCUMENT_KINDS.items() if dk.is_notice]
    # The distinct main photos (the notice prints the case's first photo) of the cases with a notice queued, found
    # by the database: at go-live half a million notices wait for the print runs, and reading every photo row of
    # their cases into Python, then looking for each one's copy on disk, took 4.8 s of a settled daily run.
    first = aliased(EvidencePhoto)
    main_photo = (select(first.id).where(first.citation_id == Notice.citation_id)
                  .order_by(first.position, first.id).limit(1).correlate(Notice).scalar_subquery())
    queued = select(main_photo).where(Notice.status == "queued", Notice.kind.in_(notice_kinds))
    with app.reader(actor, Permission.RUN_NOTICES) as uow:
        shas = list(uow.session.scalars(select(EvidencePhoto.sha256).where(EvidencePhoto.id.in_(queued)).distinct()))
    result = make_copies(PhotoDerivatives(app.paths, app.renderer), shas, progress, cancel)
    result.seconds = time.perf_counter() - started
    return result
