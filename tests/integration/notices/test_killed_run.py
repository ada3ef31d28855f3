"""Issue 14, finding 7: a notice run killed with SIGKILL at any point, then run again, prints every piece
exactly once. A batch file appears under its final name only after its batch row is committed; what a
killed run leaves (`.part` files, staged batches) is finished or removed by the next run and is never
taken for a finished batch.

The runs are real `main.py notices --due` processes; each test waits until the file it wants to kill at
appears (polling the folder while waiting on the process), then sends SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from desktop.persistence.models import Notice, NoticeBatch
from desktop.services.admin import users
from desktop.services.core import settings
from desktop.services.core.context import AppContext
from desktop.services.notices import runs as nr
from tests.helpers.notice_cases import mail_office, queue_case

ROOT = Path(__file__).resolve().parents[3]
PIECES = 36
BATCH = 6


@pytest.fixture
def office(tmp_path: Path) -> AppContext:
    app = mail_office(tmp_path / "data")
    admin = users.actor_for(app, "admin")
    settings.set_value(app, admin, "mail.batch_size", BATCH)
    for i in range(PIECES):
        queue_case(app, photo=(i % 6 == 0))
    return app


def start_run(app: AppContext, out: Path) -> subprocess.Popen[bytes]:
    """A real `main.py notices --due` in its own session (its output in files: worker processes of a
    killed parallel run would hold pipes open)."""
    env = dict(os.environ, CURBDESK_DATA_DIR=str(app.paths.data_dir), CURBDESK_PASSWORD="mail-password-1",
               QT_QPA_PLATFORM="offscreen")
    env.pop("CURBDESK_DB", None)
    logs = out.parent / "logs"
    logs.mkdir(exist_ok=True)
    n = len(list(logs.iterdir()))
    with open(logs / f"{n}.out", "wb") as stdout, open(logs / f"{n}.err", "wb") as stderr:
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--as", "mail", "notices", "--due",
                                 "--out", str(out)], cwd=ROOT, env=env, stdout=stdout, stderr=stderr,
                                start_new_session=True)
    proc.log = logs / f"{n}"  # type: ignore[attr-defined]
    return proc


def kill_when(proc: subprocess.Popen[bytes], out: Path, seen: Callable[[list[str]], bool], *,
              whole_group: bool = False) -> list[str]:
    """Wait until the folder shows what `seen` looks for, then SIGKILL the run (with `whole_group`, its
    worker processes too, as when the machine goes down); the names seen then."""
    while True:
        names = sorted(os.listdir(out)) if out.is_dir() else []
        if seen(names):
            if whole_group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return names
        try:
            proc.wait(timeout=0.002)  # wait on the process: it must not finish before the moment comes
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError("the run ended before the moment to kill it came: "
                             + Path(f"{proc.log}.err").read_text())  # type: ignore[attr-defined]


def finish(app: AppContext, out: Path) -> str:
    proc = start_run(app, out)
    assert proc.wait(timeout=300) == 0, Path(f"{proc.log}.err").read_text()  # type: ignore[attr-defined]
    return Path(f"{proc.log}.out").read_text()  # type: ignore[attr-defined]


def assert_every_piece_printed_once(app: AppContext, out: Path) -> None:
    with app.db.reading() as s:
        notices = list(s.scalars(select(Notice)))
        batches = list(s.scalars(select(NoticeBatch)))
    assert len(notices) == PIECES
    assert {n.status for n in notices} == {"printed"}
    assert len({n.serial for n in notices}) == PIECES
    by_batch: dict[int, int] = {}
    for n in notices:
        assert n.batch_id is not None
        by_batch[n.batch_id] = by_batch.get(n.batch_id, 0) + 1
    assert {b.id: b.piece_count for b in batches} == by_batch  # every row holds exactly its pieces
    finals = sorted(p for p in os.listdir(out) if p.endswith(".pdf"))
    assert finals == sorted(Path(b.file_path or "").name for b in batches), "a PDF without its batch row"
    assert [p for p in os.listdir(out) if not p.endswith(".pdf")] == [], "leftovers of the killed run"
    pages = sum(len(PdfReader(str(out / name)).pages) for name in finals)
    assert pages == sum(b.page_count for b in batches) == PIECES  # one page per notice: none twice


def test_killed_while_the_first_batch_renders(office: AppContext, tmp_path: Path) -> None:
    out = tmp_path / "out"
    seen = kill_when(start_run(office, out), out, lambda names: any(n.endswith(".part") for n in names))
    assert not any(n.endswith(".pdf") for n in seen)
    finish(office, out)
    assert_every_piece_printed_once(office, out)


def test_killed_when_a_batch_is_staged(office: AppContext, tmp_path: Path) -> None:
    out = tmp_path / "out"
    kill_when(start_run(office, out), out, lambda names: any(n.endswith(".staged") for n in names))
    finish(office, out)
    assert_every_piece_printed_once(office, out)


@pytest.mark.parametrize("batches_done", [1, 3])
def test_killed_after_batches_were_finished(office: AppContext, tmp_path: Path, batches_done: int) -> None:
    out = tmp_path / "out"
    kill_when(start_run(office, out), out,
              lambda names: sum(n.endswith(".pdf") for n in names) >= batches_done)
    with office.db.reading() as s:
        rows = {Path(b.file_path or "").name for b in s.scalars(select(NoticeBatch))}
    finals = {n for n in os.listdir(out) if n.endswith(".pdf")}
    assert finals <= rows, "a batch file appeared under its final name before its row was committed"
    text = finish(office, out)
    assert text.startswith(f"printed {PIECES - BATCH * len(rows)} pieces")
    assert_every_piece_printed_once(office, out)


def test_killed_parallel_run(office: AppContext, tmp_path: Path) -> None:
    admin = users.actor_for(office, "admin")
    settings.set_value(office, admin, "mail.parallel_min_pieces", 1)
    settings.set_value(office, admin, "mail.render_processes", 2)
    out = tmp_path / "out"
    kill_when(start_run(office, out), out, lambda names: any(n.endswith(".staged") for n in names),
              whole_group=True)
    finish(office, out)
    assert_every_piece_printed_once(office, out)


def test_a_batch_recorded_but_not_yet_named_is_named_not_printed_again(office: AppContext, actors,
                                                                       tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The narrowest window: the batch row is committed, the process dies before the rename."""
    out = tmp_path / "out"
    real = nr.publish
    calls = [0]

    def die_after_commit(staged: Path, final: Path, mode: int | None = None) -> None:
        calls[0] += 1
        if calls[0] == 2:
            raise KeyboardInterrupt  # stands for SIGKILL between the commit and the rename
        real(staged, final, mode)

    monkeypatch.setattr(nr, "publish", die_after_commit)
    mail = users.actor_for(office, "mail")
    with pytest.raises(KeyboardInterrupt):
        nr.run_notices(office, mail, out)
    staged = [n for n in os.listdir(out) if n.endswith(".staged")]
    assert len(staged) == 1 and sum(n.endswith(".pdf") for n in os.listdir(out)) == 1
    monkeypatch.setattr(nr, "publish", real)
    result = nr.run_notices(office, mail, out)
    assert result.printed == PIECES - 2 * BATCH
    assert any(line.startswith("finished batch 2") for line in result.recovered)
    assert_every_piece_printed_once(office, out)


def test_a_live_runs_files_are_left_alone(office: AppContext, tmp_path: Path) -> None:
    """Another workstation's (or this process's) staged file without a row is not deleted."""
    out = tmp_path / "out"
    out.mkdir()
    mine = nr.staged_path(out / "x.pdf")
    theirs = out / ".y.pdf.otherhost-12345.staged"
    dead = out / f".z.pdf.{mine.name.split('.')[-2].rsplit('-', 1)[0]}-999999999.staged"
    for f in (mine, theirs, dead):
        f.write_bytes(b"%PDF-1.4")
    with office.db.reading() as s:
        done = nr.recover_leftovers(s, out)
    assert done == ["removed 1 unfinished file"]
    assert mine.exists() and theirs.exists() and not dead.exists()
