"""Sync unit-test fixtures, shared from tests.helpers.sync_helpers."""

from tests.helpers.sync_helpers import no_sleep, simulator_factory  # noqa: F401
