"""The printing port: the notice run prints through the context's renderer, the renderer crosses a
process boundary, and no service imports a module of `reports` other than its data contract."""

from __future__ import annotations

import ast
import pickle
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from desktop.domain.roles import Role
from desktop.services.core.context import Actor, AppContext
from desktop.services.notices import runs as nr
from reports.renderer import ReportLabRenderer
from tests.helpers.notice_cases import queue_case

SERVICES = Path(__file__).resolve().parents[3] / "desktop" / "services"


@dataclass
class Recording:
    """A renderer that notes each call and passes it on to the real one."""

    inner: Any
    calls: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return target(*args, **kwargs)
        return call


def test_the_notice_run_prints_through_the_contexts_renderer(
        app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    queue_case(app)
    recording = Recording(app.renderer)
    result = nr.run_notices(replace(app, renderer=recording), actors[Role.MAIL_OFFICE], tmp_path)
    assert result.printed == 1
    assert recording.calls.count("notice_batch") == 1
    assert {"tracking_code", "print_copy", "prints_notice"} <= set(recording.calls)


def test_the_renderer_pickles() -> None:
    assert isinstance(pickle.loads(pickle.dumps(ReportLabRenderer())), ReportLabRenderer)


def test_services_import_only_the_data_contract_of_reports() -> None:
    found = []
    for path in sorted(SERVICES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = ([f"{node.module}.{a.name}" for a in node.names] if node.module == "reports"
                         else [node.module])
            found += [f"{path.relative_to(SERVICES)}: {n}" for n in names
                      if (n == "reports" or n.startswith("reports.")) and n != "reports.data"]
    assert found == []
