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
