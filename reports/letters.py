"""Mailed letters and receipts: hearing notice, decision, acknowledgement, refund, reversal, receipt.

Each is a `StoryDocument` with `mailed = True`: page 1 carries the letterhead in the upper window and the
recipient (with IMb) in the address window, and the letter body flows below; longer letters continue on
pages with a running header.
"""

from __future__ import annotations

import io
from typing import Any, ClassVar
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table

from reports.base import (
    ACCENT,
    BLACK,
    FONT,
    FONT_BOLD,
    RULE,
    SHADE,
    StoryDocument,
    draw_code128,
    fmt_datetime,
    key_value_rows,
    money,
    para,
    table_style,
    text,
)
from reports.data import (
    AcknowledgementData,
    CitationFacts,
    Decision,
    DecisionLetterData,
    HearingNoticeData,
    LedgerLine,
    ReceiptData,
    RefundLetterData,
    ReversalLetterData,
)
from reports.profiles import print_profile

_TABLE = table_style([
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
])


def facts_table(rows: list[list[Flowable]], widths: tuple[float, float] = (130, 380)) -> Table:
    t = Table(rows, colWidths=widths, hAlign="LEFT")
    t.setStyle(_TABLE)
    return t


def grid(header: list[str], rows: list[list[str]], widths: list[float], right_cols: tuple[int, ...] = ()) -> Table:
    """A ruled table with a shaded header row; `right_cols` are right-aligned (money)."""
    data: list[list[Flowable]] = [[para(escape(h), "cell_bold") for h in header]]
    for row in rows:
        data.append([text(v, "cell") for v in row])
    t = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style = table_style([
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ])
    t.setStyle(style)
    for c in right_cols:
        for r in range(len(data)):
            cell = data[r][c]
            cell.style = cell.style.clone(f"r{c}", alignment=2)  # type: ignore[attr-defined]
    return t


class MailedLetter(StoryDocument[Any]):
    """Common shape of a mailed letter: date and reference line, subject, body, signature."""

    mailed = True
    subject: ClassVar[str] = ""

    def facts(self) -> CitationFacts | None:
        return getattr(self.data, "facts", None)

    def reference(self) -> str:
        f = self.facts()
        number = f.citation_number if f else getattr(self.data, "citation_number", "")
        appeal = getattr(self.data, "appeal_number", "")
        parts = [f"{self.profile.citation_label} {number}" if number else "", f"Appeal {appeal}" if appeal else ""]
        return "  \u00b7  ".join(p for p in parts if p)

    def heading(self) -> list[Flowable]:
        letter_date = getattr(self.data, "letter_date", None)
        head = Table([[para(f"<b>{escape(self.title.upper())}</b>", "h2"),
                       para(f"<para alignment='right'>{escape(self.date(letter_date))}<br/>"
                            f"{escape(self.reference())}</para>", "small")]],
                     colWidths=[330, 182], hAlign="LEFT")
        head.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                  ("LINEBELOW", (0, 0), (-1, 0), 1.2, ACCENT)]))
        name = self.data.recipient.name
        return [head, Spacer(0, 8), text(f"Dear {name},")]

    def citation_block(self) -> list[Flowable]:
        f = self.facts()
        if f is None:
            return []
        rows = key_value_rows([
            (f"{self.profile.citation_label} number", f.citation_number),
            ("Issued", fmt_datetime(f.issued_at, f.timezone_name, self.profile)),
            ("Vehicle", f"{f.plate} ({f.plate_jurisdiction}) {f.make} {f.color}".strip()),
            ("Location", f.location),
            ("Violation", f"{f.violation_code} {f.violation_description}"),
        ])
        return [facts_table(rows), Spacer(0, 8)]

    def signature(self) -> list[Flowable]:
        a = self.agency
        return [Spacer(0, 6), text("Sincerely,"), Spacer(0, 14),
                para(f"<b>{escape(a.signature_name or a.department)}</b><br/>{escape(a.signature_title)}<br/>"
                     f"{escape(a.name)}", "body")]

    def contact(self) -> Flowable:
        a = self.agency
        bits = [f"telephone {a.phone}" if a.phone else "", a.office_hours, a.web_url]
        return para("Questions: " + escape(", ".join(b for b in bits if b)) + ".", "small")


def ledger_table(doc: StoryDocument[Any], lines: tuple[LedgerLine, ...]) -> Table:
    rows = [[doc.date(line.posted_on), line.description, line.reference, doc.money(line.amount_cents)]
            for line in lines]
    return grid(["Date", "Entry", "Reference", "Amount"], rows, [80, 240, 110, 82], right_cols=(3,))


class HearingNotice(MailedLetter):
    """Notice of the date, time and place of an administrative hearing."""

    title = "Notice of Hearing"

    def story(self) -> list[Flowable]:
        d: HearingNoticeData = self.data  # type: ignore[assignment]
        when = fmt_datetime(d.hearing_at, d.facts.timezone_name, self.profile)
        out = self.heading() + [
            text(f"Your request for a hearing on the parking {self.profile.citation_label.lower()} below has been "
                 f"scheduled. Please keep this notice."),
            Spacer(0, 4),
            facts_table(key_value_rows([("Hearing date and time", when), ("Type of hearing", d.mode),
                                        ("Where", "\n".join(d.location_lines)),
                                        ("Instructions", d.join_instructions)])),
            Spacer(0, 8),
        ] + self.citation_block()
        if d.what_to_bring:
            out.append(para("<b>Please bring</b>", "body"))
            out.extend(text("\u2022  " + item, "body") for item in d.what_to_bring)
        if d.reschedule_by:
            out.append(text(f"If you cannot attend, ask to reschedule by {self.date(d.reschedule_by)}. If you do not "
                            f"attend and have not rescheduled, the hearing officer will decide on the evidence "
                            f"on file."))
        else:
            out.append(text("The hearing is too close for a request to reschedule by post. If you cannot attend, "
                            f"telephone {self.agency.phone} before the hearing; otherwise the hearing officer will "
                            f"decide on the evidence on file."))
        out.append(text("You may instead ask for the hearing to be decided on written evidence only; send it to "
                         "the address above so it arrives before the hearing date."))
        return out + [self.contact()] + self.signature()


class DecisionLetter(MailedLetter):
    """The decision on a review, representation or hearing; states the new amount and the next level."""

    title = "Notice of Decision"

    def story(self) -> list[Flowable]:
        d: DecisionLetterData = self.data  # type: ignore[assignment]
        outcome = {Decision.UPHELD: "UPHELD - the citation stands",
                   Decision.DISMISSED: "DISMISSED - the citation is cancelled",
                   Decision.REDUCED: "REDUCED - the amount owed is lowered"}[d.decision]
        box = Table([[para(f"<b>Decision: {escape(outcome)}</b>", "body")]], colWidths=[512], hAlign="LEFT")
        box.setStyle(table_style([("BACKGROUND", (0, 0), (-1, -1), SHADE), ("BOX", (0, 0), (-1, -1), 0.8, ACCENT),
                                 ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
        out = self.heading() + [
            text(f"The {d.level.lower()} of your appeal {d.appeal_number} has been decided by {d.decided_by}."),
            box, Spacer(0, 8)] + self.citation_block() + [
            para("<b>Reasons for the decision</b>", "body"), text(d.reason_text), Spacer(0, 4),
            facts_table(key_value_rows([
                ("Original amount", self.money(d.original_amount_cents)),
                ("Amount after decision", self.money(d.new_amount_cents)),
                ("Now due", self.money(d.amount_due_cents)),
                ("Pay by", self.date(d.pay_by_date)),
                ("Refund due to you", self.money(d.refund_due_cents) if d.refund_due_cents else ""),
            ])), Spacer(0, 8)]
        if d.amount_due_cents and d.pay_by_date:
            out.append(text(f"Please pay {self.money(d.amount_due_cents)} by {self.date(d.pay_by_date)} at "
                            f"{self.agency.pay_url(d.facts.citation_number)} or by mail to the address above."))
        if d.discount_cents is not None and d.discount_deadline is not None:
            out.append(text(f"The discount is offered again: if payment of {self.money(d.discount_cents)} reaches "
                            f"us by {self.date(d.discount_deadline)}, the penalty charge is settled at that "
                            f"reduced amount."))
        if d.next_level:
            deadline = f" by {self.date(d.next_level_deadline)}" if d.next_level_deadline else ""
            out.append(para(f"<b>If you disagree.</b> You may appeal this decision to the {escape(d.next_level)}"
                            f"{escape(deadline)}. {escape(d.next_level_instructions)}", "body"))
        return out + [self.contact()] + self.signature()


class AppealAcknowledgement(MailedLetter):
    """Acknowledgement that a contest, representation or appeal was received."""

    title = "Acknowledgement of Your Appeal"

    def story(self) -> list[Flowable]:
        d: AcknowledgementData = self.data  # type: ignore[assignment]
        out = self.heading() + [
            text(f"We received your request for {d.level.lower()} ({d.channel.lower()}) on "
                 f"{fmt_datetime(d.received_at, d.facts.timezone_name, self.profile)}. Its reference is "
                 f"{d.appeal_number}; please quote it in any letter or call."),
        ] + self.citation_block()
        rows = [("Grounds stated", d.grounds), ("Documents received", ", ".join(d.documents_received)),
                ("Decision expected by", self.date(d.decision_due_by))]
        out += [facts_table(key_value_rows(rows)), Spacer(0, 8)]
        if d.penalties_paused:
            out.append(text("While your appeal is considered, no penalties will be added and no further notices "
                            "will be sent about this citation."))
        if self.profile.code == "ENG" and d.decision_due_by:
            out.append(text("If we do not serve notice of our decision within 56 days of receiving your "
                            "representations, they will be treated as accepted."))
        return out + [self.contact()] + self.signature()


class RefundLetter(MailedLetter):
    """Letter that goes with a refund."""

    title = "Refund"

    def story(self) -> list[Flowable]:
        d: RefundLetterData = self.data  # type: ignore[assignment]
        out = self.heading() + [
            text(d.reason),
            facts_table(key_value_rows([
                (f"{self.profile.citation_label} number", d.citation_number),
                ("Payment received", f"{self.money(d.payment_cents)} on {self.date(d.payment_date)}"
                 if d.payment_cents is not None else ""),
                ("Refund amount", self.money(d.refund_cents)),
                ("Refund method", d.refund_method), ("Reference", d.refund_reference)])),
            Spacer(0, 8)]
        if d.ledger:
            out += [para("<b>Account history</b>", "body"), ledger_table(self, d.ledger), Spacer(0, 8)]
        return out + [self.contact()] + self.signature()


class ReversalLetter(MailedLetter):
    """Letter after a payment was returned by the bank (cheque or ACH): the balance is due again."""

    title = "Returned Payment"

    def story(self) -> list[Flowable]:
        d: ReversalLetterData = self.data  # type: ignore[assignment]
        out = self.heading() + [
            text(f"Your {d.instrument.lower()} payment of {self.money(d.amount_cents)} made on "
                 f"{self.date(d.payment_date)} for {self.profile.citation_label.lower()} {d.citation_number} "
                 f"was returned unpaid by your bank"
                 + (f" with return code {d.return_reason_code} ({d.return_reason})" if d.return_reason_code
                    else (f": {d.return_reason.rstrip('.')}" if d.return_reason else ""))
                 + ". The payment has been reversed on your account."),
            facts_table(key_value_rows([
                ("Returned item", f"{d.instrument}, {d.instrument_reference}"),
                ("Amount reversed", self.money(d.amount_cents)),
                ("Returned item fee", self.money(d.returned_item_fee_cents) if d.returned_item_fee_cents else ""),
                ("Balance now due", self.money(d.balance_cents)), ("Pay by", self.date(d.pay_by_date))])),
            Spacer(0, 8),
            text(f"Please pay {self.money(d.balance_cents)} by {self.date(d.pay_by_date)} by certified funds, "
                 f"card, or online at {self.agency.pay_url(d.citation_number)}. Penalties will resume if the "
                 f"balance is not paid."),
        ]
        return out + [self.contact()] + self.signature()


class PaymentReceipt(MailedLetter):
    """Payment receipt on a full page; mailed (window address) when the receipt has a recipient."""

    title = "Payment Receipt"

    @property
    def mailed(self) -> bool:  # type: ignore[override]
        return getattr(self.data, "recipient", None) is not None

    def reference(self) -> str:
        return f"Receipt {self.data.receipt_number}"

    def heading(self) -> list[Flowable]:
        d: ReceiptData = self.data  # type: ignore[assignment]
        head = Table([[para(f"<b>{escape(self.title.upper())}</b>", "h2"),
                       para(f"<para alignment='right'>{escape(self.reference())}"
                            f"{'<br/><b>REPRINT</b>' if d.reprint else ''}</para>", "small")]],
                     colWidths=[330, 182], hAlign="LEFT")
        head.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                  ("LINEBELOW", (0, 0), (-1, 0), 1.2, ACCENT)]))
        return [head, Spacer(0, 8)]

    def story(self) -> list[Flowable]:
        d: ReceiptData = self.data  # type: ignore[assignment]
        rows = [("Received", fmt_datetime(d.received_at, d.timezone_name, self.profile)), ("From", d.payer_name),
                ("Method", d.agency.spell(d.method) + (f" ({d.method_detail})" if d.method_detail else "")),
                ("Amount received", self.money(d.amount_cents))]
        if d.tendered_cents is not None:
            rows += [("Tendered", self.money(d.tendered_cents)), ("Change", self.money(d.change_cents))]
        rows += [("Cashier", d.cashier), ("Workstation", d.workstation)]  # an empty one is left out
        alloc = [[a.citation_number, a.plate, self.money(a.applied_cents), self.money(a.balance_after_cents)]
                 for a in d.allocations]
        total = sum(a.applied_cents for a in d.allocations)
        alloc.append(["Total applied", "", self.money(total), ""])
        return self.heading() + [
            facts_table(key_value_rows(rows)), Spacer(0, 10),
            para("<b>Applied to</b>", "body"),
            grid([f"{self.profile.citation_label} number", "Plate", "Applied", "Balance after"], alloc,
                 [170, 120, 110, 112], right_cols=(2, 3)),
            Spacer(0, 10),
            text(f"Thank you. Keep this receipt as proof of payment. A payment by {self.agency.spell('check')} or "
                 f"bank transfer is credited subject to the bank {self.agency.spell('honoring')} it."),
            self.contact(),
        ]


class ThermalReceipt:
    """The counter receipt on 80 mm thermal paper (72 mm printable), one continuous page."""

    title = "Payment Receipt"
    WIDTH = 80 * 72 / 25.4
    LINE = 10.5

    def __init__(self, data: ReceiptData) -> None:
        self.data = data
        self.profile = print_profile(data.profile_code)

    def _lines(self) -> list[tuple[str, str, str]]:
        """(font, left, right) lines; right may be ""."""
        fdt = fmt_datetime
        d = self.data
        sym = self.profile.currency_symbol
        out: list[tuple[str, str, str]] = [(FONT_BOLD, d.agency.name, ""), (FONT, d.agency.department, "")]
        out += [(FONT, line, "") for line in d.agency.return_address_lines]
        out += [(FONT, d.agency.phone, ""), ("rule", "", ""), (FONT_BOLD, "PAYMENT RECEIPT", ""),
                (FONT, "Receipt", d.receipt_number), (FONT, fdt(d.received_at, d.timezone_name, self.profile), ""),
                *[(FONT, label, value) for label, value in (("Cashier", d.cashier), ("Station", d.workstation))
                  if value], ("rule", "", "")]
        for a in d.allocations:
            out += [(FONT, a.citation_number, money(a.applied_cents, sym)),
                    (FONT, f"  {a.plate}  bal. after", money(a.balance_after_cents, sym))]
        out += [("rule", "", ""), (FONT_BOLD, "TOTAL", money(d.amount_cents, sym)),
                (FONT, d.agency.spell(d.method) + (f" {d.method_detail}" if d.method_detail else ""), "")]
        if d.tendered_cents is not None:
            out += [(FONT, "Tendered", money(d.tendered_cents, sym)), (FONT, "Change", money(d.change_cents, sym))]
        out += [("rule", "", ""), (FONT, "Thank you. Keep this receipt.", "")]
        if d.reprint:
            out.append((FONT_BOLD, "*** REPRINT ***", ""))
        return out

    def render(self) -> bytes:
        margin = 4 * 72 / 25.4
        width = self.WIDTH - 2 * margin
        lines: list[tuple[str, str, str]] = []
        for font, left, right in self._lines():
            if font == "rule":
                lines.append((font, left, right))
                continue
            # wrapped at spaces to the paper's printable width (left of the amount when there is one)
            room = width - (pdfmetrics.stringWidth(right, font, 8) + 6 if right else 0)
            indent = " " * (len(left) - len(left.lstrip(" ")))  # the plate line is indented under its citation
            parts = simpleSplit(left, font, 8, room) or [""]
            parts[0] = indent + parts[0]
            lines += [(font, part, right if k == len(parts) - 1 else "") for k, part in enumerate(parts)]
        height = len(lines) * self.LINE + 2 * margin + 40
        buf = io.BytesIO()
        c = Canvas(buf, pagesize=(self.WIDTH, height), pageCompression=1, invariant=1)
        c.setTitle(self.title)
        c.setFillColor(BLACK)
        c.setStrokeColor(BLACK)
        y = height - margin - 9
        for font, left, right in lines:
            if font == "rule":
                c.setDash(1, 2)
                c.line(margin, y + 4, self.WIDTH - margin, y + 4)
                c.setDash()
            else:
                c.setFont(font, 8)
                c.drawString(margin, y, left)
                if right:
                    c.drawRightString(self.WIDTH - margin, y, right)
            y -= self.LINE
        draw_code128(c, self.data.receipt_number, margin, margin, bar_height=22)
        c.showPage()
        c.save()
        return buf.getvalue()


__all__ = ["HearingNotice", "DecisionLetter", "AppealAcknowledgement", "RefundLetter", "ReversalLetter",
           "PaymentReceipt", "ThermalReceipt", "KeepTogether", "colors"]
