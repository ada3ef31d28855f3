"""The Devices & Sync screen: Sync now against the simulator (progress, Cancel), the quarantine list with
reasons, discard and re-submit, the drop folder, and what each role may press."""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtWidgets import QDialog, QInputDialog
from sqlalchemy import func, select

from desktop.demo.simulator import FieldSimulator
from desktop.domain.roles import Role
from desktop.persistence.models import Citation, FieldEvent
from desktop.services import sync as sync_service
from desktop.services.core.context import AppContext
from desktop.sync.client import SyncCancelled
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from desktop.ui.sync.background import SyncBackground
from desktop.ui.sync.endpoint_dialogs import TokenDialog
from desktop.ui.sync.models import DeviceTableModel, QuarantineTableModel
from desktop.ui.sync.quarantine import ResubmitDialog
from desktop.ui.sync.view import SyncView
from tests.helpers.ingest_helpers import SYSTEM, sync

Factory = Callable[..., FieldSimulator]


@pytest.fixture
def make_view(app: AppContext, actors: dict[Role, Any], qtbot: Any) -> Iterator[Callable[[Role], SyncView]]:
    runners: list[TaskRunner] = []
    sync_service.TOKENS.reset()

    def make(role: Role) -> SyncView:
        runner = TaskRunner()
        runners.append(runner)
        ctx = UiContext(app=app, actor=actors[role], runner=runner, messages=MessageChannel(interactive=False),
                        tz=ZoneInfo("America/Los_Angeles"))
        view = SyncView(ctx)
        qtbot.addWidget(view)
        if view.background is not None:
            view.background.client_options = {"sleep": lambda _s: None}
        return view

    yield make
    for runner in runners:
        runner.wait_all(10000)
    sync_service.TOKENS.reset()


def _endpoint(app: AppContext, sim: FieldSimulator) -> int:
    endpoint_id, _ = sync_service.save_endpoint(app, SYSTEM, None, name="Simulator", url=sim.base_url)
    sync_service.TOKENS.remember(sim.base_url, sim.token, persist=False)
    return endpoint_id


def _loaded(qtbot: Any, view: SyncView) -> None:
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.refresh()


def _clerk_view_on(app: AppContext, sim: FieldSimulator, make_view: Any, qtbot: Any,
                   page_limit: int) -> SyncView:
    """The screen of a clerk, loaded, with the simulator as its endpoint and pages of ``page_limit``."""
    _endpoint(app, sim)
    view = make_view(Role.CLERK)
    _loaded(qtbot, view)
    view.background.page_limit = page_limit
    return view


def test_sync_now_shows_progress_and_fills_the_lists(app: AppContext, make_view: Any, qtbot: Any,
                                                     simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=30, devices=3, malformed_events=3, sequence_gaps=True)
    _endpoint(app, sim)
    view = make_view(Role.CLERK)
    _loaded(qtbot, view)
    assert view.sync_button.isEnabled() and not view.cancel_button.isEnabled()
    assert "not synced yet" in view.status.text()
    view.background.page_limit = 10
    seen: list[tuple[int, int, str]] = []
    view.background.progress.connect(lambda d, t, s: seen.append((d, t, s)))
    with qtbot.waitSignal(view.background.finished, timeout=60000) as finished:
        view.sync_button.click()
        assert view.cancel_button.isEnabled() and not view.sync_button.isEnabled()
    summary = finished.args[0]
    assert summary.stats.citations == 30 and summary.stats.quarantined == 3
    assert any(t > 0 and "events received" in s for _d, t, s in seen)
    # (the list is also read during the sync: wait for the reading after it)
    qtbot.waitUntil(lambda: view.tabs.tabText(0) == "Devices (3, 3 with gaps)", timeout=10000)
    assert view.devices.rowCount() == 3
    assert view.sync_button.isEnabled() and not view.cancel_button.isEnabled()
    assert view.tabs.tabText(1) == "Quarantine (3 open)"
    assert "30 citations" in view.status.text()
    gaps = view.devices.index(0, DeviceTableModel.GAPS).data()
    assert gaps.startswith("1 missing")
    reasons = [view.quarantine.index(r, QuarantineTableModel.REASON).data() for r in range(3)]
    assert any("required field is missing" in r for r in reasons)
    assert any("UTC offset" in r for r in reasons)
    # the raw event viewer shows the event as received
    view.quarantine_table.selectRow(0)
    qtbot.waitUntil(lambda: view.raw_view.toPlainText().startswith("{"), timeout=10000)
    assert "Reason:" in view.reason_label.text()
    # a clerk sees, but may not resolve
    assert not view.discard_button.isEnabled() and not view.resubmit_button.isEnabled()
    # events of a type this office does not know are kept and shown, as received
    assert view.tabs.tabText(2) == "Unknown events (1)"
    view.skipped_table.selectRow(0)
    qtbot.waitUntil(lambda: '"device.' in view.skipped_raw.toPlainText(), timeout=10000)


def test_cancel_stops_the_sync_and_keeps_what_was_committed(app: AppContext, make_view: Any, qtbot: Any,
                                                            simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=150, devices=3)
    view = _clerk_view_on(app, sim, make_view, qtbot, page_limit=5)
    pages: list[int] = []
    view.background.progress.connect(lambda d, _t, s: pages.append(d) if "events received" in s else None)
    with qtbot.waitSignal(view.background.failed, timeout=60000) as failed:
        view.sync_button.click()
        qtbot.waitUntil(lambda: len(pages) >= 2, timeout=30000)
        view.cancel_button.click()
    assert isinstance(failed.args[0], SyncCancelled)
    with app.db.reading() as s:
        stored = s.scalar(select(func.count()).select_from(FieldEvent))
    assert 10 <= stored < len(sim.all_events)
    qtbot.waitUntil(lambda: view.sync_button.isEnabled(), timeout=5000)
    assert not view.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: "cancelled after" in view.status.text(), timeout=10000)
    # the next Sync now finishes the job
    with qtbot.waitSignal(view.background.finished, timeout=60000):
        view.sync_button.click()
    with app.db.reading() as s:
        assert set(s.scalars(select(Citation.citation_number))) == sim.valid_citation_numbers


def test_supervisor_discards_and_resubmits_from_the_screen(app: AppContext, make_view: Any, qtbot: Any,
                                                           simulator_factory: Factory,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sim = simulator_factory(citations=6, devices=2, malformed_events=2)
    _endpoint(app, sim)
    sync(app, sim)
    view = make_view(Role.SUPERVISOR)
    _loaded(qtbot, view)
    assert view.quarantine.rowCount() == 2
    plate_row = next(r for r in range(2) if "vehicle.plate" in view.quarantine.rows[r].reason)
    view.quarantine_table.selectRow(plate_row)
    assert view.discard_button.isEnabled() and view.resubmit_button.isEnabled()
    qtbot.waitUntil(lambda: view.raw_view.toPlainText().startswith("{"), timeout=10000)
    row = view.quarantine.rows[plate_row]
    event = json.loads(view.raw_view.toPlainText())
    event["payload"]["vehicle"]["plate"] = "8ABC123"
    dialog = ResubmitDialog(view.ctx, row, json.dumps(event, indent=2), view)
    qtbot.addWidget(dialog)
    dialog.editor.setPlainText("{not json")
    dialog.run()
    qtbot.waitUntil(lambda: "still not acceptable" in dialog.error.text(), timeout=10000)
    dialog.editor.setPlainText(json.dumps(event))
    with qtbot.waitSignal(dialog.resubmitted, timeout=10000):
        dialog.run()
    with app.db.reading() as s:
        assert s.scalar(select(Citation.plate).where(
            Citation.citation_number == event["payload"]["citation_number"])) == "8ABC123"
    _loaded(qtbot, view)
    assert view.quarantine.rowCount() == 1
    view.quarantine_table.selectRow(0)
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a, **k: ("a broken line, nothing to save", True))
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.discard_selected()
    assert view.quarantine.rowCount() == 0 and view.tabs.tabText(1) == "Quarantine (0 open)"


def test_mail_office_gets_no_sync(make_view: Any) -> None:
    view = make_view(Role.MAIL_OFFICE)
    assert view.background is None and not hasattr(view, "sync_button")


def test_drop_folder_bundles_are_imported(app: AppContext, make_view: Any, qtbot: Any, tmp_path: Any) -> None:
    sim = FieldSimulator(devices=1, citations=3, photo_size=(48, 36))
    drop = app.paths.drop_dir
    drop.mkdir(parents=True, exist_ok=True)
    path = sim.write_bundles(drop, exported_at=datetime(2026, 11, 24, 23, 0, tzinfo=UTC))[0]
    sync_service.add_device(app, SYSTEM, "HH-0001")  # the office's handheld (another device's bundle is held)
    old = time.time() - 60
    os.utime(path, (old, old))
    view = make_view(Role.CLERK)
    background = SyncBackground.instance(view.ctx)
    assert background is view.background
    with qtbot.waitSignal(background.bundles_imported, timeout=20000) as imported:
        background.scan_drop_folder()
    results = imported.args[0]
    assert results[0].ok and "3 citations" in results[0].line
    assert (drop / "imported" / path.name).is_file()
    qtbot.waitUntil(lambda: view.bundles.rowCount() == 1, timeout=10000)
    assert "3 citations" in view.bundle_log.text()


def test_table_models_pass_qt_model_tests(app: AppContext, qtmodeltester: Any, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=5, malformed_events=2, sequence_gaps=True)
    sync(app, sim)
    devices = DeviceTableModel(ZoneInfo("UTC"))
    devices.set_rows(sync_service.list_devices(app, SYSTEM))
    qtmodeltester.check(devices)
    quarantine = QuarantineTableModel(ZoneInfo("UTC"))
    quarantine.set_rows(sync_service.list_quarantine(app, SYSTEM, None))
    qtmodeltester.check(quarantine)
    assert quarantine.index(0, 0).data(QuarantineTableModel.ROW_ROLE).reason


def test_sync_now_asks_for_a_missing_token(app: AppContext, make_view: Any, qtbot: Any,
                                           simulator_factory: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = simulator_factory(citations=2)
    sync_service.save_endpoint(app, SYSTEM, None, name="Simulator", url=sim.base_url)
    sync_service.TOKENS.reset()
    view = make_view(Role.CLERK)
    _loaded(qtbot, view)
    assert "Token: needed" in view.status.text()
    asked: list[str] = []

    def fake_exec(dialog: Any) -> int:
        asked.append(dialog.windowTitle())
        dialog.token.setText(sim.token)
        return int(QDialog.DialogCode.Accepted.value)

    monkeypatch.setattr(TokenDialog, "exec", fake_exec)
    with qtbot.waitSignal(view.background.finished, timeout=60000):
        view.sync_button.click()
    assert asked == ["Token for Simulator"]
    assert sync_service.TOKENS.get(sim.base_url) == sim.token  # kept for this session only


def test_a_refused_token_is_forgotten_and_sync_now_asks_again(app: AppContext, make_view: Any, qtbot: Any,
                                                               simulator_factory: Factory,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A mistyped token: the endpoint refuses it (401), the status line says Sync now will ask again, and it
    does (before, the refused token stayed at hand and every Sync now sent it again)."""
    sim = simulator_factory(citations=2)
    sync_service.save_endpoint(app, SYSTEM, None, name="Simulator", url=sim.base_url)
    sync_service.TOKENS.reset()
    view = make_view(Role.CLERK)
    _loaded(qtbot, view)
    typed = iter(["not-the-token", sim.token])
    asked: list[str] = []

    def fake_exec(dialog: Any) -> int:
        asked.append(dialog.windowTitle())
        dialog.token.setText(next(typed))
        return int(QDialog.DialogCode.Accepted.value)

    monkeypatch.setattr(TokenDialog, "exec", fake_exec)
    monkeypatch.setattr(view.ctx, "error", lambda exc: None)  # (the dialog a clerk would close)
    with qtbot.waitSignal(view.background.failed, timeout=60000):
        view.sync_button.click()
    assert "refused the token (401)" in view.status.text() and "asks for the token again" in view.status.text()
    assert not sync_service.TOKENS.has(sim.base_url)
    with qtbot.waitSignal(view.background.finished, timeout=60000):
        view.sync_button.click()
    assert asked == ["Token for Simulator", "Token for Simulator"]
    assert sync_service.TOKENS.get(sim.base_url) == sim.token


def test_automatic_sync_runs_when_due(app: AppContext, make_view: Any, qtbot: Any, simulator_factory: Factory,
                                      clock: Any) -> None:
    sim = simulator_factory(citations=3)
    endpoint_id = _endpoint(app, sim)
    sync_service.save_endpoint(app, SYSTEM, endpoint_id, name="Simulator", url=sim.base_url, auto_sync_minutes=10)
    sync_service.TOKENS.remember(sim.base_url, sim.token, persist=False)
    view = make_view(Role.CLERK)
    with qtbot.waitSignal(view.background.finished, timeout=60000):
        view.background.check_automatic()  # what the timer does every 30 s
    assert view.background.automatic
    # not due again until ten minutes have passed
    started: list[int] = []
    view.background.started.connect(started.append)
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.refresh()
    with qtbot.waitSignal(view.background.auto_checked, timeout=10000) as checked:
        view.background.check_automatic()
    assert checked.args == [False] and started == []
    clock.now = clock.now + timedelta(minutes=11)
    with qtbot.waitSignal(view.background.started, timeout=10000):
        view.background.check_automatic()
    qtbot.waitUntil(lambda: not view.background.running, timeout=60000)


def test_sync_now_with_the_helper_process_shows_progress_and_stores_everything(
        app: AppContext, make_view: Any, qtbot: Any, simulator_factory: Factory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Sync now as a large sync runs it: pages fetched and prepared on the helper process (forced here for a
    small fleet), the window kept responsive, the progress shown, everything stored."""
    view = _clerk_view_on(app, simulator_factory(citations=60, devices=3, malformed_events=2), make_view, qtbot,
                          page_limit=10)
    view.background.client_options = {"max_retries": 5}  # (a lambda would keep the sync in one process)
    monkeypatch.setattr(sync_service, "sync_now", functools.partial(sync_service.sync_now, helper_process_from=0))
    seen: list[str] = []
    view.background.progress.connect(lambda _d, _t, s: seen.append(s))
    with qtbot.waitSignal(view.background.finished, timeout=60000) as finished:
        view.sync_button.click()
    summary = finished.args[0]
    assert summary.helper_runs >= 1
    assert summary.stats.citations == 60 and summary.stats.quarantined == 2
    assert sum("events received" in s for s in seen) >= 3
    qtbot.waitUntil(lambda: view.tabs.tabText(1) == "Quarantine (2 open)", timeout=10000)
    assert "60 citations" in view.status.text()


def test_the_device_list_fills_while_a_sync_runs(app: AppContext, make_view: Any, qtbot: Any,
                                                 simulator_factory: Factory) -> None:
    view = _clerk_view_on(app, simulator_factory(citations=80, devices=3), make_view, qtbot, page_limit=5)
    assert view.devices.rowCount() == 0
    view.DEVICES_EVERY_SECONDS = 0
    during: list[tuple[int, bool]] = []
    view.devices_loaded.connect(lambda n: during.append((n, view.cancel_button.isEnabled())))
    with qtbot.waitSignal(view.background.finished, timeout=60000):
        view.sync_button.click()
        # read while the sync was still going: the list shows the devices of the batches committed so far
        qtbot.waitUntil(lambda: any(n > 0 for n, _running in during), timeout=30000)
    assert any(n > 0 and running for n, running in during)
    qtbot.waitUntil(lambda: view.devices.rowCount() == 3, timeout=10000)


def test_an_unreachable_endpoint_says_so_in_one_sentence_and_the_status_ends(app: AppContext, make_view: Any,
                                                                             qtbot: Any) -> None:
    """Nothing listens on the port: one sentence a clerk can act on (no "HTTPConnectionPool … Max retries"),
    and the status line no longer says "Connecting…"."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    sync_service.save_endpoint(app, SYSTEM, None, name="Gateway", url=url)
    sync_service.TOKENS.remember(url, "t", persist=False)
    view = make_view(Role.CLERK)
    _loaded(qtbot, view)
    with qtbot.waitSignal(view.ctx.messages.error_shown, timeout=60000) as shown:
        view.sync_button.click()
    text = shown.args[0]
    assert text.startswith(f"Could not reach the endpoint at 127.0.0.1:{port}: connection refused. Check ")
    assert "HTTPConnectionPool" not in text and "Max retries" not in text and text.count(". ") <= 2
    qtbot.waitUntil(lambda: view.sync_button.isEnabled(), timeout=10000)
    assert "Connecting" not in view.status.text() and "Could not reach" in view.status.text()


def test_a_handheld_shows_its_officers_name_or_why_not(app: AppContext) -> None:
    """The demo's roster names every handheld's officer; a badge not on the roster says so."""
    from desktop.demo import officers
    from desktop.persistence.models import Device

    with app.db.write_session() as s:
        s.add(Device(device_id="HH-0013", officer_badge="8606", seq_gaps=[]))
        s.commit()
    model = DeviceTableModel(ZoneInfo("UTC"))
    model.set_rows(sync_service.list_devices(app, SYSTEM))
    assert model.index(0, DeviceTableModel.OFFICER).data() == "8606 (not on the officer roster)"
    officers.extend_demo(app, lambda *_a: None)
    model.set_rows(sync_service.list_devices(app, SYSTEM))
    name = model.index(0, DeviceTableModel.OFFICER).data()
    assert name.startswith("8606 ") and "roster" not in name and len(name.split()) == 3
def test_the_plates_are_read_in_the_background_after_the_sync(app: AppContext, make_view: Any, qtbot: Any,
                                                                simulator_factory: Factory) -> None:
    from sqlalchemy import func, select

    from desktop.persistence.models import Citation, EvidencePhoto, PlateReading

    sim = simulator_factory(citations=6, devices=1)
    view = _clerk_view_on(app, sim, make_view, qtbot, page_limit=50)
    with qtbot.waitSignal(view.background.plates_read, timeout=120000) as read:
        view.sync_button.click()
    run = read.args[0]
    with app.db.reading() as s:
        readings = s.scalar(select(func.count()).select_from(PlateReading))
        unread = s.scalar(select(func.count()).select_from(EvidencePhoto).join(Citation)
                          .outerjoin(PlateReading, PlateReading.photo_id == EvidencePhoto.id)
                          .where(Citation.status == "pending_review", PlateReading.id.is_(None)))
    assert run.photos == readings > 0 and unread == 0  # every photo of a citation in review was read
    assert run.read > 0 and not run.unavailable


def test_an_idle_workstation_reads_the_plates_no_one_read(app: AppContext, make_view: Any, qtbot: Any) -> None:
    from tests.helpers.review_data import add_pending

    add_pending(app, plate="7ABC123")
    view = make_view(Role.CLERK)
    timer = view.background.plates_timer
    assert timer.isActive() and timer.interval() == 300_000
    with qtbot.waitSignal(view.background.plates_read, timeout=60000) as read:
        timer.timeout.emit()  # as when five idle minutes have passed
    assert read.args[0].photos == 1 and read.args[0].read == 1
