"""Review test fixtures (the data itself is built by tests.helpers.review_data)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from desktop.services.core.context import AppContext
from tests.helpers.review_data import ISSUED, LA, LAT, LON, ZONE, add_pending, seed_reference, warnings_of  # noqa: F401 - re-exported for the tests of this folder


@pytest.fixture
def reference(app: AppContext) -> AppContext:
    seed_reference(app)
    return app


@pytest.fixture
def pending(reference: AppContext) -> Callable[..., int]:
    def make(**kw: Any) -> int:
        return add_pending(reference, **kw)
    return make
