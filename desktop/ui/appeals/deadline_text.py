"""How the Appeals screens show a deadline: the traffic-light colours, the "days left" wording and the
currency of a jurisdiction profile. Shared by the docket, the hearing workspace and the decision panel.
"""

from __future__ import annotations

from desktop.domain.appeals import PENDING_STATUSES

RED, AMBER, GREEN, GREY = "#b71c1c", "#9a6700", "#2e7d32", "#666666"


def days_left_text(days: int | None, status: str, deemed_rule: bool = False) -> str:
    """"5 days", "decide today", "3 days OVERDUE"; past an English deadline "deemed accepted" (by law, even
    before the daily run records it)."""
    if status not in PENDING_STATUSES:
        return status.replace("_", " ")
    if days is None:
        return "—"
    if days < 0 and deemed_rule:
        return "deemed accepted"
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} OVERDUE"
    if days == 0:
        return "decide today"
    return f"{days} day{'s' if days != 1 else ''}"
