"""The seven Klang Valley pet shops loaded by ``kilat up --demo`` (spec §3.13)."""

from __future__ import annotations

import uuid

DEMO_NAMESPACE = uuid.UUID("6f1c2a43-8f55-4d59-9d0b-1c4c3f1b7a21")


def shop_id(name: str) -> uuid.UUID:
    """A fixed id per demo shop, so seeding twice finds the first copy."""
    return uuid.uuid5(DEMO_NAMESPACE, name)


DEMO_SHOPS: list[dict] = [
    {
        "name": "Paws & Claws Grooming",
        "address": "23 Jalan Telawi 3, Bangsar Baru, 59100 Kuala Lumpur",
        "latitude": 3.1319, "longitude": 101.6710,
        "phone": "+60322821234", "email": "hello@pawsclaws.example.my",
        "category": "grooming", "services": ["bath and blow-dry", "haircut", "nail trim"],
        "rating": 4.6, "opening_hours": "Tue-Sun 10:00-19:00",
        "description": "Full-service grooming for dogs and cats in Bangsar.",
    },
    {
        "name": "KL Pet Clinic",
        "address": "8 Jalan Ampang, 50450 Kuala Lumpur",
        "latitude": 3.1590, "longitude": 101.7123,
        "phone": "+60321611122", "email": "care@klpetclinic.example.my",
        "category": "vet", "services": ["consultation", "vaccination", "surgery", "dental care"],
        "rating": 4.8, "opening_hours": "Daily 09:00-21:00",
        "description": "Veterinary clinic near KLCC with an in-house lab.",
    },
    {
        "name": "Happy Tails Boarding",
        "address": "15 Jalan SS 2/24, 47300 Petaling Jaya, Selangor",
        "latitude": 3.1185, "longitude": 101.6203,
        "phone": "+60378761010", "email": "stay@happytails.example.my",
        "category": "boarding", "services": ["overnight boarding", "daycare", "dog walking"],
        "rating": 4.4, "opening_hours": "Daily 08:00-20:00",
        "description": "Air-conditioned boarding suites with daily play sessions.",
    },
    {
        "name": "Pet Paradise Store",
        "address": "Lot G-12, Mid Valley Megamall, 59200 Kuala Lumpur",
        "latitude": 3.1178, "longitude": 101.6773,
        "phone": "+60322873344", "email": "shop@petparadise.example.my",
        "category": "pet_store", "services": ["pet food", "accessories", "aquarium supplies"],
        "rating": 4.2, "opening_hours": "Daily 10:00-22:00",
        "description": "Food, toys and supplies for every kind of pet.",
    },
    {
        "name": "Furry Friends Vet",
        "address": "3 Jalan 17/45, Seksyen 17, 46400 Petaling Jaya, Selangor",
        "latitude": 3.1279, "longitude": 101.6405,
        "phone": "+60379552020", "email": "vet@furryfriends.example.my",
        "category": "vet", "services": ["consultation", "vaccination", "microchipping"],
        "rating": 4.7, "opening_hours": "Mon-Sat 09:00-18:00",
        "description": "Friendly neighbourhood vet for cats, dogs and small pets.",
    },
    {
        "name": "Bark & Bath Spa",
        "address": "41 Jalan Damansara, Damansara Heights, 50490 Kuala Lumpur",
        "latitude": 3.1517, "longitude": 101.6612,
        "phone": "+60320935566", "email": "spa@barkbath.example.my",
        "category": "grooming", "services": ["spa bath", "de-shedding", "teeth cleaning"],
        "rating": 4.5, "opening_hours": "Wed-Mon 10:00-18:00",
        "description": "A calm spa for dogs of every size.",
    },
    {
        "name": "Meow Manor Cat Hotel",
        "address": "9 Jalan Kuchai Maju 2, Kuchai Lama, 58200 Kuala Lumpur",
        "latitude": 3.0895, "longitude": 101.6889,
        "phone": "+60379817788", "email": "stay@meowmanor.example.my",
        "category": "boarding", "services": ["cat boarding", "cat grooming", "play room"],
        "rating": 4.3, "opening_hours": "Daily 09:00-19:00",
        "description": "Cat-only hotel with private condos and a garden room.",
    },
]
