"""The print side of a notice run from the database: file permissions for the print server, black ink or
colour, the envelope setting, an address too long for the window, and print copies made by the daily run."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.services.core import settings
from desktop.services.core.context import Actor, AppContext
from desktop.services.notices import runs as nr
from desktop.services.notices.documents import PhotoDerivatives
from desktop.services.notices.print_copies import make_print_copies
from tests.helpers.notice_cases import queue_case
from tests.integration.reports.pdfprobe import colour_problems, reader


def test_batch_files_are_readable_by_the_print_servers_group(app: AppContext, actors: dict[Role, Actor],
                                                             tmp_path: Path) -> None:
    queue_case(app)
    [batch] = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / "out").batches
    assert stat.S_IMODE(batch.path.stat().st_mode) == 0o640
    settings.set_value(app, actors[Role.ADMIN], "mail.file_mode", "0644")
    queue_case(app)
    [batch] = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / "out").batches
    assert stat.S_IMODE(batch.path.stat().st_mode) == 0o644
    settings.set_value(app, actors[Role.ADMIN], "mail.file_mode", "rw-r-----")
    queue_case(app)
    with pytest.raises(UserError, match="mail.file_mode 'rw-r-----' is not a file mode"):
        nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / "out")


def test_black_ink_by_default_colour_when_the_agency_asks(app: AppContext, actors: dict[Role, Actor],
                                                          tmp_path: Path) -> None:
    queue_case(app)
    [batch] = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / "k").batches
    assert colour_problems(batch.path.read_bytes()) == []
    settings.set_value(app, actors[Role.ADMIN], "mail.colour", "yes")
    queue_case(app)
    [batch] = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / "colour").batches
    problems = colour_problems(batch.path.read_bytes())
    assert problems and not any("image" in p or "rg" in p for p in problems)  # CMYK accents; the photo grey
    with pytest.raises(UserError, match="on or off"):
        settings.set_value(app, actors[Role.ADMIN], "mail.colour", "sometimes")


def test_an_address_too_long_for_the_window_is_held_with_the_reason(app: AppContext, actors: dict[Role, Actor],
                                                                    tmp_path: Path) -> None:
    name = ("PACIFIC COAST EQUIPMENT LEASING AND RENTAL COMPANY OF SOUTHERN CALIFORNIA AND NEVADA, A LIMITED "
            "LIABILITY COMPANY DOING BUSINESS AS COASTAL FLEET SERVICES LLC")
    _cid, long_one = queue_case(app, owner_kwargs={"name": name, "address_line1": "4410 W OLYMPIC BLVD APT 12",
                                                   "city": "LOS ANGELES", "state": "CA", "zip": "90019"})
    _cid, fine = queue_case(app)
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    assert result.printed == 1 and result.held_count == 1
    [held] = result.held
    assert held.notice_id == long_one and "lines in the address window of the #10 double window envelope" in held.reason
    assert "shorten the name or the address lines" in held.reason
    assert {r.notice_id for r in nr.held_notices(app, actors[Role.CLERK])} == {long_one}


def test_an_agency_envelope_from_a_file(app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    spec = {"name": "Agency tall window #10", "paper": "letter", "envelope": [9.5, 4.125],
            "address_window": [0.875, 0.5, 4.5, 1.5], "return_window": [0.625, 2.375, 3.5, 1.0],
            "folds": [3.875, 7.5625]}
    path = tmp_path / "envelope.json"
    path.write_text(json.dumps(spec))
    settings.set_value(app, actors[Role.ADMIN], "mail.envelope", str(path))
    queue_case(app)
    [batch] = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / "out").batches
    assert reader(batch.path.read_bytes()).pages[0].extract_text()
    path.write_text(json.dumps({**spec, "address_window": [0.875, 0.5, 4.5, 0.4]}))  # a window too small
    _cid, nid = queue_case(app)
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / "out")
    assert result.printed == 0 and "envelope" in result.held[0].reason.lower()
    settings.set_value(app, actors[Role.ADMIN], "mail.envelope", str(tmp_path / "missing.json"))
    queue_case(app)
    with pytest.raises(UserError, match="cannot be read"):
        nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / "out")


def test_the_daily_run_makes_the_print_copies_before_the_notice_run(app: AppContext, actors: dict[Role, Actor],
                                                                    tmp_path: Path) -> None:
    from sqlalchemy import select

    from desktop.persistence.models import EvidencePhoto

    cases = [queue_case(app) for _ in range(3)]
    copies = PhotoDerivatives(app.paths, app.renderer)
    with app.db.reading() as s:
        shas = [s.scalar(select(EvidencePhoto.sha256).where(EvidencePhoto.citation_id == cid)) for cid, _ in cases]
    assert not any(copies.path_for(sha).exists() for sha in shas)
    made = make_print_copies(app, actors[Role.MAIL_OFFICE])
    assert made.made == 3 and not made.failed and "3 print copies" in made.lines()[0]
    assert all(copies.path_for(sha).exists() for sha in shas)
    stamps = {sha: copies.path_for(sha).stat().st_mtime_ns for sha in shas}
    assert make_print_copies(app, actors[Role.MAIL_OFFICE]).made == 0  # nothing left to make
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    assert result.printed == 3
    assert {sha: copies.path_for(sha).stat().st_mtime_ns for sha in shas} == stamps  # the run reused them


def test_the_daily_run_reports_its_print_copies(app: AppContext, actors: dict[Role, Actor]) -> None:
    from desktop.services.daily_run import run_daily

    queue_case(app)
    lines = run_daily(app, actors[Role.SUPERVISOR]).lines()
    assert any(line.startswith("Print copies: 1 print copy of new evidence photos made") for line in lines), lines


def test_print_copies_are_of_each_queued_case_s_main_photo_once(app: AppContext, actors: dict[Role, Actor]) -> None:
    """The notice prints the case's first photo (by position, then id): only that one gets a copy, a photo
    shared by several queued cases is made once, and a case whose notice is not queued gets none."""
    from datetime import UTC, datetime

    from sqlalchemy import select, update

    from desktop.demo.photos import street_photo
    from desktop.persistence.models import EvidencePhoto, Notice
    from tests.helpers.notice_cases import store_photo

    def shot(plate: str, seed: int) -> bytes:
        return street_photo(plate, "CA", "WT", "TOYT", datetime(2026, 10, 30, 17, 15, tzinfo=UTC), 34.04, -118.26,
                            seed=seed)

    shared = shot("8SHR001", 41)
    first, _ = queue_case(app, photo=shared)
    queue_case(app, photo=shared)
    two, _ = queue_case(app, photo=False)
    context = store_photo(app, two, shot("8TWO001", 42))
    main = store_photo(app, two, shot("8TWO001", 43))
    mailed, notice = queue_case(app)
    with app.db.write_session() as s:  # the photo stored later is the case's first: position 0 against 1
        s.execute(update(EvidencePhoto).where(EvidencePhoto.sha256 == context).values(position=1))
        s.execute(update(Notice).where(Notice.id == notice).values(status="mailed"))
        s.commit()
        shared_sha, mailed_sha = (s.scalar(select(EvidencePhoto.sha256).where(EvidencePhoto.citation_id == cid))
                                  for cid in (first, mailed))
    made = make_print_copies(app, actors[Role.MAIL_OFFICE])
    assert made.made == 2 and not made.failed
    copies = PhotoDerivatives(app.paths, app.renderer)
    assert copies.path_for(shared_sha).exists() and copies.path_for(main).exists()
    assert not copies.path_for(context).exists() and not copies.path_for(mailed_sha).exists()
