"""Issue 14, finding 6: a stored photo replaced by another JPEG, or with one byte flipped, is shown as a
mismatch everywhere it is shown or printed (Review, the case screen, the appeals workspace and packet,
notice runs), never as "verified"; `appeals packet` exits 3 and prints no EXIF of the altered file."""

from __future__ import annotations

import io
import os
import stat
from argparse import Namespace
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from desktop.commands.appeals import cmd_packet
from desktop.domain.roles import Role
from desktop.persistence import evidence as evidence_module
from desktop.persistence.evidence import MISMATCH_REASON, EvidenceStore, EvidenceTampered
from desktop.persistence.models import EvidencePhoto, Notice
from desktop.services import appeals
from desktop.services.appeals.packet import load_workspace
from desktop.services.cases.queries import case_detail
from desktop.services.core.context import AppContext
from desktop.services.notices.documents import Held, PhotoDerivatives
from desktop.services.notices.runs import run_notices
from desktop.services.review import queue as review
from tests.helpers.notice_cases import queue_case
from tests.helpers.review_data import add_pending, seed_reference
from tests.integration.appeals.conftest import make_case
from tests.integration.appeals.test_intake_and_decisions import number_of, request


def other_jpeg(make: str = "EVILCAM") -> bytes:
    """A different, perfectly valid JPEG whose EXIF names another camera."""
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = "Swapped 1"
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 30, 30)).save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def flip_byte(path: Path) -> None:
    os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def swap(path: Path, data: bytes) -> None:
    os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
    path.write_bytes(data)


def photo_shas(app: AppContext, cid: int) -> list[str]:
    with app.db.reading() as s:
        return list(s.scalars(select(EvidencePhoto.sha256).where(EvidencePhoto.citation_id == cid)
                              .order_by(EvidencePhoto.position, EvidencePhoto.id)))


TAMPER = {"flipped byte": flip_byte, "another JPEG": lambda p: swap(p, other_jpeg())}


# --------------------------------------------------------------------------- the store


def test_check_and_read_verified(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    good = store.put(other_jpeg("GOODCAM"))
    assert store.check(good.sha256).ok and store.read_verified(good.sha256) == other_jpeg("GOODCAM")
    flip_byte(good.path)
    assert store.check(good.sha256).status == "mismatch"
    assert store.check(good.sha256).reason == MISMATCH_REASON
    with pytest.raises(EvidenceTampered, match="does not match its recorded digest"):
        store.read_verified(good.sha256)
    assert store.check("ab" * 32).status == "missing"
    assert store.check("not-a-digest").status == "mismatch"


def test_check_is_cached_per_version_of_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EvidenceStore(tmp_path)
    stored = store.put(other_jpeg("GOODCAM"))
    hashed: list[Path] = []
    real = evidence_module.file_sha256
    monkeypatch.setattr(evidence_module, "file_sha256", lambda p: hashed.append(p) or real(p))
    for _ in range(5):
        assert store.check(stored.sha256).ok
    assert len(hashed) <= 1  # hashed once (or not at all: put() left nothing cached, the first check did)
    # the same size, the modification time set back: still hashed again (ctime and inode changed)
    before = os.stat(stored.path)
    data = bytearray(stored.path.read_bytes())
    data[-3] ^= 0xFF
    os.chmod(stored.path, stat.S_IWUSR | stat.S_IRUSR)
    stored.path.unlink()
    stored.path.write_bytes(bytes(data))
    os.utime(stored.path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(stored.path).st_size == before.st_size
    assert store.check(stored.sha256).status == "mismatch"


# --------------------------------------------------------------------------- review and the case screen


@pytest.mark.parametrize("how", sorted(TAMPER))
def test_review_and_case_screen_show_a_mismatch(app: AppContext, actors, how: str) -> None:
    seed_reference(app)
    cid = add_pending(app, photos=[{}, {}])
    shas = photo_shas(app, cid)
    store = EvidenceStore(app.paths.evidence_dir)
    assert [p.integrity for p in review.review_item(app, actors[Role.CLERK], cid).photos] == ["verified"] * 2
    TAMPER[how](store.path_for(shas[0]))

    item = review.review_item(app, actors[Role.CLERK], cid)
    bad, good = item.photos
    assert bad.integrity == "integrity_failed" and bad.integrity_reason == MISMATCH_REASON
    assert bad.exif is None or "EVILCAM" not in str(bad.exif)  # nothing of the altered file shown as evidence
    assert good.integrity == "verified"

    detail = case_detail(app, actors[Role.CLERK], cid)
    by_sha = {p.sha256: p for p in detail.photos}
    assert by_sha[shas[0]].integrity == "integrity_failed" and by_sha[shas[0]].integrity_reason == MISMATCH_REASON
    assert by_sha[shas[1]].integrity == "verified"
    with app.db.reading() as s:  # what the screen was told is not written back
        assert {p.integrity for p in s.scalars(select(EvidencePhoto).where(EvidencePhoto.citation_id == cid))} \
            == {"verified"}


# --------------------------------------------------------------------------- appeals: workspace and packet


def _env(app: AppContext, actor, number: str, out: Path) -> SimpleNamespace:
    return SimpleNamespace(app=lambda: app, actor=lambda _app: actor,
                           args=Namespace(citation_number=number, out=out))


@pytest.mark.parametrize("how", sorted(TAMPER))
def test_packet_of_an_altered_photo_exits_3_without_its_exif(app: AppContext, actors, how: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    cid = make_case(app, photos=2)
    aid = appeals.file_appeal(app, actors[Role.CLERK], request(app, cid, documents=[])).appeal_id
    officer = actors[Role.HEARING_OFFICER]
    out = app.paths.print_dir / "packet.pdf"
    assert cmd_packet(_env(app, officer, number_of(app, cid), out)) == 0
    capsys.readouterr()
    TAMPER[how](EvidenceStore(app.paths.evidence_dir).path_for(photo_shas(app, cid)[0]))

    ws = load_workspace(app, officer, aid)
    assert not ws.photos[0].verified and MISMATCH_REASON in ws.photos[0].verification_text
    assert ws.photos[0].exif.camera_make is None and ws.photos[1].verified

    assert cmd_packet(_env(app, officer, number_of(app, cid), out)) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not match its recorded digest" in err
    reader = PdfReader(str(out))
    text = " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())
    assert "MISMATCH" in text and "EVILCAM" not in text and "Swapped" not in text
    assert "evidence may have been altered" in text
    assert sum(len(page.images) for page in reader.pages) == 2  # the good photo and the map, not the altered one


# --------------------------------------------------------------------------- notices


def test_notice_run_holds_a_photo_altered_after_its_print_copy_was_made(app: AppContext, actors) -> None:
    cid, nid = queue_case(app)
    sha = photo_shas(app, cid)[0]
    derivatives = PhotoDerivatives(app.paths, app.renderer)
    assert derivatives.ensure(sha) == derivatives.path_for(sha)  # a print copy exists from an earlier run
    swap(EvidenceStore(app.paths.evidence_dir).path_for(sha), other_jpeg())
    got = PhotoDerivatives(app.paths, app.renderer).ensure(sha)
    assert isinstance(got, Held) and MISMATCH_REASON in got.reason
    result = run_notices(app, actors[Role.MAIL_OFFICE], app.paths.print_dir / "batches")
    assert result.printed == 0 and result.held_count == 1
    with app.db.reading() as s:
        n = s.get(Notice, nid)
        assert n is not None and n.status == "held" and MISMATCH_REASON in (n.hold_reason or "")
