"""Helpers for the ingest tests: sync an app against a simulator without waiting, and read back what landed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select

import desktop.services.sync.ingest as ingest_module
from desktop.demo.simulator import FieldSimulator
from desktop.persistence.models import (
    Citation,
    EvidencePhoto,
    FieldEvent,
    ImportedBundle,
    PatrolCheck,
    PatrolShift,
    QuarantinedEvent,
    ViolationCode,
)
from desktop.services import sync as sync_service
from desktop.services.core.context import Actor, AppContext
from desktop.services.sync.run import SyncSummary
from tests.helpers.sync_helpers import RecordingSleep

SYSTEM = Actor.system("sync-test")


def endpoint_for(app: AppContext, sim: FieldSimulator, actor: Actor = SYSTEM) -> int:
    return sync_service.endpoint_for_url(app, actor, sim.base_url)


def sync(app: AppContext, sim: FieldSimulator, actor: Actor = SYSTEM, **kwargs: Any) -> SyncSummary:
    """One sync over real HTTP; backoff delays are recorded instead of waited."""
    kwargs.setdefault("token", sim.token)
    options = kwargs.pop("client_options", {})
    options.setdefault("sleep", RecordingSleep())
    return sync_service.sync_now(app, actor, endpoint_for(app, sim, actor), client_options=options, **kwargs)


def counts(app: AppContext) -> dict[str, int]:
    with app.db.reading() as s:
        def n(model: Any) -> int:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)

        return {"citations": n(Citation), "events": n(FieldEvent), "quarantine": n(QuarantinedEvent),
                "photos": n(EvidencePhoto), "shifts": n(PatrolShift), "checks": n(PatrolCheck),
                "bundles": n(ImportedBundle)}


def citation_numbers(app: AppContext) -> list[str]:
    with app.db.reading() as s:
        return list(s.scalars(select(Citation.citation_number)))


def outcomes(app: AppContext) -> Counter[str]:
    with app.db.reading() as s:
        return Counter(dict(s.execute(select(FieldEvent.outcome, func.count()).group_by(FieldEvent.outcome))
                            .all()))


def quarantine_reasons(app: AppContext) -> list[str]:
    with app.db.reading() as s:
        return list(s.scalars(select(QuarantinedEvent.reason).order_by(QuarantinedEvent.id)))


def add_schedule(app: AppContext, lines: list[tuple[str, str, int]], effective_from: Any = None) -> None:
    """Fine schedule lines (code, description, fine_cents) in force from 2020-01-01."""
    with app.db.write_session() as s:
        for code, description, fine in lines:
            s.add(ViolationCode(code=code, description=description, fine_cents=fine,
                                effective_from=effective_from or date(2020, 1, 1), kind="other"))
        s.commit()


def fail_apply_on_call(monkeypatch: Any, call: int) -> Callable[[], None]:
    """Make the ingest's ``call``-th transaction fail ("disk full"); returns what restores it."""
    real_apply = ingest_module.Ingestor._apply
    calls = [0]

    def failing_apply(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == call:
            raise RuntimeError("disk full")
        return real_apply(self, *args, **kwargs)

    monkeypatch.setattr(ingest_module.Ingestor, "_apply", failing_apply)
    return lambda: monkeypatch.setattr(ingest_module.Ingestor, "_apply", real_apply)
