"""Geometry helpers: haversine, point in polygon with holes, centroid, bounding box, edge distance."""

from __future__ import annotations

import math

import pytest

from desktop.domain import geo

SQUARE = [[(0.0, 0.0), (0.01, 0.0), (0.01, 0.01), (0.0, 0.01), (0.0, 0.0)]]
WITH_HOLE = SQUARE + [[(0.004, 0.004), (0.006, 0.004), (0.006, 0.006), (0.004, 0.006), (0.004, 0.004)]]


def test_haversine_known_distances() -> None:
    # One degree of latitude is about 111.2 km.
    assert geo.haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-3)
    # San Francisco City Hall to the Ferry Building, about 2.9 km.
    assert geo.haversine_m(37.7793, -122.4193, 37.7955, -122.3937) == pytest.approx(2_900, rel=0.05)
    assert geo.haversine_m(43.47, 11.88, 43.47, 11.88) == 0.0


def test_point_in_polygon_and_holes() -> None:
    assert geo.point_in_polygon(0.002, 0.002, SQUARE)
    assert not geo.point_in_polygon(0.02, 0.002, SQUARE)
    assert not geo.point_in_polygon(0.005, 0.005, WITH_HOLE)
    assert geo.point_in_polygon(0.002, 0.005, WITH_HOLE)
    far = [[(1.0, 1.0), (1.01, 1.0), (1.01, 1.01), (1.0, 1.0)]]
    assert geo.point_in_multipolygon(1.008, 1.002, [SQUARE, far])
    assert geo.point_in_geometry(0.002, 0.002, "MultiPolygon", [SQUARE, far])
    assert not geo.point_in_geometry(0.002, 0.002, "LineString", [(0, 0), (1, 1)])


def test_centroid_and_bbox() -> None:
    cx, cy = geo.polygon_centroid(SQUARE)
    assert (cx, cy) == pytest.approx((0.005, 0.005))
    # A hole on one side pulls the centroid the other way.
    lopsided = SQUARE + [[(0.0, 0.0), (0.004, 0.0), (0.004, 0.01), (0.0, 0.01), (0.0, 0.0)][::-1]]
    assert geo.polygon_centroid(lopsided)[0] == pytest.approx(0.007)
    box = geo.geometry_bounding_box([SQUARE])
    assert (box.min_lon, box.min_lat, box.max_lon, box.max_lat) == (0.0, 0.0, 0.01, 0.01)
    assert box.expanded(200).contains(0.0105, 0.005)
    assert not box.contains(0.0105, 0.005)


def test_distance_to_edges_and_lines() -> None:
    # 0.001 degrees of longitude at the equator is about 111 m.
    assert geo.distance_to_polygon_edge_m(0.011, 0.005, SQUARE) == pytest.approx(111.2, rel=0.01)
    assert geo.distance_to_polygon_edge_m(0.005, 0.005, WITH_HOLE) == pytest.approx(111.2, rel=0.01)
    line = [(-122.456026898, 37.777640798), (-122.456407863, 37.779512895)]
    assert geo.distance_to_line_m(line[0][0], line[0][1], line) == pytest.approx(0, abs=0.01)
    mid_lon = (line[0][0] + line[1][0]) / 2
    mid_lat = (line[0][1] + line[1][1]) / 2
    assert geo.distance_to_line_m(mid_lon, mid_lat, line) < 0.5
    d = geo.distance_to_line_m(mid_lon + 0.001, mid_lat, line)
    assert 80 < d < 90  # 0.001 deg lon at 37.8 N is 88 m, the street runs almost north-south
    assert math.isclose(geo.point_segment_distance_m(0, 0, (0.001, 0), (0.001, 0)), 111.2, rel_tol=0.01)
