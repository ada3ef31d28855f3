"""Documents for hearing officers: the day's docket and the evidence packet of one appeal.

The packet reproduces everything the officer decides on: the citation, the photos, the map, the photos'
EXIF, each evidence file's recorded digest against the one computed when the packet was built, the device
signature's state, the case timeline, the ledger and what the appellant sent.

Appellant documents: images are reproduced on their own pages; PDFs are appended after the packet, page
for page, by `render_packet` (``reports.appendix``: bounded, and a broken or hostile file costs one
sentence on a title sheet, never the packet). The "Appellant documents" schedule lists each with its file
name, page count, date received and SHA-256.
"""

from __future__ import annotations

import os
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.utils import ImageReader
from reportlab.platypus import CondPageBreak, Flowable, Image, KeepTogether, PageBreak, Spacer, Table

from reports.appendix import append_appellant_pdfs
from reports.base import ACCENT, ALERT, SHADE, StoryDocument, fmt_datetime, key_value_rows, para, table_style, text
from reports.data import DocketData, HearingPacketData, SignatureStatus
from reports.letters import facts_table, grid, ledger_table

_OK = colors.HexColor("#1e6b32")


def _image(path: str, max_w: float, max_h: float) -> Flowable:
    """An image scaled to fit the box, aspect kept; a clear placeholder line when the file is unreadable."""
    try:
        iw, ih = ImageReader(path).getSize()
    except Exception as exc:  # noqa: BLE001 - any unreadable image becomes a visible note, not a crash
        return text(f"[Image {os.path.basename(path)} could not be read: {exc}]", "small")
    scale = min(max_w / iw, max_h / ih)
    return Image(path, width=iw * scale, height=ih * scale)


class HearingDocket(StoryDocument[DocketData]):
    """A day's hearings for one officer or room, in time order."""

    title = "Hearing Docket"

    @property
    def page_size(self) -> tuple[float, float]:
        w, h = self.profile.page_size
        return (h, w)  # landscape: ten columns

    def reference(self) -> str:
        return f"{self.date(self.data.hearing_date)}"

    def story(self) -> list[Flowable]:
        d = self.data
        tz = ZoneInfo(d.timezone_name)
        rows = []
        for e in sorted(d.entries, key=lambda e: e.hearing_at):
            local = e.hearing_at.astimezone(tz)
            clock = local.strftime("%H:%M") if self.profile.code == "ENG" else local.strftime("%-I:%M %p")
            rows.append([clock, e.appeal_number, e.citation_number, e.plate, e.appellant_name, e.mode,
                         e.violation_code, self.money(e.amount_cents), e.status, e.notes])
        w = self.page_size[0] - 72
        widths = [54, 84, 74, 64, 130, 60, 52, 56, 62, w - 636]
        return [
            para(f"Hearing docket for {escape(self.date(d.hearing_date))}", "h1"),
            facts_table(key_value_rows([
                ("Hearing officer", d.hearing_officer), ("Location", d.location),
                ("Hearings", str(len(d.entries))),
                ("Prepared", fmt_datetime(d.prepared_at, d.timezone_name, self.profile))])),
            Spacer(0, 10),
            grid(["Time", "Appeal", self.profile.citation_label, "Plate", "Appellant", "Mode", "Code", "Amount",
                  "Status", "Notes"], rows, widths, right_cols=(7,)),
        ]


class HearingPacket(StoryDocument[HearingPacketData]):
    """The evidence packet of one appeal (see the module docstring on appellant PDFs)."""

    title = "Hearing Evidence Packet"

    def reference(self) -> str:
        return f"Appeal {self.data.appeal_number}"

    def _w(self) -> float:
        return self.page_size[0] - 72

    def story(self) -> list[Flowable]:
        d = self.data
        f = d.facts
        tz = f.timezone_name
        out: list[Flowable] = [
            para(f"Evidence packet, appeal {escape(d.appeal_number)}", "h1"),
            facts_table(key_value_rows([
                ("Appellant", d.appellant_name),
                ("Hearing", fmt_datetime(d.hearing_at, tz, self.profile)),
                ("Grounds", d.grounds),
                ("Prepared", f"{fmt_datetime(d.prepared_at, tz, self.profile)} by {d.prepared_by}"),
            ]), widths=(130, self._w() - 130)),
            para("Citation", "h2"),
            facts_table(key_value_rows([
                (f"{self.profile.citation_label} number", f.citation_number),
                ("Issued", fmt_datetime(f.issued_at, tz, self.profile)),
                ("Vehicle", f"{f.plate} ({f.plate_jurisdiction}) {f.make} {f.body_style} {f.color}"),
                ("Location", f.location), ("Violation", f"{f.violation_code} {f.violation_description}"),
                ("Officer", f.officer_badge), ("Fine", self.money(f.fine_cents)),
                ("Balance", self.money(f.balance_cents)),
            ]), widths=(130, self._w() - 130)),
        ]
        if d.appellant_statement:
            out += [para("Appellant's statement", "h2"), text(d.appellant_statement)]
        out += self._photos() + self._plate_reading() + self._map() + self._integrity() + self._timeline() \
            + self._appellant()
        return out

    def _photos(self) -> list[Flowable]:
        d = self.data
        if not d.photos:
            return [para("Photographs", "h2"), text("No photographs were recorded with this citation.")]
        out: list[Flowable] = [Spacer(0, 0), para("Photographs", "h2")]
        cell_w = (self._w() - 12) / 2
        cells: list[Flowable] = []
        for i, p in enumerate(d.photos, 1):
            caption = f"Photo {i}: {p.caption}" if p.caption else f"Photo {i}"
            if p.taken_at:
                caption += f" \u00b7 {fmt_datetime(p.taken_at, d.facts.timezone_name, self.profile)}"
            cells.append([_image(p.path, cell_w, cell_w * 0.75), text(caption, "small")])  # type: ignore[arg-type]
        tables: list[Flowable] = []
        for i in range(0, len(cells), 2):
            pair = cells[i:i + 2] + ([Spacer(0, 0)] if len(cells[i:i + 2]) == 1 else [])
            t = Table([pair], colWidths=[cell_w + 6, cell_w + 6], hAlign="LEFT")
            t.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
            tables.append(t)
        # The heading stays with the first row of photos.
        return [KeepTogether(out[1:] + tables[:1])] + tables[1:]

    def _plate_reading(self) -> list[Flowable]:
        r = self.data.plate_reading
        if r is None:
            return []
        out: list[Flowable] = [para("Plate read from the photo", "h2")]
        if r.crop_png_path:
            out.append(_image(r.crop_png_path, 240, 120))
        out.append(text(r.summary))
        if r.engine:
            out.append(text(f"Read by {r.engine}; the reading is an aid, the photograph is the evidence.", "small"))
        return [KeepTogether(out)]

    def _map(self) -> list[Flowable]:
        d = self.data
        if not d.map_png_path:
            return []
        return [CondPageBreak(300), para("Map", "h2"), _image(d.map_png_path, self._w(), 300),
                text(d.map_caption, "small")]

    def _integrity(self) -> list[Flowable]:
        d = self.data
        out: list[Flowable] = [CondPageBreak(200), para("Evidence integrity", "h2")]
        sig = d.signature
        ok = sig.status == SignatureStatus.VALID
        colour = "#1e6b32" if ok else "#8b1e1e"
        label = {SignatureStatus.VALID: "VALID", SignatureStatus.INVALID: "INVALID - record or evidence altered",
                 SignatureStatus.MISSING: "NOT SIGNED", SignatureStatus.UNKNOWN_KEY: "UNKNOWN DEVICE KEY"}[sig.status]
        who = " \u00b7 ".join(x for x in (sig.signer, sig.algorithm, sig.key_id) if x)
        box = Table([[para(f"<font color='{colour}'><b>Device signature: {escape(label)}</b></font><br/>"
                           f"{escape(who)}<br/>"
                           f"{escape(sig.detail)}", "small")]], colWidths=[self._w()], hAlign="LEFT")
        box.setStyle(table_style([("BOX", (0, 0), (-1, -1), 1, _OK if ok else ALERT),
                                 ("BACKGROUND", (0, 0), (-1, -1), SHADE)]))
        out += [box, Spacer(0, 8)]
        if d.digests:
            failures = [r for r in d.digests if not r.verified]
            rows = [[r.file_name, r.recorded_sha256, r.computed_sha256, "verified" if r.verified else "MISMATCH"]
                    for r in d.digests]
            w = self._w()
            out.append(grid(["File", "Recorded SHA-256", "Computed SHA-256", "Result"], rows,
                            [80, (w - 140) / 2, (w - 140) / 2, 60]))
            summary = (f"All {len(d.digests)} evidence files match their recorded digests." if not failures else
                       f"{len(failures)} of {len(d.digests)} files do NOT match their recorded digest.")
            out.append(para(f"<font color='{'#1e6b32' if not failures else '#8b1e1e'}'><b>{escape(summary)}</b>"
                            f"</font>", "small"))
        if d.exif_rows:
            out += [CondPageBreak(120), para("Photo metadata (EXIF)", "h2"),
                    grid(["Photo", "Field", "Value"], [[r.photo_name, r.tag, r.value] for r in d.exif_rows],
                         [130, 130, self._w() - 260])]
        return out

    def _timeline(self) -> list[Flowable]:
        d = self.data
        out: list[Flowable] = []
        if d.timeline:
            rows = [[fmt_datetime(t.at, d.facts.timezone_name, self.profile), t.actor, t.event, t.detail]
                    for t in sorted(d.timeline, key=lambda t: t.at)]
            out += [CondPageBreak(120), para("Case timeline", "h2"),
                    grid(["When", "Who", "Event", "Detail"], rows, [130, 90, 150, self._w() - 370])]
        if d.ledger:
            out += [para("Ledger", "h2"), ledger_table(self, d.ledger)]  # type: ignore[arg-type]
        return out

    def _appellant(self) -> list[Flowable]:
        d = self.data
        if not d.appellant_documents:
            return []
        rows = []
        for doc in d.appellant_documents:
            how = "reproduced below" if doc.is_image else "appended at the end"
            pages = str(doc.page_count) if doc.page_count is not None else ""
            rows.append([doc.file_name, doc.media_type, pages,
                         fmt_datetime(doc.received_at, d.facts.timezone_name, self.profile), doc.sha256, how])
        w = self._w()
        out: list[Flowable] = [CondPageBreak(150), para("Appellant documents", "h2"),
                               grid(["File", "Type", "Pages", "Received", "SHA-256", "In this packet"], rows,
                                    [85, 62, 36, 95, w - 363, 85])]
        for doc in d.appellant_documents:
            if doc.is_image:
                out += [PageBreak(), para(f"Appellant document: {escape(doc.file_name)}", "h2"),
                        text(f"SHA-256 {doc.sha256}", "small"), Spacer(0, 6),
                        _image(doc.path, w, self.page_size[1] - 220)]
        return out


__all__ = ["HearingDocket", "HearingPacket", "ACCENT", "render_packet"]


def render_packet(data: HearingPacketData) -> bytes:
    """The evidence packet with the appellant's own PDFs appended (``reports.appendix``)."""
    packet = HearingPacket(data)
    return append_appellant_pdfs(packet.render(), data.appellant_documents, packet.page_size)
