"""Notice runs and the mail log: print the queued pieces in batches, confirm the mailing, returned mail.

(Over 600 lines, knowingly: the run, the recovery of a killed run's files and the mail log share the batch
bookkeeping.)

The daily escalation queues `Notice` rows (status 'queued'); other areas queue letters the same way.
A run builds each piece's data (`notice_documents`), holds the ones that cannot go out (with the reason,
on the clerk's list), takes a block of mail-piece serials, renders the rest in batches (one PDF per
batch of `mail.batch_size`, by kind, presorted by ZIP+4) and records each batch when its PDF is complete:
a cancelled run leaves no partial PDF and no piece marked printed that is not in a finished batch.

On disk a batch is atomic with its row: the PDF is rendered under a hidden staging name in the batch
folder (`.<final name>.<host>-<pid>.staged`, flushed to disk), the batch row and its pieces are committed,
and only then does the file take its final name. A run killed at any point leaves either nothing under a
final name, or a staged file whose batch row is committed; the next run (`recover_leftovers`) finishes
the second (gives it its name: the pieces are not printed again) and deletes the first and any `.part`
file of a dead run (its pieces are still queued and print once, in that run).

A piece counts as mailed only when the operator confirms its batch was printed and posted
(`confirm_mailed`): that date starts the legal clocks (the escalation reads `Notice.mailed_at`).

Statuses of a piece: queued -> printed -> mailed -> returned; queued -> held (clerk's list) -> queued;
queued -> cancelled (the case closed before printing). Reprints are new pieces with `reprint_of` set.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desktop.domain import postal
from desktop.domain.errors import NotFound, UserError
from desktop.domain.lifecycle import CLOSED_STATES, CaseStatus
from desktop.domain.roles import Permission
from desktop.persistence.files import fsync_dir
from desktop.persistence.models import Citation, Hold, Notice, NoticeBatch, RegisteredOwner, Setting, User
from desktop.services.cases import steps as case_ops
from desktop.services.core import settings
from desktop.services.core.agency import require_identity
from desktop.services.core.clock import agency_zone
from desktop.services.core.context import Actor, AppContext, UnitOfWork
from desktop.services.core.printing import DocumentRenderer
from desktop.services.notices.documents import (
    DOCUMENT_KINDS,
    Held,
    PieceBuilder,
    PieceData,
    address_snapshot,
    batches_of,
    kind_label,
    load_cases,
    mailing_name,
)
from desktop.services.notices.print_copies import make_copies
from reports.data import BatchResult

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
Cancel = Callable[[], bool]

STATUSES = ("queued", "held", "printed", "mailed", "returned", "cancelled")
STATUS_LABELS = {"queued": "Due", "held": "Held", "printed": "Printed", "mailed": "Mailed",
                 "returned": "Returned", "cancelled": "Cancelled"}


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BatchInfo:
    batch_id: int
    path: Path
    kind: str
    profile_code: str
    pieces: int
    pages: int
    bytes_written: int


@dataclass(frozen=True)
class HeldPiece:
    notice_id: int
    citation_number: str
    kind: str
    reason: str
    cancelled: bool = False
    waiting: bool = False  # left queued until its legal date (not on the clerk's held list)


@dataclass
class RunResult:
    """What a notice run did."""

    batches: list[BatchInfo] = field(default_factory=list)
    held: list[HeldPiece] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # changed by someone else during the run: left as they are
    cancelled: bool = False
    seconds: float = 0.0
    render_seconds: float = 0.0
    #: what the run found of an interrupted run in the batch folder and did with it
    recovered: list[str] = field(default_factory=list)
    #: queued notices the run did not take because it had printed its most pieces (`mail.run_max_pieces`)
    left_queued: int = 0
    run_max_pieces: int = 0

    @property
    def printed(self) -> int:
        return sum(b.pieces for b in self.batches)

    @property
    def pages(self) -> int:
        return sum(b.pages for b in self.batches)

    @property
    def held_count(self) -> int:
        return sum(1 for h in self.held if not h.cancelled and not h.waiting)

    @property
    def waiting_count(self) -> int:
        return sum(1 for h in self.held if h.waiting)

    @property
    def cancelled_count(self) -> int:
        return sum(1 for h in self.held if h.cancelled)

    def summary(self) -> str:
        """One line for the command line and the status bar."""
        head = "cancelled: " if self.cancelled else ""
        text = (f"{head}printed {self.printed:,} piece{'s' if self.printed != 1 else ''} in "
                f"{len(self.batches)} batch{'es' if len(self.batches) != 1 else ''} ({self.pages:,} pages), "
                f"held {self.held_count:,}")
        if self.cancelled_count:
            text += f", withdrawn {self.cancelled_count:,} (case closed)"
        if self.waiting_count:
            text += f", {self.waiting_count:,} waiting for their legal date"
        if self.skipped:
            text += f", left {len(self.skipped):,} changed by someone else"
        if self.left_queued:
            text += (f", {self.left_queued:,} more queued for the next run (at most {self.run_max_pieces:,} "
                     f"pieces a run: mail.run_max_pieces)")
        if self.batches:
            text += ": " + ", ".join(str(b.path) for b in self.batches)
        if self.recovered:
            text += f" (interrupted run before: {'; '.join(self.recovered)})"
        return text


# --------------------------------------------------------------------------- serials


SERIAL_KEY = "mail.next_serial"


def reserve_serials(uow: UnitOfWork, count: int) -> int:
    """Take `count` consecutive mail-piece serials; returns the first.

    The counter is the `mail.next_serial` settings row, locked FOR UPDATE on PostgreSQL (SQLite writers
    are serialised already), so two workstations running notices at once never share a serial. It never
    goes below the highest serial already used. Serials of a cancelled run are simply not used (gaps are
    allowed: the IMb only asks that a serial is not reused within 45 days).
    """
    s = uow.session
    used = int(s.scalar(select(func.coalesce(func.max(Notice.serial), 0))) or 0)
    for _attempt in range(3):
        row = s.execute(select(Setting).where(Setting.key == SERIAL_KEY).with_for_update()).scalar_one_or_none()
        if row is not None:
            first = max(int(row.value or 1), used + 1)
            row.value = first + count
            s.flush()
            return first
        first = max(int(settings.SETTINGS[SERIAL_KEY].default), used + 1)
        try:
            with s.begin_nested():
                s.add(Setting(key=SERIAL_KEY, value=first + count))
            return first
        except IntegrityError:  # another run created the row at the same moment: lock it and retry
            continue
    raise UserError("Could not reserve mail-piece serial numbers; try the run again.")


# --------------------------------------------------------------------------- the run


def _agency_tz(session: Session) -> ZoneInfo:
    return agency_zone(session)


#: queued notices read into memory at a time while a run prepares its pieces
PREP_CHUNK = 2000


def _noop_progress(_done: int, _total: int, _text: str) -> None:
    return None


def _never() -> bool:
    return False


def run_notices(app: AppContext, actor: Actor, out_dir: str | os.PathLike[str] | None = None,
                progress: Progress | None = None, cancel: Cancel | None = None, *,
                notice_ids: Sequence[int] | None = None, batch_size: int | None = None,
                workers: int | None = None, max_pieces: int | None = None) -> RunResult:
    """Print the queued pieces (or only `notice_ids`) as batches; see the module docstring.

    At most `max_pieces` pieces are printed (None: the `mail.run_max_pieces` setting; 0: no limit), the
    oldest queued first; the rest stay queued for the next run (`RunResult.left_queued`). Pieces held or
    waiting for their legal date do not count against it.

    `progress(done, total, text)` reports the phase; `cancel()` is polled between pieces. Large runs
    (`mail.parallel_min_pieces` notices or more, in two batches or more) render on several processes
    (`workers`, or the `mail.render_processes` setting, 0 = one per CPU core).
    """
    note = progress or _noop_progress
    stop = cancel or _never
    started = clock.perf_counter()
    result = RunResult()
    with app.reader(actor, Permission.RUN_NOTICES) as uow:
        s = uow.session
        q = select(Notice.id).where(Notice.status == "queued")
        if notice_ids is not None:
            q = q.where(Notice.id.in_(list(notice_ids)))
        queued_ids = list(s.scalars(q.order_by(Notice.queued_at, Notice.id)))
        size = int(batch_size or settings.get(s, "mail.batch_size"))
        if size < 1:
            raise UserError("mail.batch_size must be at least 1.")
        limit = int(max_pieces if max_pieces is not None else settings.get(s, "mail.run_max_pieces"))
        if limit < 0:
            raise UserError("mail.run_max_pieces must be 0 (no limit) or more.")
        if notice_ids is not None:
            limit = 0  # the pieces asked for by id (a reprint) are printed whatever the limit
        parallel_min = int(settings.get(s, "mail.parallel_min_pieces"))
        processes = int(workers if workers is not None else settings.get(s, "mail.render_processes"))
        out = Path(os.path.abspath(out_dir or settings.get(s, "mail.out_dir") or app.paths.print_dir / "batches"))
        tz = _agency_tz(s)
        batch_file_mode(s)  # a wrong setting stops the run before anything is printed
        result.recovered = recover_leftovers(uow.session, out)
        if not queued_ids:
            result.seconds = clock.perf_counter() - started
            return result
        total = min(len(queued_ids), limit) if limit else len(queued_ids)
        note(0, total, "Preparing the notices…")
        builder = PieceBuilder(s, app.paths, app.now(), app.renderer)
        pieces: list[PieceData] = []
        held: list[tuple[Notice, Held]] = []
        numbers: dict[int, str] = {}
        identified: set[str] = set()
        considered = 0
        # The queue is read PREP_CHUNK notices at a time (the cases of a chunk, then the next), so a run over a
        # city's backlog holds one chunk's rows, not half a million; the run stops taking notices once it has
        # ``limit`` pieces to print.
        for start in range(0, len(queued_ids), PREP_CHUNK):
            if limit and len(pieces) >= limit:
                break
            queued = list(s.scalars(select(Notice).where(Notice.id.in_(queued_ids[start:start + PREP_CHUNK]),
                                                         Notice.status == "queued")
                                    .order_by(Notice.queued_at, Notice.id)))
            cases = load_cases(s, [n.citation_id for n in queued])
            for code in sorted({c.citation.profile_code.upper() for c in cases.values()} - identified):
                require_identity(s, code)  # nothing printed under a profile without its own issuing authority
                identified.add(code)
            _prefetch_photos(builder, [cases[n.citation_id] for n in queued
                                       if n.citation_id in cases and n.kind in DOCUMENT_KINDS
                                       and DOCUMENT_KINDS[n.kind].is_notice], note, stop)
            for n in queued:
                if limit and len(pieces) >= limit:
                    break
                if considered % 50 == 0:
                    if stop():
                        result.cancelled = True
                        result.seconds = clock.perf_counter() - started
                        return result
                    note(min(considered, total), total, f"Preparing the notices… {considered:,} of {total:,}")
                considered += 1
                got = builder.build(n, cases.get(n.citation_id))
                if not isinstance(got, Held):
                    misfit = app.renderer.layout_problem(got.data)  # an address too long for the window
                    if misfit is not None:
                        got = Held(misfit)
                if isinstance(got, Held):
                    held.append((n, got))
                else:
                    pieces.append(got)
            numbers.update({cid: c.citation.citation_number for cid, c in cases.items()})
        if limit and len(pieces) >= limit:
            result.left_queued = len(queued_ids) - considered
            result.run_max_pieces = limit
    if stop():
        result.cancelled = True
        result.seconds = clock.perf_counter() - started
        return result

    if held:
        _record_holds(app, actor, held, numbers, result)
    if not pieces:
        result.seconds = clock.perf_counter() - started
        return result
    with app.uow(actor, Permission.RUN_NOTICES) as wuow:
        first = reserve_serials(wuow, len(pieces))
        wuow.commit()
    pieces = [replace(p, serial=first + k, data=replace(p.data, mail=builder.mail.piece(first + k)))
              for k, p in enumerate(pieces)]
    batches = batches_of(pieces, size)
    stamp = app.now().astimezone(tz).strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(batch, _batch_path(out, stamp, batch, k + 1)) for k, batch in enumerate(batches)]
    render_started = clock.perf_counter()
    notice_jobs = [j for j in jobs if j[0][0].is_notice]
    letter_jobs = [j for j in jobs if not j[0][0].is_notice]
    total = len(pieces)
    done = [0]
    use_processes = (processes != 1 and len(notice_jobs) > 1
                     and sum(len(b) for b, _ in notice_jobs) >= parallel_min)
    if use_processes:
        _render_parallel(app, actor, notice_jobs, processes or None, result, note, stop, done, total)
    else:
        for batch, path in notice_jobs:
            if result.cancelled or not _render_and_record(app, actor, batch, path, result, note, stop, done, total):
                result.cancelled = True
                break
    if not result.cancelled:
        for batch, path in letter_jobs:
            if not _render_and_record(app, actor, batch, path, result, note, stop, done, total):
                result.cancelled = True
                break
    result.render_seconds = clock.perf_counter() - render_started
    result.seconds = clock.perf_counter() - started
    note(total, total, result.summary())
    log.info("notice run by %s: %s", actor.username, result.summary())
    return result


def _prefetch_photos(builder: PieceBuilder, cases: Sequence[Any], note: Progress, stop: Cancel) -> None:
    """Make the print copies the daily run has not made yet (see `notices.print_copies`)."""
    make_copies(builder.photos, [c.photo.sha256 for c in cases if c.photo is not None], note, stop)


def _batch_path(out: Path, stamp: str, batch: Sequence[PieceData], number: int) -> Path:
    """The batch's final file name; its first serial (reserved for this run alone) keeps the names of two
    runs printing into one folder at the same second apart."""
    first = batch[0]
    base = f"{stamp}-{first.kind}-{first.profile_code}-{number:03d}-s{first.serial or 0}"
    path = out / f"{base}.pdf"
    n = 2
    while path.exists():
        path = out / f"{base}-{n}.pdf"
        n += 1
    return path


# --------------------------------------------------------------------------- staging on disk


STAGED_SUFFIX = ".staged"
_STAGED = re.compile(r"^\.(?P<final>.+\.pdf)\.(?P<host>[A-Za-z0-9_-]*)-(?P<pid>\d+)\.staged"
                     r"(?P<part>\..+\.part)?$")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:40]


def staged_path(final: Path) -> Path:
    """Where a batch is rendered before its row is committed: hidden, never a `.pdf`, naming the
    workstation and process that writes it (so a later run knows whether its writer is still alive)."""
    return final.with_name(f".{final.name}.{_host()}-{os.getpid()}{STAGED_SUFFIX}")


def _writer_alive(host: str, pid: int) -> bool:
    """Whether the process that staged a file may still be running (always True for another host's)."""
    if host != _host():
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def batch_file_mode(session: Session) -> int:
    """The permissions a batch file gets (`mail.file_mode`, octal): readable by the print server's group
    (0640) rather than the owner alone; UserError for a value that is not a sensible file mode."""
    raw = str(settings.get(session, "mail.file_mode")).strip()
    try:
        mode = int(raw, 8)
    except ValueError:
        mode = -1
    if not (0o400 <= mode <= 0o666 and mode & 0o400):
        raise UserError(f"mail.file_mode '{raw}' is not a file mode: give an octal mode the owner can read, "
                        f"such as 0640 (owner read/write, group read) or 0644.")
    return mode


def publish(staged: Path, final: Path, mode: int | None = None) -> None:
    """Give a recorded batch its final name (never over another file) and its permissions (`mode`, see
    `batch_file_mode`), durably. Idempotent: when the staged file is gone and the final one is there,
    another run already did it."""
    if mode is not None and staged.exists():
        os.chmod(staged, mode)  # the final name is a hard link to the same file: it has them from the start
    try:
        os.link(staged, final)
    except FileExistsError:
        if not staged.exists():
            return
        raise
    except FileNotFoundError:
        if final.exists():
            return
        raise
    except OSError:  # file systems without hard links
        if final.exists():
            raise
        os.replace(staged, final)
    staged.unlink(missing_ok=True)
    fsync_dir(final.parent)


def recover_leftovers(session: Session, out: Path) -> list[str]:
    """Finish or clear what an interrupted run left in the batch folder (see the module docstring).

    A staged file whose batch row is committed takes its final name (its pieces are recorded as printed:
    they are not printed again); a staged or `.part` file of a process that is no longer running, without a
    row, is deleted (its pieces are still queued). Files of a run still going are left alone. Returns one
    line per thing done."""
    if not out.is_dir():
        return []
    done: list[str] = []
    removed = 0
    for leftover in sorted(out.iterdir()):
        m = _STAGED.match(leftover.name)
        if m is None:
            continue
        final = out / m["final"]
        alive = _writer_alive(m["host"], int(m["pid"]))
        if m["part"]:
            if not alive:
                leftover.unlink(missing_ok=True)
                removed += 1
            continue
        rows = [b for b in session.scalars(select(NoticeBatch).where(NoticeBatch.file_path.like(f"%{final.name}")))
                if b.file_path and os.path.abspath(b.file_path) == str(final)]
        if rows:
            if final.exists():
                leftover.unlink(missing_ok=True)
            else:
                publish(leftover, final, batch_file_mode(session))
                done.append(f"finished batch {rows[0].id} ({final.name})")
        elif not alive:
            leftover.unlink(missing_ok=True)
            removed += 1
    if removed:
        done.append(f"removed {removed} unfinished file{'s' if removed != 1 else ''}")
    for line in done:
        log.warning("notice run: %s in %s", line, out)
    return done


def _record_holds(app: AppContext, actor: Actor, held: list[tuple[Notice, Held]], numbers: dict[int, str],
                  result: RunResult) -> None:
    with app.uow(actor, Permission.RUN_NOTICES) as uow:
        for n, why in held:
            status = "cancelled" if why.cancel else "queued" if why.wait else "held"
            changed = uow.session.execute(
                update(Notice).where(Notice.id == n.id, Notice.status == "queued")
                .values(status=status, hold_reason=why.reason)
                .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
            if not changed:
                result.skipped.append(n.id)
                continue
            if why.wait and n.hold_reason == why.reason:
                pass  # waiting as before: audited when it first waited
            else:
                uow.audit(f"notice.{'waiting' if why.wait else status}", "citation", n.citation_id,
                          after={"notice": n.id, "kind": n.kind, "status": status}, reason=why.reason)
            result.held.append(HeldPiece(n.id, numbers.get(n.citation_id, ""), n.kind, why.reason, why.cancel,
                                         why.wait))
        uow.commit()


def _render_file(renderer: DocumentRenderer, batch: Sequence[PieceData], path: Path, note: Progress, stop: Cancel,
                 done: list[int], total: int) -> BatchResult:
    label = kind_label(batch[0].kind)

    def prog(k: int, _n: int) -> None:
        note(done[0] + k, total, f"Printing {label.lower()}s… {done[0] + k:,} of {total:,}")

    if batch[0].is_notice:
        return renderer.notice_batch([p.data for p in batch], staged_path(path), prog, stop)
    return renderer.letter_batch([(p.data, p.reprint) for p in batch], staged_path(path), prog, stop)


def _render_and_record(app: AppContext, actor: Actor, batch: list[PieceData], path: Path, result: RunResult,
                       note: Progress, stop: Cancel, done: list[int], total: int) -> bool:
    """Render one batch and record it; False when cancelled. Pieces changed meanwhile are left out."""
    for _attempt in range(3):
        rendered = _render_file(app.renderer, batch, path, note, stop, done, total)
        if rendered.cancelled:
            return False
        changed = _record_batch(app, actor, batch, rendered, path, result)
        if not changed:
            done[0] += len(batch)
            return True
        result.skipped.extend(changed)
        batch = [p for p in batch if p.notice_id not in set(changed)]
        if not batch:
            return True
    result.skipped.extend(p.notice_id for p in batch)
    return True


def _render_parallel(app: AppContext, actor: Actor, jobs: list[tuple[list[PieceData], Path]], workers: int | None,
                     result: RunResult, note: Progress, stop: Cancel, done: list[int], total: int) -> None:
    stopped = [False]

    def recorded(n: int, rendered: BatchResult) -> None:
        batch, path = jobs[n]
        if stopped[0]:
            if rendered.path is not None:
                _remove(Path(rendered.path))
            return
        changed = _record_batch(app, actor, batch, rendered, path, result)
        if changed:
            # Someone changed pieces of this batch meanwhile: print the rest again here, without them.
            result.skipped.extend(changed)
            rest = [p for p in batch if p.notice_id not in set(changed)]
            if rest:
                _render_and_record(app, actor, rest, path, result, note, _never, done, total)
            return
        done[0] += len(batch)
        note(done[0], total, f"Printing notices on {workers or os.cpu_count()} processes… {done[0]:,} of {total:,}")

    def cancelled() -> bool:
        if stop():
            stopped[0] = True
        return stopped[0]

    note(0, total, "Printing notices on several processes…")
    app.renderer.notice_batches_parallel([([p.data for p in batch], str(staged_path(path))) for batch, path in jobs],
                                         workers, recorded, cancelled)
    if stopped[0]:
        result.cancelled = True


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _record_batch(app: AppContext, actor: Actor, batch: Sequence[PieceData], rendered: BatchResult,
                  final: Path, result: RunResult) -> list[int]:
    """Record a complete batch PDF: the batch row and every piece 'printed' with its serial, in one commit;
    then the staged file takes its `final` name (a run killed in between leaves the staged file, which the
    next run names: see `recover_leftovers`).

    Returns the ids of pieces that are no longer queued (another run, or the escalation, changed them
    meanwhile); then nothing is recorded and the file is removed, and the caller prints the rest again.
    """
    assert rendered.path is not None, "a cancelled batch is never recorded"
    staged = Path(rendered.path)
    path = final
    ids = [p.notice_id for p in batch]
    try:
        with app.uow(actor, Permission.RUN_NOTICES) as uow:
            s = uow.session
            current = dict(s.execute(select(Notice.id, Notice.status).where(Notice.id.in_(ids))
                                     .with_for_update()).all())
            changed = [i for i in ids if current.get(i) != "queued"]
            if changed:
                _remove(staged)
                return changed
            row = NoticeBatch(created_at=app.now(), created_by=actor.user_id, file_path=str(path),
                              piece_count=len(batch), page_count=rendered.pages, status="rendered")
            s.add(row)
            s.flush()
            s.execute(update(Notice), [{"id": p.notice_id, "status": "printed", "batch_id": row.id,
                                        "serial": p.serial, "hold_reason": None} for p in batch])
            uow.audit("notice_batch.rendered", "notice_batch", row.id,
                      after={"file": str(path), "kind": batch[0].kind, "pieces": len(batch),
                             "pages": rendered.pages, "notices": ids,
                             "serials": [batch[0].serial, batch[-1].serial]})
            uow.commit()
    except BaseException:
        _remove(staged)
        raise
    with app.db.reading() as s:
        mode = batch_file_mode(s)
    publish(staged, path, mode)  # if this fails the row stands and the next run names the staged file
    result.batches.append(BatchInfo(row.id, path, batch[0].kind, batch[0].profile_code, len(batch),
                                    rendered.pages, rendered.bytes_written))
    return []


# --------------------------------------------------------------------------- after printing


@dataclass(frozen=True)
class ConfirmResult:
    batch_id: int
    pieces: int
    mailed_on: date


def confirm_mailed(app: AppContext, actor: Actor, batch_id: int, mailed_on: date | None = None) -> ConfirmResult:
    """The operator confirms the batch was printed and posted on `mailed_on` (default today).

    Each printed piece becomes 'mailed' with that date: the legal clocks run from it.
    """
    with app.uow(actor, Permission.CONFIRM_MAILING) as uow:
        s = uow.session
        batch = s.execute(select(NoticeBatch).where(NoticeBatch.id == batch_id).with_for_update()).scalar_one_or_none()
        if batch is None:
            raise NotFound(f"There is no print batch {batch_id}.")
        tz = _agency_tz(s)
        if batch.status == "mailed" and batch.mailed_at is not None:
            who = s.get(User, batch.confirmed_by) if batch.confirmed_by else None
            raise UserError(f"Batch {batch_id} was already confirmed as mailed on "
                            f"{batch.mailed_at.astimezone(tz):%Y-%m-%d}" + (f" by {who.full_name}." if who else "."))
        if batch.status != "rendered":
            raise UserError(f"Batch {batch_id} is {batch.status}; only a printed batch can be confirmed as mailed.")
        today = app.now().astimezone(tz).date()
        day = mailed_on or today
        if day > today:
            raise UserError(f"{day:%Y-%m-%d} is in the future: confirm a batch on or after the day it was posted.")
        printed_on = batch.created_at.astimezone(tz).date()
        if day < printed_on:
            raise UserError(f"Batch {batch_id} was printed on {printed_on:%Y-%m-%d}; it cannot have been mailed "
                            f"on {day:%Y-%m-%d}.")
        mailed_at = app.now() if day == today else datetime.combine(day, time(12), tzinfo=tz).astimezone(UTC)
        pieces = list(s.scalars(select(Notice).where(Notice.batch_id == batch_id, Notice.status == "printed")
                                .order_by(Notice.id)))
        for n in pieces:
            n.status = "mailed"
            n.mailed_at = mailed_at
            uow.audit("notice.mailed", "citation", n.citation_id,
                      after={"notice": n.id, "kind": n.kind, "stage": n.stage, "serial": n.serial,
                             "batch": batch_id, "mailed_on": day.isoformat(), "reprint_of": n.reprint_of})
        batch.status = "mailed"
        batch.mailed_at = mailed_at
        batch.confirmed_by = actor.user_id
        uow.audit("notice_batch.mailed", "notice_batch", batch_id,
                  after={"pieces": len(pieces), "mailed_on": day.isoformat()})
        uow.commit()
        return ConfirmResult(batch_id, len(pieces), day)


def cancel_batch(app: AppContext, actor: Actor, batch_id: int, reason: str) -> int:
    """A printed batch that will not be posted (spoiled, wrong paper): its pieces go back in the queue."""
    if not reason.strip():
        raise UserError("Say why the batch will not be mailed.")
    with app.uow(actor, Permission.RUN_NOTICES) as uow:
        s = uow.session
        batch = s.execute(select(NoticeBatch).where(NoticeBatch.id == batch_id).with_for_update()).scalar_one_or_none()
        if batch is None:
            raise NotFound(f"There is no print batch {batch_id}.")
        if batch.status != "rendered":
            raise UserError(f"Batch {batch_id} is {batch.status}: only a printed, unmailed batch can be withdrawn.")
        pieces = list(s.scalars(select(Notice).where(Notice.batch_id == batch_id, Notice.status == "printed")))
        for n in pieces:
            n.status = "queued"
            n.batch_id = None
            n.serial = None
        batch.status = "cancelled"
        uow.audit("notice_batch.cancelled", "notice_batch", batch_id,
                  after={"pieces": len(pieces), "notices": [n.id for n in pieces]}, reason=reason.strip())
        uow.commit()
        return len(pieces)


@dataclass(frozen=True)
class ReprintResult:
    notice_id: int
    run: RunResult | None


def reprint(app: AppContext, actor: Actor, notice_id: int, reason: str, *, render: bool = True,
            out_dir: str | os.PathLike[str] | None = None, progress: Progress | None = None,
            cancel: Cancel | None = None) -> ReprintResult:
    """A duplicate of a printed or mailed piece, marked REPRINT: a new piece with `reprint_of` set.

    It goes to the case's current registered owner (the address may have been corrected since) and is
    printed at once when `render` (else with the next run). Mailing a reprint starts no clock.
    """
    if not reason.strip():
        raise UserError("Say why the notice is reprinted (for the audit trail).")
    with app.uow(actor, Permission.RUN_NOTICES) as uow:
        s = uow.session
        orig = s.get(Notice, notice_id)
        if orig is None:
            raise NotFound(f"There is no notice {notice_id}.")
        if orig.status not in ("printed", "mailed", "returned"):
            raise UserError(f"Notice {notice_id} is {STATUS_LABELS.get(orig.status, orig.status).lower()}: only a "
                            f"printed or mailed piece can be reprinted.")
        case = s.get(Citation, orig.citation_id)
        owner = s.get(RegisteredOwner, case.owner_id) if case is not None and case.owner_id else None
        piece = Notice(citation_id=orig.citation_id, kind=orig.kind, stage=orig.stage, status="queued",
                       queued_at=app.now(), reprint_of=orig.reprint_of or orig.id,
                       owner_id=owner.id if owner is not None else orig.owner_id,
                       address_snapshot=address_snapshot(owner) if owner is not None else orig.address_snapshot)
        s.add(piece)
        s.flush()
        uow.audit("notice.reprint_requested", "citation", orig.citation_id,
                  after={"notice": piece.id, "reprint_of": piece.reprint_of, "kind": orig.kind}, reason=reason.strip())
        uow.commit()
        new_id = piece.id
    run = run_notices(app, actor, out_dir, progress, cancel, notice_ids=[new_id]) if render else None
    return ReprintResult(new_id, run)


@dataclass(frozen=True)
class ReturnedResult:
    notice_id: int
    owner_id: int | None
    held_pieces: int


def record_returned(app: AppContext, actor: Actor, notice_id: int, reason: str) -> ReturnedResult:
    """A mailed piece came back: the address is bad, further pieces to it wait, the case needs a new owner
    lookup (a 'returned_mail' hold, which also pauses the case's clocks until the lookup)."""
    if not reason.strip():
        raise UserError("Give the reason the post office marked on the piece (e.g. 'Moved, left no address').")
    reason = reason.strip()
    with app.uow(actor, Permission.RECORD_RETURNED_MAIL) as uow:
        s = uow.session
        n = s.execute(select(Notice).where(Notice.id == notice_id).with_for_update()).scalar_one_or_none()
        if n is None:
            raise NotFound(f"There is no notice {notice_id}.")
        if n.status == "returned":
            raise UserError(f"Notice {notice_id} was already recorded as returned.")
        if n.status != "mailed":
            raise UserError(f"Notice {notice_id} is {STATUS_LABELS.get(n.status, n.status).lower()}: only a mailed "
                            f"piece can come back.")
        tz = _agency_tz(s)
        now = app.now()
        n.status = "returned"
        n.returned_at = now
        n.return_reason = reason
        case = case_ops.load_case(uow, n.citation_id)
        owner_id = n.owner_id or case.owner_id
        why = f"Mail returned {now.astimezone(tz):%Y-%m-%d}: {reason}; a new owner lookup is needed."
        held = 0
        if owner_id is not None:
            owner = s.get(RegisteredOwner, owner_id)
            if owner is not None:
                before = owner.address_status
                owner.address_status = "bad"
                owner.address_problem = f"Mail returned {now.astimezone(tz):%Y-%m-%d}: {reason}"
                uow.audit("owner.address_bad", "registered_owner", owner.id,
                          before={"address_status": before}, after={"address_status": "bad"}, reason=reason)
        targets = [Notice.citation_id == case.id]
        if owner_id is not None:
            targets.append(Notice.owner_id == owner_id)
        for other in s.scalars(select(Notice).where(Notice.status == "queued", or_(*targets))):
            other.status = "held"
            other.hold_reason = why
            held += 1
            uow.audit("notice.held", "citation", other.citation_id, after={"notice": other.id}, reason=why)
        if CaseStatus(case.status) not in CLOSED_STATES and not any(
                h.kind == "returned_mail" for h in case_ops.active_holds(uow, case.id)):
            case_ops.place_hold(uow, case, "returned_mail", why)
        uow.audit("notice.returned", "citation", case.id,
                  after={"notice": notice_id, "owner": owner_id, "held_pieces": held}, reason=reason)
        uow.commit()
        return ReturnedResult(notice_id, owner_id, held)


def release_held(app: AppContext, actor: Actor, notice_id: int) -> None:
    """Put a held piece back in the queue once its problem is fixed (the next run checks it again)."""
    with app.uow(actor, Permission.EDIT_CASES) as uow:
        s = uow.session
        n = s.execute(select(Notice).where(Notice.id == notice_id).with_for_update()).scalar_one_or_none()
        if n is None:
            raise NotFound(f"There is no notice {notice_id}.")
        if n.status != "held":
            raise UserError(f"Notice {notice_id} is not held.")
        case = s.get(Citation, n.citation_id)
        owner = s.get(RegisteredOwner, case.owner_id) if case is not None and case.owner_id else None
        if owner is not None:
            n.owner_id = owner.id
            n.address_snapshot = address_snapshot(owner)
        before = n.hold_reason
        n.status = "queued"
        n.hold_reason = None
        uow.audit("notice.requeued", "citation", n.citation_id, before={"hold_reason": before},
                  after={"notice": n.id})
        uow.commit()


# --------------------------------------------------------------------------- the screens' queries


@dataclass(frozen=True)
class DueRow:
    kind: str
    label: str
    count: int
    oldest: datetime | None


def due_summary(app: AppContext, actor: Actor) -> list[DueRow]:
    """The queued pieces by kind."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        rows = uow.session.execute(select(Notice.kind, func.count(), func.min(Notice.queued_at))
                                   .where(Notice.status == "queued").group_by(Notice.kind)).all()
    return sorted((DueRow(k, kind_label(k), int(c), o) for k, c, o in rows), key=lambda r: r.label)


@dataclass(frozen=True)
class ClerkRow:
    """One line of the clerk's list: a held piece, or a case waiting for a new owner lookup."""

    citation_id: int
    citation_number: str
    plate: str
    owner_name: str
    reason: str
    since: datetime | None
    notice_id: int | None = None
    kind: str = ""


def held_notices(app: AppContext, actor: Actor, limit: int = 1000) -> list[ClerkRow]:
    """Held pieces with their reasons, oldest first."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        rows = uow.session.execute(
            select(Notice, Citation.citation_number, Citation.plate, RegisteredOwner.name)
            .join(Citation, Citation.id == Notice.citation_id)
            .outerjoin(RegisteredOwner, RegisteredOwner.id == Citation.owner_id)
            .where(Notice.status == "held").order_by(Notice.queued_at, Notice.id).limit(limit)).all()
    return [ClerkRow(n.citation_id, number, plate, mailing_name(owner or (n.address_snapshot or {}).get("name", "")),
                     n.hold_reason or "", n.queued_at, n.id, n.kind) for n, number, plate, owner in rows]


def cases_needing_owner_lookup(app: AppContext, actor: Actor, limit: int = 1000) -> list[ClerkRow]:
    """Cases whose mail came back (an active 'returned_mail' hold) or whose owner address is marked bad
    with pieces still to send: the clerk looks the owner up again."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        rows = s.execute(
            select(Hold, Citation.citation_number, Citation.plate, RegisteredOwner.name)
            .join(Citation, Citation.id == Hold.citation_id)
            .outerjoin(RegisteredOwner, RegisteredOwner.id == Citation.owner_id)
            .where(Hold.kind == "returned_mail", Hold.ended_at.is_(None))
            .order_by(Hold.started_at).limit(limit)).all()
        out = [ClerkRow(h.citation_id, number, plate, mailing_name(owner or ""), h.reason, h.started_at)
               for h, number, plate, owner in rows]
        seen = {r.citation_id for r in out}
        more = s.execute(
            select(Citation.id, Citation.citation_number, Citation.plate, RegisteredOwner.name,
                   RegisteredOwner.address_problem, func.min(Notice.queued_at))
            .join(Notice, Notice.citation_id == Citation.id)
            .join(RegisteredOwner, RegisteredOwner.id == Citation.owner_id)
            .where(Notice.status == "held", RegisteredOwner.address_status == "bad")
            .group_by(Citation.id, Citation.citation_number, Citation.plate, RegisteredOwner.name,
                      RegisteredOwner.address_problem).limit(limit)).all()
        for cid, number, plate, owner, problem, since in more:
            if cid not in seen:
                out.append(ClerkRow(cid, number, plate, mailing_name(owner or ""), problem or "Address marked bad",
                                    since))
    return out


@dataclass(frozen=True)
class BatchRow:
    id: int
    created_at: datetime
    created_by: str
    kinds: str
    pieces: int
    pages: int
    status: str
    mailed_at: datetime | None
    confirmed_by: str
    file_path: str


def batch_list(app: AppContext, actor: Actor, limit: int = 200) -> list[BatchRow]:
    """The newest print batches first."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        s = uow.session
        batches = list(s.scalars(select(NoticeBatch).order_by(NoticeBatch.id.desc()).limit(limit)))
        ids = [b.id for b in batches]
        kinds: dict[int, set[str]] = {}
        for bid, kind in s.execute(select(Notice.batch_id, Notice.kind).where(Notice.batch_id.in_(ids)).distinct()):
            if bid is not None:
                kinds.setdefault(bid, set()).add(kind)
        users = dict(s.execute(select(User.id, User.username)).all())
    return [BatchRow(b.id, b.created_at, users.get(b.created_by or -1, "system"),
                     ", ".join(sorted(kind_label(k) for k in kinds.get(b.id, set()))), b.piece_count, b.page_count,
                     b.status, b.mailed_at, users.get(b.confirmed_by or -1, ""), b.file_path or "")
            for b in batches]


@dataclass(frozen=True)
class MailLogFilter:
    text: str = ""  # citation number, plate, serial or notice id
    status: str = ""
    kind: str = ""
    batch_id: int | None = None


@dataclass(frozen=True)
class MailLogRow:
    id: int
    citation_id: int
    citation_number: str
    kind: str
    status: str
    batch_id: int | None
    serial: int | None
    recipient: str
    zip_code: str
    queued_at: datetime
    printed_at: datetime | None
    mailed_at: datetime | None
    returned_at: datetime | None
    note: str  # hold or return reason
    reprint_of: int | None


def _log_query(f: MailLogFilter) -> Any:
    q = (select(Notice, Citation.citation_number, NoticeBatch.created_at)
         .join(Citation, Citation.id == Notice.citation_id)
         .outerjoin(NoticeBatch, NoticeBatch.id == Notice.batch_id))
    if f.status:
        q = q.where(Notice.status == f.status)
    if f.kind:
        q = q.where(Notice.kind == f.kind)
    if f.batch_id is not None:
        q = q.where(Notice.batch_id == f.batch_id)
    text = f.text.strip()
    if text:
        terms = [Citation.citation_number == text, Citation.plate == text.upper().replace(" ", "")]
        if text.isdigit():
            terms += [Notice.serial == int(text), Notice.id == int(text)]
        q = q.where(or_(*terms))
    return q


def count_mail_log(app: AppContext, actor: Actor, f: MailLogFilter) -> int:
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(_log_query(f).subquery())) or 0)


def mail_log(app: AppContext, actor: Actor, f: MailLogFilter, offset: int = 0, limit: int = 256) -> list[MailLogRow]:
    """Every piece, newest first: status, batch, serial, recipient and dates."""
    with app.reader(actor, Permission.VIEW_CASES) as uow:
        rows = uow.session.execute(_log_query(f).order_by(Notice.id.desc()).offset(offset).limit(limit)).all()
    out = []
    for n, number, printed_at in rows:
        snap = n.address_snapshot or {}
        out.append(MailLogRow(n.id, n.citation_id, number, n.kind, n.status, n.batch_id, n.serial,
                              mailing_name(str(snap.get("name", ""))),
                              str(snap.get("zip") or snap.get("postcode") or postal.postcode_in(snap.get("lines") or [])),
                              n.queued_at, printed_at, n.mailed_at, n.returned_at,
                              n.return_reason or n.hold_reason or "", n.reprint_of))
    return out
