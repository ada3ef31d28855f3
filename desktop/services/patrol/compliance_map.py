"""The compliance map: the zones coloured by a measure, with a legend, on the offline map of Review.

``compliance_map(app, actor, start, end, measure)`` reads the period's figures (``stats.zone_stats``), the
zones' shapes and the street map, and returns a ``ComplianceMap``: the ``MapSpec`` (each zone an
``Overlay`` with its figures as tooltip and its code as the key a click reports), and the zones that have
no shape, which a screen lists with a sentence instead of drawing them.

Colours: five classes; for a rate the class limits are fixed (so two periods compare at a glance), for a
count they are the quintiles of the period's values. Red is the bad end of every measure (low compliance,
many violations per hour), grey is a zone with nothing to show (not patrolled, no check).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from desktop.domain import geo
from desktop.domain.roles import Permission
from desktop.persistence.models import Zone
from desktop.services.core.context import Actor, AppContext
from desktop.services.maps.tiles import TileLayer, tile_layer
from desktop.services.patrol.stats import MEASURES, ZoneStats, _check_period, zone_stats_in
from desktop.services.review.map_html import MapSpec, Overlay

#: from bad to good
SCALE = ("#c62828", "#ef6c00", "#f9a825", "#7cb342", "#2e7d32")
NO_DATA = "#9e9e9e"
#: the class limits of the compliance rate (fixed, so periods compare)
RATE_LIMITS = (0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class LegendClass:
    colour: str
    text: str


@dataclass(frozen=True)
class ComplianceMap:
    measure: str
    stats: tuple[ZoneStats, ...]
    spec: MapSpec | None
    """None when no zone has a shape (the screen says why)"""
    legend: tuple[LegendClass, ...]
    colours: dict[str, str]
    """zone code -> its colour on the map (the table uses the same)"""
    unshaped: tuple[str, ...]
    """zones in the table that have no shape, so are not on the map"""

    def unshaped_sentence(self) -> str:
        if not self.unshaped:
            return ""
        names = ", ".join(self.unshaped)
        return (f"Not on the map (no shape imported): {names}. Their figures are in the table; import their "
                "shapes in Admin, Zones to see them here.")


def _fmt(measure: str, value: float) -> str:
    if measure == "compliance":
        return f"{value:.0%}"
    if measure in ("violations_per_hour", "hours"):
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def classes(measure: str, values: Sequence[float]) -> tuple[list[float], list[LegendClass]]:
    """The four class limits for a measure and the five legend lines (bad to good colour order kept)."""
    _label, _unit, higher_better = MEASURES[measure]
    if measure == "compliance":
        limits = list(RATE_LIMITS)
    else:
        ordered = sorted(values)
        if not ordered:
            limits = [1.0, 2.0, 3.0, 4.0]
        else:
            limits = [ordered[min(len(ordered) - 1, int(len(ordered) * q))] for q in (0.2, 0.4, 0.6, 0.8)]
            for i in range(1, 4):  # strictly increasing limits, so every class has its own range
                if limits[i] <= limits[i - 1]:
                    limits[i] = limits[i - 1] + (0.01 if measure == "compliance" else 0.1)
    colours = SCALE if higher_better else tuple(reversed(SCALE))
    texts = [f"under {_fmt(measure, limits[0])}"]
    texts += [f"{_fmt(measure, limits[i])} to under {_fmt(measure, limits[i + 1])}" for i in range(3)]
    texts.append(f"{_fmt(measure, limits[3])} or more")
    return limits, [LegendClass(c, t) for c, t in zip(colours, texts, strict=True)]


def colour_of(value: float | None, limits: Sequence[float], legend: Sequence[LegendClass]) -> str:
    if value is None:
        return NO_DATA
    index = sum(1 for limit in limits if value >= limit)
    return legend[index].colour


def _tip(s: ZoneStats, measure: str) -> str:
    value = s.value(measure)
    label = MEASURES[measure][0]
    head = f"{s.zone_code} {s.zone_name or ''}".strip()
    shown = _fmt(measure, value) if value is not None else "no value"
    return f"{head}. {label}: {shown}. {s.sentence()}"


def no_value_text(measure: str) -> str:
    if measure == "violations_per_hour":
        return "not patrolled in the period"
    if measure == "compliance":
        return "no vehicle checked in the period"
    return "no value"


def build_map(stats: Sequence[ZoneStats], shapes: dict[str, dict[str, Any]], measure: str,
              tiles: TileLayer | None) -> ComplianceMap:
    """The map of ``stats`` coloured by ``measure`` (pure: the figures and shapes in, the spec out)."""
    values = [v for s in stats if (v := s.value(measure)) is not None]
    limits, legend = classes(measure, values)
    label = MEASURES[measure][0]
    colours = {s.zone_code: colour_of(s.value(measure), limits, legend) for s in stats}
    overlays = []
    positions: list[tuple[float, float]] = []
    for s in stats:
        geometry = shapes.get(s.zone_code)
        if geometry is None:
            continue
        colour = colours[s.zone_code]
        index = [c.colour for c in legend].index(colour) if colour != NO_DATA else -1
        text = (f"{label}: {legend[index].text}" if index >= 0 else f"{label}: {no_value_text(measure)}")
        overlays.append(Overlay(geometry=geometry, colour=colour, tip=_tip(s, measure), legend=text,
                                fill_opacity=0.45, key=s.zone_code))
        positions += geo.flatten_positions(geometry.get("coordinates"))
    unshaped = tuple(s.zone_code for s in stats if s.zone_code not in shapes)
    spec = None
    if overlays:
        # the legend lists the classes in order, bad to good, then "no value"
        order = {c.colour: n for n, c in enumerate(legend)}
        overlays.sort(key=lambda o: order.get(o.colour, len(order)))
        box = geo.bounding_box(positions)
        spec = MapSpec(citation_lat=(box.min_lat + box.max_lat) / 2, citation_lon=(box.min_lon + box.max_lon) / 2,
                       title=f"Compliance map: {label}", overlays=tuple(overlays), tiles=tiles, marker=False)
    return ComplianceMap(measure, tuple(stats), spec, tuple(legend), colours, unshaped)


def compliance_map(app: AppContext, actor: Actor, start: date, end: date, measure: str = "compliance") -> ComplianceMap:
    """The period's compliance map (``Permission.REPORTS_VIEW``)."""
    if measure not in MEASURES:
        measure = "compliance"
    _check_period(start, end)
    with app.reader(actor, Permission.REPORTS_VIEW) as uow:
        s = uow.session
        stats = zone_stats_in(s, start, end, now=app.now())
        shapes = {code: geometry for code, geometry in s.execute(
            select(Zone.code, Zone.geometry).where(Zone.geometry.isnot(None))) if isinstance(geometry, dict)}
        centre = None
        if shapes:
            positions = [p for g in shapes.values() for p in geo.flatten_positions(g.get("coordinates"))]
            if positions:
                box = geo.bounding_box(positions)
                centre = ((box.min_lat + box.max_lat) / 2, (box.min_lon + box.max_lon) / 2)
        tiles = tile_layer(s, app.paths.data_dir, centre)
    return build_map(stats, shapes, measure, tiles)
