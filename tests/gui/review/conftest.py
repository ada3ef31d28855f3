"""GUI fixtures for the review screen: a UiContext over a temporary database with review data."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from desktop.domain.roles import Role
from desktop.services.core.context import AppContext
from tests.helpers.review_data import seed_reference


def make_ctx(app: AppContext, actor):  # type: ignore[no-untyped-def]
    from desktop.ui.common.messages import MessageChannel
    from desktop.ui.common.tasks import TaskRunner
    from desktop.ui.context import UiContext

    return UiContext(app=app, actor=actor, runner=TaskRunner(), messages=MessageChannel(interactive=False),
                     tz=ZoneInfo("America/Los_Angeles"))


@pytest.fixture
def reference(app: AppContext) -> AppContext:
    seed_reference(app)
    return app


@pytest.fixture
def ui(qapp, reference: AppContext, actors) -> Iterator:  # type: ignore[no-untyped-def]
    """A UiContext for a clerk (``ui.for_role(role)`` for another)."""
    ctx = make_ctx(reference, actors[Role.CLERK])
    contexts = [ctx]

    def for_role(role: Role):  # type: ignore[no-untyped-def]
        other = make_ctx(reference, actors[role])
        contexts.append(other)
        return other

    ctx.for_role = for_role  # type: ignore[attr-defined]
    yield ctx
    for c in contexts:
        c.runner.wait_all(10000)
