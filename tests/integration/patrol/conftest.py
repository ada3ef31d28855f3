from tests.helpers.sync_helpers import simulator_factory  # noqa: F401
