"""Content digests: evidence photos, appellants' documents and bundle files are named by SHA-256."""

from __future__ import annotations

import re

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def is_sha256_hex(value: object) -> bool:
    """True for a lowercase 64-digit hex digest."""
    return isinstance(value, str) and SHA256_HEX.match(value) is not None
