"""Reference data about real places: airports, their coordinates, city price levels, home carriers.

Everything here is static and hand-checked; the generator derives flight durations from the
coordinates and hotel and car prices from the city price levels.
"""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

from domains.travel.models import Airport

COUNTRIES: dict[str, str] = {
    "US": "United States",
    "CA": "Canada",
    "MX": "Mexico",
    "BR": "Brazil",
    "GB": "United Kingdom",
    "IE": "Ireland",
    "FR": "France",
    "NL": "Netherlands",
    "DE": "Germany",
    "CH": "Switzerland",
    "AT": "Austria",
    "DK": "Denmark",
    "ES": "Spain",
    "PT": "Portugal",
    "IT": "Italy",
    "GR": "Greece",
    "TR": "Turkey",
    "AE": "United Arab Emirates",
    "EG": "Egypt",
    "ZA": "South Africa",
    "IN": "India",
    "SG": "Singapore",
    "TH": "Thailand",
    "HK": "Hong Kong",
    "KR": "South Korea",
    "JP": "Japan",
    "AU": "Australia",
}

# code | name | city | ISO country | IANA time zone | latitude | longitude
_TABLE = """
SFO|San Francisco International|San Francisco|US|America/Los_Angeles|37.6213|-122.3790
OAK|Oakland International|San Francisco|US|America/Los_Angeles|37.7126|-122.2197
SJC|San José Mineta International|San Francisco|US|America/Los_Angeles|37.3639|-121.9289
LAX|Los Angeles International|Los Angeles|US|America/Los_Angeles|33.9416|-118.4085
SEA|Seattle-Tacoma International|Seattle|US|America/Los_Angeles|47.4502|-122.3088
LAS|Harry Reid International|Las Vegas|US|America/Los_Angeles|36.0840|-115.1537
DEN|Denver International|Denver|US|America/Denver|39.8561|-104.6737
DFW|Dallas/Fort Worth International|Dallas|US|America/Chicago|32.8998|-97.0403
ORD|O'Hare International|Chicago|US|America/Chicago|41.9742|-87.9073
MDW|Midway International|Chicago|US|America/Chicago|41.7868|-87.7522
ATL|Hartsfield-Jackson Atlanta International|Atlanta|US|America/New_York|33.6407|-84.4277
MIA|Miami International|Miami|US|America/New_York|25.7959|-80.2870
IAD|Washington Dulles International|Washington|US|America/New_York|38.9531|-77.4565
DCA|Ronald Reagan Washington National|Washington|US|America/New_York|38.8512|-77.0402
JFK|John F. Kennedy International|New York|US|America/New_York|40.6413|-73.7781
EWR|Newark Liberty International|New York|US|America/New_York|40.6895|-74.1745
LGA|LaGuardia|New York|US|America/New_York|40.7769|-73.8740
BOS|Logan International|Boston|US|America/New_York|42.3656|-71.0096
YYZ|Toronto Pearson International|Toronto|CA|America/Toronto|43.6777|-79.6248
YVR|Vancouver International|Vancouver|CA|America/Vancouver|49.1967|-123.1815
MEX|Mexico City International|Mexico City|MX|America/Mexico_City|19.4361|-99.0719
GRU|São Paulo/Guarulhos International|São Paulo|BR|America/Sao_Paulo|-23.4356|-46.4731
LHR|Heathrow|London|GB|Europe/London|51.4700|-0.4543
LGW|Gatwick|London|GB|Europe/London|51.1537|-0.1821
STN|Stansted|London|GB|Europe/London|51.8860|0.2389
DUB|Dublin|Dublin|IE|Europe/Dublin|53.4264|-6.2499
CDG|Paris Charles de Gaulle|Paris|FR|Europe/Paris|49.0097|2.5479
ORY|Paris Orly|Paris|FR|Europe/Paris|48.7262|2.3652
AMS|Amsterdam Schiphol|Amsterdam|NL|Europe/Amsterdam|52.3105|4.7683
FRA|Frankfurt|Frankfurt|DE|Europe/Berlin|50.0379|8.5622
MUC|Munich|Munich|DE|Europe/Berlin|48.3537|11.7750
ZRH|Zurich|Zurich|CH|Europe/Zurich|47.4582|8.5555
VIE|Vienna International|Vienna|AT|Europe/Vienna|48.1103|16.5697
CPH|Copenhagen Kastrup|Copenhagen|DK|Europe/Copenhagen|55.6180|12.6508
MAD|Adolfo Suárez Madrid-Barajas|Madrid|ES|Europe/Madrid|40.4983|-3.5676
BCN|Barcelona-El Prat|Barcelona|ES|Europe/Madrid|41.2974|2.0833
LIS|Humberto Delgado|Lisbon|PT|Europe/Lisbon|38.7742|-9.1342
FCO|Rome Fiumicino|Rome|IT|Europe/Rome|41.8003|12.2389
MXP|Milan Malpensa|Milan|IT|Europe/Rome|45.6301|8.7255
LIN|Milan Linate|Milan|IT|Europe/Rome|45.4451|9.2767
ATH|Athens International|Athens|GR|Europe/Athens|37.9364|23.9445
IST|Istanbul|Istanbul|TR|Europe/Istanbul|41.2753|28.7519
DXB|Dubai International|Dubai|AE|Asia/Dubai|25.2532|55.3657
CAI|Cairo International|Cairo|EG|Africa/Cairo|30.1219|31.4056
JNB|O. R. Tambo International|Johannesburg|ZA|Africa/Johannesburg|-26.1392|28.2460
DEL|Indira Gandhi International|Delhi|IN|Asia/Kolkata|28.5562|77.1000
SIN|Singapore Changi|Singapore|SG|Asia/Singapore|1.3644|103.9915
BKK|Suvarnabhumi|Bangkok|TH|Asia/Bangkok|13.6900|100.7501
HKG|Hong Kong International|Hong Kong|HK|Asia/Hong_Kong|22.3080|113.9185
ICN|Incheon International|Seoul|KR|Asia/Seoul|37.4602|126.4407
HND|Tokyo Haneda|Tokyo|JP|Asia/Tokyo|35.5494|139.7798
NRT|Narita International|Tokyo|JP|Asia/Tokyo|35.7720|140.3929
SYD|Sydney Kingsford Smith|Sydney|AU|Australia/Sydney|-33.9399|151.1753
"""


def _parse(line: str) -> tuple[Airport, tuple[float, float]]:
    code, name, city, country, tz, lat, lon = line.split("|")
    airport = Airport(code=code, name=name, city=city, country=COUNTRIES[country], tz=tz)
    return airport, (float(lat), float(lon))


_PARSED = [_parse(line) for line in _TABLE.strip().splitlines()]

AIRPORTS: tuple[Airport, ...] = tuple(airport for airport, _ in _PARSED)

COORDINATES: dict[str, tuple[float, float]] = {airport.code: at for airport, at in _PARSED}

# Hubs are connected to every other hub; every other airport feeds its nearest hubs.
HUBS: tuple[str, ...] = (
    "SFO", "LAX", "JFK", "ORD", "ATL", "DFW",
    "LHR", "CDG", "FRA", "AMS", "FCO", "MAD",
    "DXB", "SIN", "HKG", "HND",
)  # fmt: skip

# Well-known long-haul links between non-hubs and far hubs, flown in both directions.
EXTRA_ROUTES: tuple[tuple[str, str], ...] = (
    ("SYD", "LAX"), ("SYD", "SFO"), ("SYD", "DXB"), ("GRU", "JFK"), ("GRU", "MIA"),
    ("GRU", "MAD"), ("GRU", "LIS"), ("BOS", "LHR"), ("EWR", "CDG"), ("EWR", "LHR"),
    ("SEA", "HND"), ("SEA", "LHR"), ("YVR", "HND"), ("YYZ", "LHR"), ("IAD", "CDG"),
    ("MIA", "MAD"), ("DEL", "LHR"), ("ICN", "LAX"), ("NRT", "JFK"), ("JNB", "LHR"),
    ("ORY", "FCO"), ("LGW", "BCN"), ("STN", "DUB"), ("LIN", "ORY"), ("MXP", "JFK"),
)  # fmt: skip

# Relative cost of a hotel night or a car day in the city (1.0 = a typical mid-priced city).
PRICE_LEVEL: dict[str, float] = {
    "San Francisco": 1.5, "Los Angeles": 1.25, "Seattle": 1.2, "Las Vegas": 0.9,
    "Denver": 1.0, "Dallas": 0.95, "Chicago": 1.15, "Atlanta": 0.95, "Miami": 1.2,
    "Washington": 1.3, "New York": 1.6, "Boston": 1.35, "Toronto": 1.05, "Vancouver": 1.1,
    "Mexico City": 0.6, "São Paulo": 0.65, "London": 1.55, "Dublin": 1.2, "Paris": 1.45,
    "Amsterdam": 1.3, "Frankfurt": 1.05, "Munich": 1.15, "Zurich": 1.6, "Vienna": 1.0,
    "Copenhagen": 1.25, "Madrid": 0.95, "Barcelona": 1.05, "Lisbon": 0.85, "Rome": 1.1,
    "Milan": 1.15, "Athens": 0.8, "Istanbul": 0.6, "Dubai": 1.2, "Cairo": 0.45,
    "Johannesburg": 0.55, "Delhi": 0.45, "Singapore": 1.35, "Bangkok": 0.5,
    "Hong Kong": 1.3, "Seoul": 0.95, "Tokyo": 1.1, "Sydney": 1.2,
}  # fmt: skip

# Carriers whose flights leave from a country; flight numbers get one of these prefixes.
CARRIERS: dict[str, tuple[str, ...]] = {
    "United States": ("UA", "AA", "DL"), "Canada": ("AC",), "Mexico": ("AM",),
    "Brazil": ("LA",), "United Kingdom": ("BA", "VS"), "Ireland": ("EI",), "France": ("AF",),
    "Netherlands": ("KL",), "Germany": ("LH",), "Switzerland": ("LX",), "Austria": ("OS",),
    "Denmark": ("SK",), "Spain": ("IB",), "Portugal": ("TP",), "Italy": ("AZ",),
    "Greece": ("A3",), "Turkey": ("TK",), "United Arab Emirates": ("EK",), "Egypt": ("MS",),
    "South Africa": ("SA",), "India": ("AI",), "Singapore": ("SQ",), "Thailand": ("TG",),
    "Hong Kong": ("CX",), "South Korea": ("KE",), "Japan": ("JL", "NH"), "Australia": ("QF",),
}  # fmt: skip


def great_circle_km(origin: str, destination: str) -> float:
    """Distance between two airports along the Earth's surface (haversine)."""
    lat1, lon1 = map(radians, COORDINATES[origin])
    lat2, lon2 = map(radians, COORDINATES[destination])
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * asin(sqrt(h))
