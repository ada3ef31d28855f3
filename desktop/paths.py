"""Where things live: the user's data folder, the default database, logs and evidence."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Curbdesk"
APP_AUTHOR = "Curbdesk"


@dataclass(frozen=True)
class AppPaths:
    """The data folder and what lives in it."""

    data_dir: Path

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
        chosen = data_dir or os.environ.get("CURBDESK_DATA_DIR") or platformdirs.user_data_dir(
            APP_NAME, APP_AUTHOR
        )
        return cls(Path(chosen).expanduser().resolve())

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"

    @property
    def print_dir(self) -> Path:
        return self.data_dir / "print"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def drop_dir(self) -> Path:
        return self.data_dir / "dock-drop"

    @property
    def audit_key_file(self) -> Path:
        """The office's audit key (HMAC-SHA256, 0600), kept apart from the database: the data folder's
        ``audit.key``, or the file named by ``CURBDESK_AUDIT_KEY`` (a shared office points every desk at
        the one key, e.g. on the office's protected share). Never stored in the database."""
        chosen = os.environ.get("CURBDESK_AUDIT_KEY")
        return Path(chosen).expanduser().resolve() if chosen else self.data_dir / "audit.key"

    @property
    def audit_checkpoint_file(self) -> Path:
        """The append-only log of the audit trail's checkpoints, beside the key."""
        return self.audit_key_file.parent / "audit-checkpoints.log"

    @property
    def default_db_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'curbdesk.sqlite3'}"

    def ensure(self) -> None:
        for d in (self.data_dir, self.evidence_dir, self.documents_dir, self.print_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)


def resolve_db_url(db: str | None, paths: AppPaths) -> str:
    return db or os.environ.get("CURBDESK_DB") or paths.default_db_url
