"""What the Review screen writes beside the photo, as rich text: the citation's facts, its warnings with the
data behind them, and a photo's EXIF and integrity. Plain functions of the review item, no widgets.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from desktop.domain.ledger import format_cents
from desktop.domain.plate_reading import percent
from desktop.domain.review import check_title
from desktop.services.review.queue import ReviewItem
from desktop.ui.common.evidence_viewer import DecodedPhoto
from desktop.ui.common.widgets import local_time

TIME_FORMAT = "%a %Y-%m-%d %H:%M"
SEVERITY_COLOURS = {"error": "#b71c1c", "warning": "#b26a00", "info": "#455a64"}
INTEGRITY_TEXT = {
    "verified": ("verified", "#2e7d32"),
    "integrity_failed": ("FAILED integrity", "#b71c1c"),
    "missing": ("MISSING (never received)", "#b71c1c"),
    "pending": ("pending (not yet downloaded)", "#b26a00"),
}
SIGNATURE_TEXT = {
    "verified": ("signature verified", "#2e7d32"),
    "failed": ("signature FAILED", "#b71c1c"),
    "missing": ("signature MISSING", "#b71c1c"),
    "unsigned": ("unsigned (device has no key)", "#555"),
}


def _said(value: Any, explanation: str) -> bool:
    """Whether every value in `value` is already written in the warning's explanation."""
    if isinstance(value, dict):
        return all(_said(k, explanation) and _said(v, explanation) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_said(v, explanation) for v in value)
    if value is None or value == "":
        return True
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text in explanation


def _data_text(data: Any, names: dict[str, str] | None = None, limit: int = 240, explanation: str = "") -> str:
    """The numbers behind a warning on one line, leaving out what the explanation already says (a zone-rule
    warning was written twice, the second time in grey as "unsupported: …"); photo digests are named
    "photo 1", "photo 2"..."""
    names = names or {}
    if explanation and _said(data, explanation):
        return ""

    def plain(value: Any) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{names.get(str(k), k)}: {plain(v)}" for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return ", ".join(plain(v) for v in value)
        if isinstance(value, float):
            return f"{value:,.1f}".rstrip("0").rstrip(".")
        return names.get(str(value), str(value))

    if not data:
        return ""
    if isinstance(data, dict):
        parts = [f"{str(key).replace('_', ' ')}: {plain(value)}" for key, value in data.items()
                 if value not in (None, [], {}, "") and not (explanation and _said(value, explanation))]
        text = "; ".join(parts)
    else:
        text = plain(data)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def facts_html(i: ReviewItem, tz: Any) -> str:
    """The citation's facts as a two-column table; times in the agency's zone `tz`."""
    e = html.escape
    sig_text, sig_colour = SIGNATURE_TEXT.get(i.signature_state, (i.signature_state, "#555"))
    delay = (i.received_at - i.issued_at).total_seconds() / 3600
    violations = "<br>".join(
        f"{e(v.code)} {e(v.description)}: <b>{format_cents(v.fine_cents, i.currency)}</b>"
        + (f" <span style='color:#b26a00'>(handheld showed {format_cents(v.handheld_fine_cents, i.currency)})</span>"
           if v.handheld_fine_cents not in (None, v.fine_cents) else "")
        for v in i.violations)
    registered = (f"registered as <b>{e(i.registered_make)}</b>" if i.registered_make
                  else "<span style='color:#666'>no registration record</span>")
    obs = "; ".join(
        f"{e(str(o.get('kind')))}: first seen {e(local_time(_parse(o.get('first_seen_at')), tz, '%H:%M'))}"
        + (f", again {e(local_time(_parse(o.get('second_seen_at')), tz, '%H:%M'))}" if o.get("second_seen_at") else "")
        for o in i.observations)
    rows = [
        ("", f"<span style='font-size:14pt; font-weight:600'>{e(i.citation_number)}</span>"),
        ("Issued", (f"{e(local_time(i.issued_at, tz, TIME_FORMAT))} by officer {e(i.officer_badge)} "
                    f"on {e(i.device_id or '—')}")),
        ("Received", f"{e(local_time(i.received_at, tz, TIME_FORMAT))} ({delay:.1f} h later)"),
        ("Vehicle", (f"<span style='font-size:13pt'><b>{e(i.plate)}</b></span> {e(i.jurisdiction)}"
                     f"{' ' + e(i.plate_type) if i.plate_type else ''} · {e(i.make or '—')} {e(i.model or '')}"
                     f" · {e(i.colour or '—')} · {registered}")),
        ("Violation", violations or "—"),
        ("Location", (f"{e(i.address or '—')} · zone {e(i.zone_code or '—')}"
                      f"{' · space ' + e(i.space) if i.space else ''} · ±{i.accuracy_m or 0:.0f} m")),
        ("Zone rules", "<br>".join(f"<b>{e(z.code)}</b> {e(z.description or 'no posted rules')}" for z in i.zones)
         + (f"<br><span style='color:#b26a00'>{e(i.zone_note)}</span>" if i.zones and i.zone_note else "")
         or f"<span style='color:#666'>{e(i.zone_note or 'no zone known here')}</span>"),
        ("Observed", obs or "—"),
        ("Remarks", e(i.remarks or "—")),
        ("Evidence", (f"{e(i.evidence_status.replace('_', ' '))} · "
                      f"<span style='color:{sig_colour}'><b>{e(sig_text)}</b></span>")),
    ]
    return "<table cellspacing='2'>" + "".join(
        f"<tr><td style='color:#555; padding-right:8px' valign='top'>{k}</td><td>{v}</td></tr>" for k, v in rows
    ) + "</table>"

def warnings_html(i: ReviewItem) -> str:
    """The warnings, worst first, each with the numbers behind it; the checks passed when any failed."""
    e = html.escape
    parts = []
    names = {p.sha256: f"photo {n + 1}" for n, p in enumerate(i.photos)}
    for w in i.warnings:
        severity = str(w.get("severity", "warning"))
        colour = SEVERITY_COLOURS.get(severity, "#333")
        data = _data_text(w.get("data"), names, explanation=str(w.get("explanation", "")))
        parts.append(
            f"<p style='margin:2px 0 6px 0'><span style='background:{colour}; color:white'>&nbsp;{e(severity.upper())}"
            f"&nbsp;</span> <b>{e(check_title(str(w.get('code'))))}</b>: {e(str(w.get('explanation', '')))}"
            + (f"<br><span style='color:#666; font-size:9pt; font-family:monospace'>{e(data)}</span>" if data else "")
            + "</p>")
    if not parts:
        parts.append("<p style='color:#2e7d32'><b>No warnings.</b> Every check passed.</p>")
    if i.warnings and i.passed:
        parts.append("<p style='color:#666; font-size:9pt'>Passed: "
                     + ", ".join(e(check_title(c)) for c in i.passed) + "</p>")
    return "".join(parts)


def exif_html(item: ReviewItem, index: int, photo: DecodedPhoto | None, tz: Any) -> str:
    """Photo `index`'s capture time, position, camera and integrity; `photo` is its decoded image, if any."""
    e = html.escape
    meta = item.photos[index]
    exif = meta.exif or {}
    captured = _parse(exif.get("captured_at"))
    if captured is not None and exif.get("captured_at_naive"):
        taken = f"{captured:%Y-%m-%d %H:%M:%S} (camera time, no offset)"
    elif captured is not None:
        minutes = round((captured - item.issued_at).total_seconds() / 60)
        taken = f"{e(local_time(captured, tz, '%Y-%m-%d %H:%M:%S'))} ({minutes:+d} min from issue)"
    else:
        taken = "<span style='color:#b71c1c'>no capture time</span>"
        if meta.declared_taken_at is not None:
            taken += f" (handheld declared {e(local_time(meta.declared_taken_at, tz, '%H:%M:%S'))})"
    if meta.latitude is not None and meta.longitude is not None:
        where = f"{meta.latitude:.6f}, {meta.longitude:.6f}"
        if meta.distance_m is not None:
            where += f" · <b>{meta.distance_m:,.0f} m</b> from the citation"
        if exif.get("latitude") is None:
            where += " (declared by the handheld, not in EXIF)"
    else:
        where = "no GPS position" + (f" ({e(exif['gps_error'])})" if exif.get("gps_error") else "")
    camera = " ".join(x for x in (exif.get("camera_make"), exif.get("camera_model")) if x) or "—"
    text, colour = INTEGRITY_TEXT.get(meta.integrity, (meta.integrity, "#555"))
    rows = [
        ("Captured", taken),
        ("GPS", where),
        ("Camera", e(camera) + (f" · orientation {exif['orientation']}" if exif.get("orientation") else "")),
        ("Integrity", f"<span style='color:{colour}'><b>{e(text)}</b></span>"
                      + (f" — {e(meta.integrity_reason)}" if meta.integrity_reason else "")),
        ("File", f"<code>{e(meta.sha256[:16])}…</code>"),
    ]
    if exif.get("error"):
        rows.append(("EXIF", f"<span style='color:#b26a00'>{e(exif['error'])}</span>"))
    if photo is not None and not photo.ok:
        rows.append(("Display", f"<span style='color:#b71c1c'>cannot display: {e(photo.reason)}</span>"))
    return "<table cellspacing='2'>" + "".join(
        f"<tr><td style='color:#555; padding-right:8px' valign='top'>{k}</td><td>{v}</td></tr>" for k, v in rows
    ) + "</table>"


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def plate_photo_html(view: Any) -> str:
    """The plate read from the photos beside the typed one: reading, confidence, and what T does."""
    e = html.escape
    if view is None:
        return "<span style='color:#666'>—</span>"
    if view.state == "read" and view.plate:
        colour = {"same": "#2e7d32", "lookalike": "#455a64", "differs": "#b71c1c"}.get(view.agreement or "", "#333")
        verdict = {"same": "as typed", "lookalike": "look-alike characters only",
                   "differs": "DIFFERS"}.get(view.agreement or "", "")
        hint = " · <b>T</b> take the read plate" if view.agreement != "same" else ""
        return (f"Typed <span style='font-size:13pt'><b>{e(view.typed)}</b></span> · photo {view.photo_number} reads "
                f"<span style='font-size:13pt; color:{colour}'><b>{e(view.plate)}</b></span> "
                f"({percent(view.confidence)}) <span style='color:{colour}'><b>{e(verdict)}</b></span>{hint}")
    if view.state == "unavailable":
        return f"<span style='color:#b26a00'>Plate photo check unavailable: {e(view.reason)}</span>"
    if view.state == "pending":
        return "<span style='color:#666'>The photos have not been read yet (<i>plates read</i>, the daily run).</span>"
    return f"<span style='color:#666'>Not readable: {e(view.reason or 'no plate found')}</span>"
