"""The simulated Kuala Lumpur: seeded places and pets, and cars that move like cars."""

import random

from kilat.platform.geo import haversine_km
from kilat.simulate.city import NEIGHBOURHOODS, Vehicle, heading_degrees, place_near, random_pet, random_place


def test_same_seed_gives_the_same_places_and_pets():
    first, second = random.Random(4), random.Random(4)
    assert [random_place(first) for _ in range(5)] == [random_place(second) for _ in range(5)]
    assert random_pet(first) == random_pet(second)


def test_places_are_in_greater_kuala_lumpur_with_a_bookable_address():
    rng = random.Random(1)
    for _ in range(200):
        place = random_place(rng)
        assert 2.9 < place.latitude < 3.4 and 101.4 < place.longitude < 101.9
        address = place.address()
        assert address["country"] == "Malaysia" and address["line1"] and address["postal_code"]


def test_place_near_stays_within_the_distance_and_names_the_closest_neighbourhood():
    rng = random.Random(2)
    klcc = NEIGHBOURHOODS[0]
    for _ in range(100):
        place = place_near(rng, klcc.latitude, klcc.longitude, 5.0)
        assert haversine_km(klcc.latitude, klcc.longitude, place.latitude, place.longitude) <= 5.01
        closest = min(NEIGHBOURHOODS, key=lambda n: haversine_km(place.latitude, place.longitude,
                                                                n.latitude, n.longitude))
        assert place.neighbourhood == closest


def test_heading_points_from_one_place_to_the_other():
    assert round(heading_degrees(3.0, 101.0, 3.1, 101.0)) == 0
    assert round(heading_degrees(3.0, 101.0, 3.0, 101.1)) == 90
    assert round(heading_degrees(3.1, 101.0, 3.0, 101.0)) == 180


def test_a_vehicle_drives_towards_its_target_at_city_speed_and_arrives():
    rng = random.Random(3)
    car = Vehicle(3.1579, 101.7116)
    target = (3.1466, 101.7101)  # about 1.3 km away
    arrived, seconds = False, 0
    while not arrived:
        before = (car.latitude, car.longitude)
        arrived = car.drive(rng, target, 1.0)
        step_km = haversine_km(*before, car.latitude, car.longitude)
        assert step_km <= 70 / 3600 + 1e-9
        seconds += 1
    assert (car.latitude, car.longitude) == target
    assert 60 < seconds < 600


def test_gps_fixes_are_noisy_but_within_their_accuracy():
    rng = random.Random(5)
    car = Vehicle(3.139, 101.6869, speed_kmh=30, heading=45)
    for _ in range(200):
        fix = car.fix(rng)
        error_m = haversine_km(car.latitude, car.longitude, fix.latitude, fix.longitude) * 1000
        assert 3 <= fix.accuracy_m <= 12
        assert error_m < 2 * fix.accuracy_m
        assert 0 <= fix.heading_degrees < 360
