"""Request bodies of the main aggregates, valid by default; override any field."""

from __future__ import annotations

# spec §3.3 test vectors
VECTOR_PICKUP = (3.1590, 101.7123)
VECTOR_DROPOFF = (3.1073, 101.6420)


def address(lat: float, lng: float, line1: str = "12 Jalan Ampang") -> dict:
    return {"line1": line1, "line2": "", "city": "Kuala Lumpur", "state": "WP",
            "postal_code": "50450", "country": "MY", "latitude": lat, "longitude": lng}


def pet_spec(pet_type: str = "dog", weight_kg: float = 18.5, **overrides) -> dict:
    """The pet as a booking carries it."""
    return {"pet_type": pet_type, "name": "Rex", "weight_kg": weight_kg,
            "breed": "Golden Retriever", "age_months": 36, "special_needs": "", "photo_url": "",
            "vaccinations": [{"vaccine_name": "Rabies", "date_given": "2025-01-01T00:00:00Z",
                              "expires_at": None, "vet_name": "", "verified": False}]} | overrides


def booking_body(pet_type: str = "dog", weight_kg: float = 18.5, pickup=VECTOR_PICKUP,
                 dropoff=VECTOR_DROPOFF, **overrides) -> dict:
    """``POST /api/v1/bookings``: the spec's priced journey."""
    return {"pet_spec": pet_spec(pet_type, weight_kg),
            "pickup_address": address(*pickup),
            "dropoff_address": address(*dropoff, line1="1 Jalan Bangsar"),
            "scheduled_at": None, "notes": "gentle with him"} | overrides


def pet(**overrides) -> dict:
    """``POST /api/v1/pets``: an owner's pet profile."""
    return {"name": "Milo", "pet_type": "Cat", "breed": "Siamese", "weight_kg": 4.2,
            "age_months": 30, "allergies": "", "special_needs": "shy", "notes": "",
            "photo_url": "", "vaccination_status": "up to date"} | overrides


def runner_profile(**overrides) -> dict:
    """``POST /api/v1/runners``: a runner's profile."""
    return {"vehicle_type": "car", "vehicle_plate": "WXY 1234"} | overrides


def crate(**overrides) -> dict:
    """``POST /api/v1/runners/me/crates``."""
    return {"size": "large", "pet_types": ["dog"], "max_weight_kg": 30} | overrides
