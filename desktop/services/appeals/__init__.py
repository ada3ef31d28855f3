"""Appeals and hearings: intake, levels and deadlines, hearings, decisions, the appellant's documents, the evidence packet.

The use cases live one workflow step to a module: ``intake`` (preview, filing, documents sent later),
``hearings`` (officers' availability, scheduling, adjournments), ``decisions`` (decide, withdraw),
``deadlines`` (the daily deadline rule), ``lists`` (the docket, a day's hearings); ``common`` holds what
they share. They are gathered here so a screen can say ``appeals.file_appeal``; the evidence packet
and the letters (``packet``) are imported on their own, being heavier.
"""

from desktop.services.appeals.common import case_history, case_profile, contest_events
from desktop.services.appeals.deadlines import DeadlineItem, DeadlineSummary, apply_appeal_deadlines
from desktop.services.appeals.decisions import DecisionResult, decide_appeal, withdraw_appeal
from desktop.services.appeals.hearings import (
    Booking,
    OfficerChoice,
    SlotView,
    add_slot,
    adjourn_hearing,
    free_times,
    hearing_officers,
    officer_day,
    schedule_hearing,
)
from desktop.services.appeals.intake import (
    AppealRequest,
    FiledAppeal,
    GroundChoice,
    IntakePreview,
    add_documents,
    check_documents,
    display_name,
    file_appeal,
    intake_preview,
)
from desktop.services.appeals.lists import (
    AppealRow,
    DocketRow,
    appeals_for_case,
    docket,
    latest_appeal_id,
    list_appeals,
)
from desktop.services.cases.balances import ledger_money

__all__ = [
    "AppealRequest", "AppealRow", "Booking", "DeadlineItem", "DeadlineSummary", "DecisionResult", "DocketRow",
    "FiledAppeal", "GroundChoice", "IntakePreview", "OfficerChoice", "SlotView", "add_documents", "add_slot",
    "adjourn_hearing", "appeals_for_case", "apply_appeal_deadlines", "case_history", "case_profile",
    "check_documents", "contest_events", "decide_appeal", "display_name", "docket", "file_appeal", "free_times",
    "hearing_officers", "intake_preview", "latest_appeal_id", "ledger_money", "list_appeals", "officer_day",
    "schedule_hearing", "withdraw_appeal",
]
