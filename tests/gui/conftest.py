"""GUI fixtures: a UiContext over a temporary database, with a non-interactive message channel."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from desktop.domain.roles import Role
from desktop.services.core.context import AppContext
from desktop.ui.common.map_tiles import register_tile_scheme
from tests.helpers.sync_helpers import simulator_factory  # noqa: F401  (fixture of the sync screen's tests)

# The street map's URL scheme must be declared before pytest-qt creates the application, as the app does.
register_tile_scheme()


@pytest.fixture
def ui_ctx(qapp, app: AppContext, actors: dict) -> Iterator:
    from desktop.ui.common.messages import MessageChannel, set_channel
    from desktop.ui.common.tasks import TaskRunner
    from desktop.ui.context import UiContext

    messages = MessageChannel(interactive=False)
    set_channel(messages)
    runner = TaskRunner()
    ctx = UiContext(app=app, actor=actors[Role.CLERK], runner=runner, messages=messages,
                    tz=ZoneInfo("America/Los_Angeles"))
    yield ctx
    runner.wait_all(10000)


@pytest.fixture(autouse=True)
def _runners_end_with_their_test() -> Iterator[None]:
    """Work and listeners a test started end with it: a change-feed listener left polling would run
    Python on a Qt thread until the interpreter finalizes, which crashes the process at exit."""
    from desktop.ui.common.tasks import live_runners, stop_all_runners

    before = set(map(id, live_runners()))
    yield
    stop_all_runners(10000, only=[r for r in live_runners() if id(r) not in before])
