"""The printed patrol plan: one page per beat, the stops in visiting order with their times, and a vector map
of the beat drawn from the zones' own geometry (offline: no tiles, no network).

The map is an equirectangular projection around the beat's middle (x scaled by cos(latitude)), which keeps
shapes true within a city; every zone of the office is drawn in light grey for orientation, the beat's zones
shaded and numbered in visiting order, joined by the route.
"""

from __future__ import annotations

import io
import math
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from reports.base import FONT, FONT_BOLD, INK
from reports.data import PatrolBeatPage, PatrolPlanPrint, PatrolZoneShape

PAGE_W, PAGE_H = letter
MARGIN = 40.0
LIGHT = colors.Color(0.86, 0.86, 0.86)
BEAT_FILL = colors.Color(0.80, 0.87, 0.96)
BEAT_LINE = colors.Color(0.15, 0.30, 0.55)
ROUTE = colors.Color(0.75, 0.20, 0.15)


def _hours(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def _fit(text: str, width: float, font: str, size: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _centre(shape: PatrolZoneShape) -> tuple[float, float] | None:
    points = [p for ring in shape.rings[:1] for p in ring[:-1] or ring]
    if not points:
        return None
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def _draw_map(c: Canvas, beat: PatrolBeatPage, zones: dict[str, PatrolZoneShape],
              box: tuple[float, float, float, float]) -> list[str]:
    """The beat's map in the box (x, y, w, h); returns the codes of the beat's zones it could not draw."""
    x0, y0, w, h = box
    c.setStrokeColor(INK)
    c.setLineWidth(0.5)
    c.rect(x0, y0, w, h, stroke=1, fill=0)
    own = [zones[s.zone] for s in beat.stops if s.zone in zones and zones[s.zone].rings]
    missing = [s.zone for s in beat.stops if s.zone not in zones or not zones[s.zone].rings]
    focus = own or [z for z in zones.values() if z.rings]
    points = [p for z in focus for ring in z.rings for p in ring]
    if not points:
        c.setFont(FONT, 9)
        c.drawCentredString(x0 + w / 2, y0 + h / 2, "No zone of this beat has geometry to draw.")
        return missing
    min_lon, max_lon = min(p[0] for p in points), max(p[0] for p in points)
    min_lat, max_lat = min(p[1] for p in points), max(p[1] for p in points)
    kx = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = max((max_lon - min_lon) * kx, 1e-6)
    span_y = max(max_lat - min_lat, 1e-6)
    pad = 0.12
    scale = min(w / (span_x * (1 + 2 * pad)), h / (span_y * (1 + 2 * pad)))
    cx, cy = (min_lon + max_lon) / 2, (min_lat + max_lat) / 2

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return x0 + w / 2 + (lon - cx) * kx * scale, y0 + h / 2 + (lat - cy) * scale

    c.saveState()
    clip = c.beginPath()
    clip.rect(x0, y0, w, h)
    c.clipPath(clip, stroke=0, fill=0)
    order = {s.zone: i + 1 for i, s in enumerate(beat.stops)}
    for z in zones.values():  # every zone, light, for orientation
        for ring in z.rings:
            if len(ring) < 3:
                continue
            path = c.beginPath()
            path.moveTo(*xy(*ring[0]))
            for p in ring[1:]:
                path.lineTo(*xy(*p))
            path.close()
            mine = z.code in order
            c.setFillColor(BEAT_FILL if mine else colors.white)
            c.setStrokeColor(BEAT_LINE if mine else LIGHT)
            c.setLineWidth(1.2 if mine else 0.6)
            c.drawPath(path, stroke=1, fill=1)
        centre = _centre(z)
        if centre is not None and z.code not in order:
            c.setFillColor(colors.Color(0.55, 0.55, 0.55))
            c.setFont(FONT, 6.5)
            px, py = xy(*centre)
            c.drawCentredString(px, py - 2, z.name)
    route = [xy(*centre) for s in beat.stops if s.zone in zones and (centre := _centre(zones[s.zone]))]
    if len(route) > 1:
        c.setStrokeColor(ROUTE)
        c.setLineWidth(1.5)
        c.setDash(4, 3)
        path = c.beginPath()
        path.moveTo(*route[0])
        for p in route[1:]:
            path.lineTo(*p)
        c.drawPath(path, stroke=1, fill=0)
        c.setDash()
    for s in beat.stops:
        shape = zones.get(s.zone)
        centre = _centre(shape) if shape is not None else None
        if centre is None:
            continue
        px, py = xy(*centre)
        c.setFillColor(ROUTE)
        c.circle(px, py, 8, stroke=0, fill=1)
        c.setFillColor(colors.white)
        c.setFont(FONT_BOLD, 8)
        c.drawCentredString(px, py - 3, str(order[s.zone]))
        c.setFillColor(BEAT_LINE)
        c.setFont(FONT_BOLD, 7.5)
        c.drawCentredString(px, py - 17, s.zone_name)
    c.restoreState()
    # north arrow and a scale bar (1 km)
    c.setFillColor(INK)
    c.setFont(FONT_BOLD, 9)
    c.drawCentredString(x0 + w - 18, y0 + h - 18, "N")
    c.line(x0 + w - 18, y0 + h - 40, x0 + w - 18, y0 + h - 22)
    km = 1000 / 111_320 * scale  # points per km (1 degree of latitude is about 111.32 km)
    if 10 < km < w / 2:
        c.setLineWidth(2)
        c.line(x0 + 12, y0 + 12, x0 + 12 + km, y0 + 12)
        c.setFont(FONT, 7)
        c.drawString(x0 + 12, y0 + 17, "1 km")
    return missing


def _page(c: Canvas, plan: PatrolPlanPrint, beat: PatrolBeatPage, zones: dict[str, PatrolZoneShape],
          number: int, total: int) -> None:
    tz = ZoneInfo(plan.timezone_name)
    top = PAGE_H - MARGIN
    c.setFillColor(INK)
    c.setFont(FONT, 8.5)
    c.drawString(MARGIN, top, plan.agency_name)
    c.drawRightString(PAGE_W - MARGIN, top, f"Patrol plan {plan.day.isoformat()} · version {plan.version}")
    c.setFont(FONT_BOLD, 16)
    c.drawString(MARGIN, top - 24, _fit(f"Beat {number}: {beat.officer_name} (badge {beat.badge})",
                                        PAGE_W - 2 * MARGIN, FONT_BOLD, 16))
    c.setFont(FONT, 10)
    used = sum(s.minutes + (s.travel_minutes or 0) for s in beat.stops)
    start = beat.shift_start or "start not set"
    c.drawString(MARGIN, top - 40, f"{plan.day.strftime('%A %d %B %Y')} · shift {start}, "
                                   f"{_hours(beat.shift_minutes)} · planned {_hours(used)} "
                                   f"({len(beat.stops)} zone{'s' if len(beat.stops) != 1 else ''})")
    map_h = 330.0
    map_box = (MARGIN, top - 52 - map_h, PAGE_W - 2 * MARGIN, map_h)
    missing = _draw_map(c, beat, zones, map_box)
    y = map_box[1] - 24
    cols = (MARGIN, MARGIN + 24, MARGIN + 250, MARGIN + 320, MARGIN + 400)
    c.setFont(FONT_BOLD, 9.5)
    for x, head in zip(cols, ("#", "Zone", "Arrive", "Travel", "Patrol"), strict=True):
        c.drawString(x, y, head)
    c.setLineWidth(0.5)
    c.line(MARGIN, y - 4, PAGE_W - MARGIN, y - 4)
    c.setFont(FONT, 9.5)
    for i, s in enumerate(beat.stops, 1):
        y -= 15
        if y < MARGIN + 40:
            c.drawString(MARGIN, y, f"… {len(beat.stops) - i + 1} more stops on the screen copy.")
            break
        travel = "—" if i == 1 else ("no estimate" if s.travel_minutes is None else f"{s.travel_minutes} min")
        c.drawString(cols[0], y, str(i))
        c.drawString(cols[1], y, _fit(f"{s.zone_name} ({s.zone})", cols[2] - cols[1] - 6, FONT, 9.5))
        c.drawString(cols[2], y, s.arrive or "—")
        c.drawString(cols[3], y, travel)
        c.drawString(cols[4], y, _hours(s.minutes))
    if not beat.stops:
        y -= 15
        c.drawString(cols[1], y, "No zone on this beat.")
    notes = list(plan.notes)
    if missing:
        notes.append("Not on the map (no geometry): " + ", ".join(missing) + "; travel to them is not estimated.")
    c.setFont(FONT, 8)
    for note in notes[:4]:
        y -= 13
        if y < MARGIN + 14:
            break
        c.drawString(MARGIN, y, _fit(note, PAGE_W - 2 * MARGIN, FONT, 8))
    c.setFont(FONT, 7.5)
    c.setFillColor(colors.Color(0.4, 0.4, 0.4))
    saved = plan.saved_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    c.drawString(MARGIN, MARGIN - 14, f"Saved by {plan.saved_by} at {saved} ({plan.timezone_name})")
    c.drawRightString(PAGE_W - MARGIN, MARGIN - 14, f"Page {number} of {total}")


def patrol_plan_pdf(plan: PatrolPlanPrint) -> bytes:
    """The plan as a PDF: one page per beat (a single page saying so when no beat is planned)."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=letter, invariant=True)
    c.setTitle(f"Patrol plan {plan.day.isoformat()} v{plan.version}")
    c.setAuthor(plan.agency_name)
    zones = {z.code: z for z in plan.zones}
    if not plan.beats:
        c.setFont(FONT_BOLD, 16)
        c.drawString(MARGIN, PAGE_H - MARGIN - 24, f"Patrol plan {plan.day.isoformat()}: no beat is planned.")
        c.setFont(FONT, 9)
        for i, note in enumerate(plan.notes[:30]):
            c.drawString(MARGIN, PAGE_H - MARGIN - 50 - 13 * i, _fit(note, PAGE_W - 2 * MARGIN, FONT, 9))
        c.showPage()
    for n, beat in enumerate(plan.beats, 1):
        _page(c, plan, beat, zones, n, len(plan.beats))
        c.showPage()
    c.save()
    return buf.getvalue()
