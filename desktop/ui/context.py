"""What every view is handed: the application context, the signed-in user, the task runner, the message
channel and the operation bus (see `desktop.ui.common.operations`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.persistence.evidence import EvidenceStore
from desktop.services.core.context import Actor, AppContext
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.operations import OperationBus
from desktop.ui.common.tasks import TaskRunner


@dataclass
class UiContext:
    app: AppContext
    actor: Actor
    runner: TaskRunner
    messages: MessageChannel
    tz: Any
    #: app-wide "data changed" notices from mutations; one per signed-in session
    bus: OperationBus = field(default_factory=OperationBus)
    #: the demo office: every window says so ("— DEMO" in the title bar)
    demo: bool = False

    def evidence_path(self, sha256: str) -> Path:
        return EvidenceStore(self.app.paths.evidence_dir).path_for(sha256)

    def error(self, exc: BaseException) -> None:
        self.messages.error(exc)

    def info(self, text: str) -> None:
        self.messages.info(text)
