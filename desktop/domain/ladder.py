"""A jurisdiction profile seen as the ladder a case climbs, rung by rung, for the daily escalation.

``case_plan.plan_case`` answers "where is this one case" from its whole history. The
daily escalation moves a million cases at once in SQL, so it needs the same rules
spelled out per step: what entering a rung does (penalty, notice, a move to
collections), and how the date of the following rung is counted (from the issue
date, from the mailing of this rung's notice, or from entering it). ``ladder()``
derives exactly that from a profile; nothing here is new law.

Rungs are the profile's stages, plus one "final" rung when the last stage's own
deadline leads somewhere (collections referral, judgment ...): its key is
``final:<action>`` so it never clashes with a stage key.

Next-action codes (stored in ``Citation.next_action``, at most 80 characters):

``mail:<notice kind>``        the rung's notice is queued and waits for the mail office
``owner:<notice kind>``       the notice is held: no registered owner, or an address that cannot be mailed
``next_stage:<stage key>``    if unpaid, the next stage begins on the date
``collections_referral``, ``judgment``, ``charge_certificate``, ``order_for_recovery``
                              if unpaid, that happens on the date
``review``                    a person reviews the case on the date (no automatic step left)
``collections_follow_up``     referred to collections; follow up on the date
``hold:<kind>``               paused by a hold (appeal, payment plan, supervisor); review it on the date
``decide:<appeal level>``     an appeal waits for its decision, due on the date
``review:unscheduled``        the rules could not place the case (no profile version): a person must look
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from desktop.domain.profiles import DeadlineAction, JurisdictionProfile, Penalty, TriggerKind

FINAL_PREFIX = "final:"


class Anchor(str, Enum):
    """What the date of the following rung counts from."""

    ISSUE = "issue"
    """The (local) issue date, plus every day the case spent on hold."""
    MAILING = "mailing"
    """The day this rung's notice was mailed (unknown until it is)."""
    ENTRY = "entry"
    """The day the case entered this rung."""


@dataclass(frozen=True)
class Rung:
    """One step of the ladder and what reaching it means."""

    index: int
    key: str
    name: str
    entry_action: DeadlineAction
    """Why a case arrives here: the previous rung's ``on_deadline`` (``next_stage`` for ordinary steps)."""
    penalty: Penalty
    notice_kind: str | None
    moves_to_collections: bool
    anchor: Anchor | None
    """How the next rung's date is counted; None when nothing automatic follows."""
    days: int | None
    next_code: str | None
    """The next-action code once this rung's notice (if any) is mailed."""
    is_final: bool = False

    @property
    def mail_code(self) -> str | None:
        return f"mail:{self.notice_kind}" if self.notice_kind else None

    @property
    def owner_code(self) -> str | None:
        return f"owner:{self.notice_kind}" if self.notice_kind else None

    @property
    def notice_dedupe_key(self) -> str:
        return f"stage:{self.key}"

    @property
    def penalty_dedupe_key(self) -> str:
        return f"penalty:{self.key}"

    @property
    def is_legal_step(self) -> bool:
        """Entering it is a legal step recorded case by case in the audit trail."""
        return self.entry_action is not DeadlineAction.NEXT_STAGE


def ladder(profile: JurisdictionProfile) -> tuple[Rung, ...]:
    """The rungs of ``profile``, in order; the last is a ``final:`` rung when the last stage's deadline leads on."""
    stages = profile.stages
    rungs: list[Rung] = []
    for index, stage in enumerate(stages):
        entry = DeadlineAction.NEXT_STAGE if index == 0 else stages[index - 1].on_deadline
        if index + 1 < len(stages):
            following = stages[index + 1]
            anchor = Anchor.ISSUE if following.trigger.kind is TriggerKind.DAYS_AFTER_ISSUE else Anchor.MAILING
            days: int | None = following.trigger.days
            action = stage.on_deadline
            code: str | None = f"next_stage:{following.key}" if action is DeadlineAction.NEXT_STAGE else action.value
        else:
            anchor = Anchor.MAILING if stage.notice_kind else Anchor.ENTRY
            days = stage.final_deadline_days
            code = stage.on_deadline.value
        rungs.append(Rung(index, stage.key, stage.name, entry, stage.penalty, stage.notice_kind,
                          entry is DeadlineAction.COLLECTIONS_REFERRAL, anchor, days, code))
    last = stages[-1]
    if last.on_deadline is not DeadlineAction.REVIEW:
        action = last.on_deadline
        collections = action is DeadlineAction.COLLECTIONS_REFERRAL
        rungs.append(Rung(len(stages), FINAL_PREFIX + action.value, _FINAL_NAMES.get(action, action.value),
                          action, Penalty(), None, collections, None, None,
                          "collections_follow_up" if collections else "review", is_final=True))
    return tuple(rungs)


_FINAL_NAMES = {
    DeadlineAction.COLLECTIONS_REFERRAL: "Referred to collections",
    DeadlineAction.JUDGMENT: "Judgment entered",
    DeadlineAction.CHARGE_CERTIFICATE: "Charge certificate",
    DeadlineAction.ORDER_FOR_RECOVERY: "Order for recovery",
}

_ACTION_TEXT = {
    "collections_referral": "If unpaid: refer to collections",
    "judgment": "If unpaid: enter judgment",
    "charge_certificate": "If unpaid: issue the charge certificate",
    "order_for_recovery": "If unpaid: register the order for recovery",
    "review": "Review the case (no further automatic step)",
    "collections_follow_up": "In collections: follow up",
    "review:unscheduled": "Review: no schedule could be found for this case",
}


def _words(text: str) -> str:
    return text.replace("_", " ")


def stage_name(profile: JurisdictionProfile | None, key: str | None) -> str:
    """The clerk's name of a stage (or final rung) key."""
    if not key:
        return "—"
    if profile is not None:
        for rung in ladder(profile):
            if rung.key == key:
                return rung.name
    if key.startswith(FINAL_PREFIX):
        return _words(key[len(FINAL_PREFIX):]).capitalize()
    return _words(key).capitalize()


def describe_next_action(code: str | None, profile: JurisdictionProfile | None = None) -> str:
    """A sentence for a next-action code, e.g. ``mail:final_notice`` -> "Mail the final notice"."""
    if not code:
        return "—"
    kind, _, rest = code.partition(":")
    if kind == "mail" and rest:
        return f"Mail the {_words(rest)}"
    if kind == "owner" and rest:
        return f"Notice held ({_words(rest)}): find a mailable owner address"
    if kind == "next_stage" and rest:
        return f"If unpaid: {stage_name(profile, rest).lower()}"
    if kind == "hold" and rest:
        return f"On hold ({_words(rest)}): review the hold"
    if kind == "decide" and rest:
        deemed = ""
        if profile is not None:
            try:
                level = profile.appeal_level(rest)
            except Exception:  # noqa: BLE001 - an unknown level only loses the remark
                level = None
            if level is not None and level.deemed_accepted_if_undecided:
                deemed = " (deemed accepted if not decided by then)"
        return f"Decide the {_words(rest)}{deemed}"
    return _ACTION_TEXT.get(code, _words(code).capitalize())
