"""Benchmark: setting up "City of Springfield" (California profile, its fine schedule and 1,274 street-segment
zones, first administrator) as one job, against the same work done by hand on a database the program created
(migrate an empty file, add the administrator, import the fines, import the zones).

Run with ``pytest tests/benchmarks/bench_setup.py --benchmark-only -p no:randomly``. The difference between the
two is what the set-up adds: the checks before anything is made (identity on a scratch database, postal
settings, accounts, the data folder), the identity and settings, and building aside then moving into place.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from PIL import Image

from desktop.bootstrap import make_app_context
from desktop.paths import AppPaths
from desktop.persistence.connections import ConnectionProfile
from desktop.persistence.db import Database
from desktop.persistence.migrate import upgrade
from desktop.services import office_setup
from desktop.services.admin import users
from desktop.services.admin.fine_schedule import import_fine_schedule
from desktop.services.office_setup import NewAccount, OfficePlan, ReferenceFile
from desktop.services.review.zone_imports import import_zones

ROOT = Path(__file__).resolve().parents[2]
FINES = ROOT / "tests" / "fixtures" / "springfield-fines.csv"
ZONES = ROOT.parent / "shared" / "data" / "parking_zones_meters" / "parking_regulations.geojson"
ADMIN = NewAccount("admin", "Pat Jones", "admin", "springfield admin 1")


@pytest.fixture(scope="module")
def logo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not ZONES.exists():
        pytest.skip("the shared data folder is missing")
    path = tmp_path_factory.mktemp("logo") / "seal.png"
    Image.new("RGB", (64, 64), (20, 60, 120)).save(path)
    return path


def _fresh(tmp_path: Path) -> tuple[AppPaths, Path]:
    base = tmp_path / uuid.uuid4().hex[:8]
    paths = AppPaths(base / "data")
    paths.ensure()
    return paths, base / "springfield.sqlite3"


@pytest.mark.benchmark(group="setup-springfield")
def test_baseline_migrate_add_admin_import_by_hand(benchmark, tmp_path: Path, logo: Path) -> None:  # type: ignore[no-untyped-def]
    def job(paths: AppPaths, target: Path) -> int:
        db = Database(f"sqlite:///{target}")
        try:
            upgrade(db)
            app = make_app_context(db, paths)
            users.add_first_administrator(app, ADMIN.username, ADMIN.full_name, ADMIN.password)
            admin = users.actor_for(app, "admin")
            import_fine_schedule(app, admin, FINES)
            return import_zones(app, admin, ZONES, "Z-SPR").features
        finally:
            db.dispose()

    features = benchmark.pedantic(job, setup=lambda: (_fresh(tmp_path), {}), rounds=3, iterations=1)
    assert features == 1274


@pytest.mark.benchmark(group="setup-springfield")
def test_set_up_office_sqlite(benchmark, tmp_path: Path, logo: Path) -> None:  # type: ignore[no-untyped-def]
    def job(paths: AppPaths, target: Path) -> list[str]:
        plan = OfficePlan(
            profiles=("CA",), database=ConnectionProfile(kind="sqlite", path=str(target)), admin=ADMIN,
            identities={"CA": {"name": "City of Springfield", "address": ["PO Box 1000", "Springfield, CA 95000"],
                               "phone": "(555) 010-0100", "web_url": "springfield.example.gov",
                               "pay_url": "https://pay.example.gov/{citation_number}", "logo_path": str(logo)}},
            mailer_id="123456", reference=(ReferenceFile("fines", FINES), ReferenceFile("zones", ZONES, "Z-SPR")))
        return office_setup.set_up_office(plan, paths, lambda db: make_app_context(db, paths)).imported

    imported = benchmark.pedantic(job, setup=lambda: (_fresh(tmp_path), {}), rounds=3, iterations=1)
    assert "1274 zones" in imported[1]
