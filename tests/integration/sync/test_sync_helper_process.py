"""A large sync fetches and prepares its events on a helper process (desktop/sync/decoder.py): the same
result as without it, whatever the network does, and nothing lost or duplicated when the helper dies or
the sync is cancelled."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desktop.demo.simulator import FieldSimulator
from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.services import sync as sync_service
from desktop.services.core.audit import verify
from desktop.services.core.context import AppContext
from desktop.sync import decoder as decoder_module
from desktop.sync import helpers
from desktop.sync.client import AuthenticationFailed, SyncCancelled
from tests.conftest import make_app
from tests.helpers.ingest_helpers import citation_numbers, counts, outcomes, quarantine_reasons, sync

Factory = Callable[..., FieldSimulator]

FAULTS: dict[str, Any] = dict(seed=23, devices=4, citations=60, drop_probability=0.1, repeat_probability=0.3,
                              throttle_probability=0.05, unavailable_probability=0.05, malformed_events=4,
                              conflicting_duplicates=2, sequence_gaps=True, corrupted_photos=1)


def _helper_sync(app: AppContext, sim: FieldSimulator, **kwargs: Any) -> sync_service.SyncSummary:
    # pages of 9 events, a run each: many runs; the helper process for any number of waiting events
    kwargs.setdefault("client_options", {"max_retries": 30})
    return sync(app, sim, page_limit=9, helper_process_from=0, **kwargs)


def _state(app: AppContext) -> tuple[Any, ...]:
    return (counts(app), outcomes(app), sorted(citation_numbers(app)), sorted(quarantine_reasons(app)))


def _spools(app: AppContext) -> set[str]:
    return {p.name for p in (app.paths.data_dir / "sync-spool").glob("curbdesk-sync-*")}


def test_the_helper_process_stores_exactly_what_the_sync_without_it_stores(
        app: AppContext, simulator_factory: Factory, tmp_path: Path, sqlite_template: Path) -> None:
    with_helper = _helper_sync(app, simulator_factory(**FAULTS))
    assert with_helper.helper_runs >= 3, "the runs were not prepared on the helper process"

    shutil.copyfile(sqlite_template, tmp_path / "other.sqlite3")
    other = make_app(f"sqlite:///{tmp_path / 'other.sqlite3'}", tmp_path / "other", app.clock, migrate=False)
    try:
        without = sync(other, simulator_factory(**FAULTS), page_limit=9, helper_process_from=None,
                       client_options={"max_retries": 30})
        assert without.helper_runs == 0
        assert _state(app) == _state(other)
        # (how often the simulator repeats events depends on when each request comes: not compared)
        noisy = ("received", "duplicates")
        assert {k: v for k, v in with_helper.stats.as_dict().items() if k not in noisy} == \
            {k: v for k, v in without.stats.as_dict().items() if k not in noisy}
    finally:
        other.db.dispose()
    assert verify(app.db).ok
    assert _spools(app) == set(), "the helper's spool folder was left behind"


def test_a_sync_below_the_threshold_starts_no_helper(app: AppContext, simulator_factory: Factory) -> None:
    summary = sync(app, simulator_factory(citations=20), page_limit=9, helper_process_from=10_000)
    assert summary.helper_runs == 0 and summary.stats.citations == 20


def test_the_helper_dying_mid_sync_loses_and_duplicates_nothing(app: AppContext, simulator_factory: Factory,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sim = simulator_factory(**FAULTS)
    original = decoder_module.Decoder.get
    calls = [0]

    def get_then_die(self: decoder_module.Decoder, cursor: str | None, cancelled: Callable[[], bool]) -> Any:
        calls[0] += 1
        if calls[0] == 4:
            os.kill(self._process.pid, signal.SIGKILL)
            self._process.join(30)
        return original(self, cursor, cancelled)

    monkeypatch.setattr(decoder_module.Decoder, "get", get_then_die)
    summary = _helper_sync(app, sim)
    assert calls[0] == 4, "after the helper died, the runs are fetched in this process"
    assert 0 < summary.helper_runs <= 4 < summary.pages  # (the 4th may have been on its way already)
    assert set(citation_numbers(app)) == sim.valid_citation_numbers
    assert len(citation_numbers(app)) == len(sim.valid_citation_numbers)
    before = counts(app)
    assert _helper_sync(app, sim).stats.events == 0  # everything was acknowledged: nothing comes again
    assert counts(app) == before and verify(app.db).ok


def test_cancel_during_a_helper_sync_ends_the_helper_and_keeps_what_was_committed(
        app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(**FAULTS)
    cancel = threading.Event()
    commits = [0]

    def progress(_done: int, _total: int, text: str) -> None:
        if "events received" in text:
            commits[0] += 1
            if commits[0] == 6:
                cancel.set()

    with pytest.raises(SyncCancelled):
        _helper_sync(app, sim, progress=progress, cancel=cancel)
    assert 0 < counts(app)["events"]
    assert _spools(app) == set()
    alive = [p for p in __import__("multiprocessing").active_children() if p.name == "curbdesk-sync-decoder"]
    assert alive == [], "the helper process outlived the cancelled sync"
    _helper_sync(app, sim)
    assert set(citation_numbers(app)) == sim.valid_citation_numbers
    assert len(citation_numbers(app)) == len(sim.valid_citation_numbers) and verify(app.db).ok


def test_a_spool_folder_left_by_a_killed_sync_is_removed_a_day_later(app: AppContext,
                                                                     simulator_factory: Factory) -> None:
    spool = app.paths.data_dir / "sync-spool"
    spool.mkdir(parents=True)
    stale = Path(tempfile.mkdtemp(prefix="curbdesk-sync-", dir=spool))
    (stale / "run-3").write_bytes(b"left behind")
    fresh = Path(tempfile.mkdtemp(prefix="curbdesk-sync-", dir=spool))  # another sync's, still running
    day_ago = time.time() - helpers.STALE_SPOOL_SECONDS - 60
    os.utime(stale, (day_ago, day_ago))
    try:
        _helper_sync(app, simulator_factory(citations=10))
        assert not stale.exists() and fresh.exists()
    finally:
        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(fresh, ignore_errors=True)


def test_a_token_refused_mid_sync_on_the_helper_is_one_clear_error_and_keeps_what_was_committed(
        app: AppContext, simulator_factory: Factory) -> None:
    sim = simulator_factory(**FAULTS)
    commits = [0]

    def progress(_done: int, _total: int, text: str) -> None:
        if "events received" in text:
            commits[0] += 1
            if commits[0] == 5:
                sim.token = "revoked"  # the endpoint stops taking our token half-way

    with pytest.raises(AuthenticationFailed, match="401"):
        _helper_sync(app, sim, token=sim.token, progress=progress)
    kept = counts(app)["events"]
    assert kept > 0 and _spools(app) == set()
    sim.token = "test-token-2"
    summary = _helper_sync(app, sim, token="test-token-2")
    assert summary.stats.events + kept == counts(app)["events"]
    assert set(citation_numbers(app)) == sim.valid_citation_numbers
    assert len(citation_numbers(app)) == len(sim.valid_citation_numbers) and verify(app.db).ok


def test_a_role_that_may_not_sync_starts_no_helper(app: AppContext, actors: dict[Role, Any],
                                                    simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=10)
    endpoint_id = sync_service.endpoint_for_url(app, actors[Role.SUPERVISOR], sim.base_url)
    with pytest.raises(UserError, match="may not sync field data"):
        sync_service.sync_now(app, actors[Role.MAIL_OFFICE], endpoint_id, token=sim.token, helper_process_from=0)
    assert [p for p in multiprocessing.active_children() if p.name == "curbdesk-sync-decoder"] == []
    assert counts(app)["events"] == 0 and not (app.paths.data_dir / "sync-spool").exists()
