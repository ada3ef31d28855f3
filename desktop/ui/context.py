"""What every view is handed: the application context, the signed-in user, the task runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.services.core.context import Actor, AppContext
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner


@dataclass
class UiContext:
    app: AppContext
    actor: Actor
    runner: TaskRunner
    messages: MessageChannel
    tz: Any

    def evidence_path(self, sha256: str) -> Path:
        from desktop.persistence.evidence import EvidenceStore

        return EvidenceStore(self.app.paths.evidence_dir).path_for(sha256)

    def error(self, exc: BaseException) -> None:
        self.messages.error(exc)

    def info(self, text: str) -> None:
        self.messages.info(text)
