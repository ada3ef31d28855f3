"""The operations API: the owner guard, errors through the message channel, progress and Cancel, and
the change notification of mutations."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import shiboken6
from PySide6.QtWidgets import QWidget

from desktop.domain.errors import UserError
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.operations import Changes, Mutation, OperationBus, Query
from desktop.ui.common.progress import ProgressPanel
from desktop.ui.common.tasks import Cancelled, TaskControl, TaskRunner


class Host:
    """The three things an operation needs, without a database."""

    def __init__(self) -> None:
        self.runner = TaskRunner()
        self.messages = MessageChannel(interactive=False)
        self.bus = OperationBus()


@pytest.fixture
def host(qapp: Any) -> Iterator[Host]:
    h = Host()
    yield h
    h.runner.wait_all(10000)


@pytest.fixture
def owner(qtbot: Any) -> QWidget:
    w = QWidget()
    qtbot.addWidget(w)
    return w


def _gated(gate: threading.Event, result: Any = 42) -> Any:
    def work(_c: TaskControl) -> Any:
        assert gate.wait(10)
        return result
    return work


def test_success_runs_on_the_gui_thread(qtbot: Any, host: Host, owner: QWidget) -> None:
    got: list[tuple[int, str]] = []
    task = Query(host, owner, lambda _c: 7,
                 success=lambda r: got.append((r, threading.current_thread().name))).run()
    qtbot.waitUntil(lambda: not task.running)
    qtbot.waitUntil(lambda: bool(got))
    assert got == [(7, threading.main_thread().name)]


def test_owner_closed_before_the_work_finishes_gets_no_callback(qtbot: Any, host: Host, owner: QWidget) -> None:
    owner.show()
    gate = threading.Event()
    called: list[object] = []
    task = Query(host, owner, _gated(gate), success=called.append, failure=called.append) \
        .on_progress(lambda *a: called.append(a)).run()
    owner.close()
    with qtbot.waitSignal(task.finished):
        gate.set()
    assert called == []


def test_owner_destroyed_before_the_work_finishes_gets_no_callback_and_cancels(qtbot: Any, host: Host) -> None:
    owner = QWidget()
    gate = threading.Event()
    called: list[object] = []

    def work(control: TaskControl) -> int:
        assert gate.wait(10)
        control.check()
        return 1

    task = Query(host, owner, work, success=called.append, failure=called.append).run()
    owner.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(owner))
    with qtbot.waitSignal(task.failed) as sig:
        gate.set()
    assert isinstance(sig.args[0], Cancelled)
    assert called == []
    assert host.messages.last_error is None


def test_a_closed_owner_shown_again_gets_its_callback(qtbot: Any, host: Host, owner: QWidget) -> None:
    owner.show()
    owner.close()
    owner.show()
    got: list[int] = []
    task = Query(host, owner, lambda _c: 3, success=got.append).run()
    qtbot.waitUntil(lambda: not task.running)
    qtbot.waitUntil(lambda: got == [3])


def test_a_user_error_goes_to_the_message_channel(qtbot: Any, host: Host, owner: QWidget) -> None:
    def work(_c: TaskControl) -> None:
        raise UserError("The bank file is empty.")

    with qtbot.waitSignal(host.messages.error_shown) as sig:
        Query(host, owner, work).run()
    assert sig.args == ["The bank file is empty."]


def test_a_bug_goes_to_the_crash_path(qtbot: Any, host: Host, owner: QWidget) -> None:
    def work(_c: TaskControl) -> None:
        raise ZeroDivisionError("a bug")

    with qtbot.waitSignal(host.messages.error_shown) as sig:
        Query(host, owner, work).run()
    report = sig.args[0]
    assert "Traceback" in report and "ZeroDivisionError: a bug" in report  # the crash report, not a message


def test_a_failure_handler_replaces_the_channel(qtbot: Any, host: Host, owner: QWidget) -> None:
    def work(_c: TaskControl) -> None:
        raise UserError("nope")

    seen: list[BaseException] = []
    shown: list[str] = []
    host.messages.error_shown.connect(shown.append)
    task = Query(host, owner, work, failure=seen.append).run()
    qtbot.waitUntil(lambda: bool(seen))
    assert not task.running and shown == [] and str(seen[0]) == "nope"


def test_progress_and_cancel_on_the_panel(qtbot: Any, host: Host, owner: QWidget) -> None:
    panel = ProgressPanel(owner)
    owner.show()
    assert panel.bar.isHidden() and panel.cancel_button.isHidden()
    gate = threading.Event()

    def work(control: TaskControl) -> int:
        control.progress(3, 10, "three of ten")
        assert gate.wait(10)
        control.check()
        return 1

    done: list[object] = []
    messages: list[str] = []
    panel.message.connect(messages.append)
    op = Query(host, owner, work, success=done.append).with_progress(panel, "Counting…")
    task = op.run()
    assert not panel.bar.isHidden() and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: panel.bar.value() == 3 and panel.bar.maximum() == 10)
    assert messages[:2] == ["Counting…", "three of ten"]
    panel.cancel_button.click()
    assert not panel.cancel_button.isEnabled()
    with qtbot.waitSignal(host.messages.notified) as note:
        gate.set()
    assert note.args[0] == "Cancelled."
    assert not task.running and done == []
    assert panel.bar.isHidden() and panel.cancel_button.isHidden()


def test_a_mutation_emits_its_changes_to_a_subscribed_screen(qtbot: Any, host: Host, owner: QWidget) -> None:
    class FakeScreen(QWidget):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[tuple[Changes, bool]] = []
            host.bus.subscribe(self, lambda changes, initiator: self.seen.append((changes, initiator is self)))

    screen = FakeScreen()
    qtbot.addWidget(screen)
    order: list[str] = []
    host.bus.changed.connect(lambda *_a: order.append("changes"))
    changes = Changes(payments=True, cases=True, citation_ids=frozenset({12}))
    with qtbot.waitSignal(host.bus.changed) as sig:
        Mutation(host, owner, lambda _c: "posted", changes=changes, success=lambda _r: order.append("success")).run()
    assert sig.args == [changes, owner]
    assert screen.seen == [(changes, False)]
    assert order == ["success", "changes"]
    assert changes.touches_citation(12) and not changes.touches_citation(13)

    with qtbot.waitSignal(host.bus.changed):  # the screen's own mutation: it is told so
        Mutation(host, screen, lambda _c: 5, changes=lambda n: Changes(appeals=True, appeal_ids=frozenset({n}))).run()
    assert screen.seen[-1] == (Changes(appeals=True, appeal_ids=frozenset({5})), True)


def test_a_mutation_whose_owner_closed_still_announces_its_changes(qtbot: Any, host: Host, owner: QWidget) -> None:
    owner.show()
    gate = threading.Event()
    called: list[object] = []
    Mutation(host, owner, _gated(gate), changes=Changes(notices=True), success=called.append).run()
    owner.close()
    with qtbot.waitSignal(host.bus.changed) as sig:
        gate.set()
    assert sig.args[0] == Changes(notices=True) and called == []


def test_a_query_and_a_failed_mutation_emit_no_changes(qtbot: Any, host: Host, owner: QWidget) -> None:
    emitted: list[object] = []
    host.bus.changed.connect(lambda *a: emitted.append(a))
    q = Query(host, owner, lambda _c: 1).run()
    qtbot.waitUntil(lambda: not q.running)

    def broken(_c: TaskControl) -> None:
        raise UserError("refused")

    with qtbot.waitSignal(host.messages.error_shown):
        Mutation(host, owner, broken, changes=Changes(cases=True)).run()
    assert emitted == []


def test_subscription_ends_with_the_screen(qtbot: Any, host: Host) -> None:
    seen: list[Changes] = []
    screen = QWidget()
    host.bus.subscribe(screen, lambda c, _i: seen.append(c))
    host.bus.notify(Changes(users=True))
    screen.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(screen))
    host.bus.notify(Changes(settings=True))
    assert seen == [Changes(users=True)]


def test_changes_merge_and_truth() -> None:
    assert not Changes()
    merged = Changes(cases=True, citation_ids=frozenset({1})) | Changes(payments=True, citation_ids=frozenset({2}))
    assert merged == Changes(cases=True, payments=True, citation_ids=frozenset({1, 2}))
    assert Changes(cases=True).touches_citation(99)  # no ids known: any case may have changed


def test_a_partial_mutation_announces_what_it_kept_after_a_failure(qtbot: Any, host: Host, owner: QWidget) -> None:
    def work(_c: TaskControl) -> None:
        raise UserError("the server went away after two pages")

    failures: list[BaseException] = []
    with qtbot.waitSignal(host.bus.changed) as sig:
        Mutation(host, owner, work, changes=Changes(sync=True), partial=True, failure=failures.append).run()
    assert sig.args[0] == Changes(sync=True) and len(failures) == 1
