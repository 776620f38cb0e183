"""platform/geo.py: great-circle distance, encoded polylines, radius filters on SQLite."""

import math

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, Table, create_engine, insert, select

from kilat.platform import geo


def test_haversine_matches_the_spec_distances():
    assert geo.haversine_km(3.1590, 101.7123, 3.1073, 101.6420) == pytest.approx(9.6939, abs=1e-4)
    assert geo.haversine_km(3.139, 101.6869, 3.15, 101.71) == pytest.approx(2.841, abs=1e-3)
    assert geo.haversine_km(1, 1, 1, 1) == 0


def test_haversine_quarter_meridian_is_a_quarter_of_the_circumference():
    assert geo.haversine_km(0, 0, 90, 0) == pytest.approx(math.pi * 6371 / 2)


def test_polyline_encodes_googles_documented_example():
    points = [(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)]
    assert geo.encode_polyline(points) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    assert geo.decode_polyline("_p~iF~ps|U_ulLnnqC_mqNvxq`@") == points


def test_polyline_round_trips_negative_and_small_steps():
    points = [(-33.86882, 151.20929), (-33.86881, 151.20930), (0.0, 0.0), (89.99999, -179.99999)]
    assert geo.decode_polyline(geo.encode_polyline(points)) == points
    assert geo.encode_polyline([]) == ""


def test_path_length_sums_the_legs():
    legs = [(0, 0), (0, 1), (1, 1)]
    assert geo.path_length_km(legs) == pytest.approx(
        geo.haversine_km(0, 0, 0, 1) + geo.haversine_km(0, 1, 1, 1))


def test_bounding_box_encloses_the_circle():
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(3.0, 101.0, 10)
    assert geo.haversine_km(3.0, 101.0, max_lat, 101.0) == pytest.approx(10, rel=1e-6)
    assert geo.haversine_km(3.0, 101.0, 3.0, max_lng) >= 10 - 1e-9
    assert geo.bounding_box(89.99, 0, 10)[2:] == (-180.0, 180.0)
    assert min_lat < 3.0 < max_lat and min_lng < 101.0 < max_lng


@pytest.fixture
def places():
    engine = create_engine("sqlite://")
    table = Table("places", MetaData(), Column("id", Integer, primary_key=True),
                  Column("lat", Float), Column("lng", Float))
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [
            {"id": 1, "lat": 3.1590, "lng": 101.7123},   # spec pickup
            {"id": 2, "lat": 3.1073, "lng": 101.6420},   # 9.69 km away
            {"id": 3, "lat": 1.3521, "lng": 103.8198},   # Singapore, ~310 km away
        ])
    yield engine, table
    engine.dispose()


def test_within_radius_on_sqlite_keeps_only_points_inside(places):
    engine, table = places
    near = geo.within_radius("sqlite", table.c.lat, table.c.lng, 3.1590, 101.7123, 10)
    nearer = geo.within_radius("sqlite", table.c.lat, table.c.lng, 3.1590, 101.7123, 9.6)
    with engine.connect() as conn:
        assert conn.scalars(select(table.c.id).where(near).order_by(table.c.id)).all() == [1, 2]
        assert conn.scalars(select(table.c.id).where(nearer)).all() == [1]


def test_distance_expression_in_sql_matches_python(places):
    engine, table = places
    expr = geo.distance_km_expr(table.c.lat, table.c.lng, 3.1590, 101.7123)
    with engine.connect() as conn:
        distances = dict(conn.execute(select(table.c.id, expr)).all())
    assert distances[2] == pytest.approx(geo.haversine_km(3.1590, 101.7123, 3.1073, 101.6420))
    assert distances[3] == pytest.approx(geo.haversine_km(3.1590, 101.7123, 1.3521, 103.8198))
