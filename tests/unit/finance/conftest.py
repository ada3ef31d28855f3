"""Shared paths for the finance tests: the real bank files under /work/shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

BANK_FILES = Path("/work/shared/data/bank_payment_files")


@pytest.fixture(scope="session")
def bank_files() -> Path:
    if not BANK_FILES.is_dir():
        pytest.skip("shared bank payment files are not available")
    return BANK_FILES
