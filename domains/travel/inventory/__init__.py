"""The travel inventory: an embedded SQLite database of flights, hotels and cars behind `Inventory`.

`generate` builds the database deterministically from a seed, `airports` holds the real-world
reference data, `repository.Inventory` is the only interface the rest of the app uses, and
`clock` is the one source of "now" for every rule about what is past.
"""

from domains.travel.inventory.airports import AIRPORTS
from domains.travel.inventory.generate import build_inventory
from domains.travel.inventory.repository import (
    InThePast,
    Inventory,
    KeyConflict,
    SoldOut,
    UnknownBooking,
)

__all__ = [
    "AIRPORTS",
    "InThePast",
    "Inventory",
    "KeyConflict",
    "SoldOut",
    "UnknownBooking",
    "build_inventory",
]
