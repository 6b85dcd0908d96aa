"""The demo's datasets and what they honestly are.

The public ones are real files shipped offline by the `vega-datasets` package; their descriptions
say where the data comes from, which period and place it covers and, as plainly, what it does
NOT cover (most are not city-level data at all). The citizen-level one is synthetic.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from dataclasses import dataclass
from pathlib import Path

from ..datasets.metadata import Coverage

PUBLIC_DOMAIN = "https://creativecommons.org/publicdomain/mark/1.0/"


def vega_file(name: str) -> Path:
    """The path of a CSV shipped inside the vega-datasets wheel (no network)."""
    import vega_datasets

    path = Path(vega_datasets.__file__).parent / "_data" / name
    if not path.is_file():
        raise FileNotFoundError(f"vega-datasets has no {name} (is vega-datasets==0.9.0 installed?)")
    return path


@dataclass(frozen=True)
class DemoDataset:
    key: str
    file: str  # vega-datasets file name, or "" for generated files
    publisher: int  # devnet account index: 1 agency, 2 business
    title: str
    domain: str
    description: str
    coverage: Coverage
    source: str
    license: str = PUBLIC_DOMAIN
    keywords: tuple[str, ...] = ()
    personal_data: bool = False
    privacy: dict | None = None  # the `cl:privacy` declaration of a personal dataset (docs/PRIVACY.md)


PUBLIC = [
    DemoDataset(
        key="seattle-weather",
        file="seattle-weather.csv",
        publisher=1,
        title="Seattle daily weather 2012-2015",
        domain="environment",
        description=(
            "Daily weather for Seattle, Washington (USA), one row per day from 2012-01-01 to 2015-12-31 "
            "(1461 days): precipitation, maximum and minimum temperature, wind speed and a weather label "
            "(drizzle, rain, sun, snow, fog). Drawn from NOAA public-domain data and transformed by the "
            "vega-datasets project; units as in that source (precipitation mm, temperatures degrees C, wind m/s)."
        ),
        coverage=Coverage(
            temporal_start="2012-01-01",
            temporal_end="2015-12-31",
            spatial="Seattle, Washington, USA",
            population="Days (not people): one weather summary per calendar day for one Seattle series.",
            method="NOAA daily station summaries, reshaped by vega-datasets scripts; the weather label is derived.",
            not_covered=(
                "Other places in the Seattle area (a single series; the station is not named in the source), "
                "hours within a day, air quality, and anything after 2015. Describes no people."
            ),
        ),
        source="https://github.com/vega/vega-datasets (NOAA, public domain)",
        keywords=("weather", "climate", "Seattle"),
    ),
    DemoDataset(
        key="iowa-electricity",
        file="iowa-electricity.csv",
        publisher=2,
        title="Iowa annual net electricity generation by source 2001-2017",
        domain="energy",
        description=(
            "Annual net generation of electricity in the state of Iowa (USA) by source (Fossil Fuels, Nuclear "
            "Energy, Renewables), 2001 to 2017, in thousand megawatt-hours: 51 rows (17 years x 3 sources). "
            "Published in the public domain by the U.S. Energy Information Administration (EIA), downloaded "
            "2018-05-06 by vega-datasets. In this demo the business publisher republishes it as a stand-in for "
            "an energy company's filing; the numbers are the EIA's, not the company's."
        ),
        coverage=Coverage(
            temporal_start="2001-01-01",
            temporal_end="2017-12-31",
            spatial="State of Iowa, USA",
            population="Electricity generated in Iowa, aggregated per year and per source group.",
            method="EIA electricity data browser, annual totals; grouped into three source categories.",
            not_covered=(
                "Any single city, plant or utility; consumption, imports/exports and prices; months within a "
                "year; years after 2017. Describes no people or households."
            ),
        ),
        source="https://www.eia.gov/electricity/data/browser/ via vega-datasets",
        keywords=("electricity", "renewables", "Iowa"),
    ),
    DemoDataset(
        key="la-riots",
        file="la-riots.csv",
        publisher=1,
        title="Deaths during the 1992 Los Angeles riots",
        domain="public_safety",
        description=(
            "One row per person who died in connection with the Los Angeles riots that began on 1992-04-29: "
            "63 rows with name, age, gender, race, date and address of death, neighborhood, the circumstances "
            "(Homicide, Officer-involved shooting, Death, Not riot-related) and coordinates. Compiled and "
            "published by the Los Angeles Times Data Desk; dates of death run to 1993-11-24 for people who "
            "died later of their injuries."
        ),
        coverage=Coverage(
            temporal_start="1992-04-29",
            temporal_end="1993-11-24",
            spatial="Los Angeles County, California, USA",
            population=(
                "People whose deaths the Los Angeles Times attributed to (or examined in connection with) the riots."
            ),
            method="Journalistic compilation from coroner, police and family sources by the Los Angeles Times.",
            not_covered=(
                "Injured people, arrests, property damage and fires; deaths the newspaper did not attribute to the "
                "riots. It names deceased individuals as the newspaper published them: it holds no data about "
                "living persons, which is why it is not flagged as personal data, but it is sensitive."
            ),
            notes="Race and gender are as recorded by the newspaper, not self-reported.",
        ),
        source="http://spreadsheets.latimes.com/la-riots-deaths/ via vega-datasets",
        keywords=("public safety", "civil unrest", "Los Angeles"),
    ),
    DemoDataset(
        key="us-employment",
        file="us-employment.csv",
        publisher=1,
        title="US monthly employment by supersector 2006-2015",
        domain="economy",
        description=(
            "Monthly employment in the United States from January 2006 to December 2015 (120 months), in "
            "thousands of jobs, seasonally adjusted, for the nonfarm total and the supersectors tracked by the "
            "Bureau of Labor Statistics Current Employment Statistics programme, plus a computed month-to-month "
            "change of the nonfarm total. Downloaded 2018-11-11 and reformatted by vega-datasets."
        ),
        coverage=Coverage(
            temporal_start="2006-01-01",
            temporal_end="2015-12-01",
            spatial="United States (national totals)",
            population="Nonfarm payroll jobs in establishments surveyed by the BLS (jobs, not people).",
            method="BLS Current Employment Statistics establishment survey, seasonally adjusted.",
            not_covered=(
                "Any city, state or county breakdown; farm workers, the self-employed, private household "
                "workers; unemployment; months after 2015. Describes no individual people."
            ),
        ),
        source="https://www.bls.gov/ces/ via vega-datasets",
        keywords=("employment", "labour market", "recession"),
    ),
]

# The second version of seattle-weather: the same observations re-saved with ISO 8601 dates
# (2012-01-01 instead of 2012/01/01), which the first version's date column did not follow.
SEATTLE_V2_DESCRIPTION = (
    PUBLIC[0].description + " Version 2: the date column re-saved in ISO 8601 (YYYY-MM-DD) instead of YYYY/MM/DD;"
    " every other value is unchanged."
)


def seattle_v2_bytes() -> bytes:
    src = vega_file("seattle-weather.csv").read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(src)))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(rows[0])
    for row in rows[1:]:
        if row:
            w.writerow([row[0].replace("/", "-"), *row[1:]])
    return out.getvalue().encode("utf-8")


CITIZEN = DemoDataset(
    key="citizen-mobility",
    file="",
    publisher=2,
    title="Synthetic weekly mobility of app users (pseudonymous)",
    domain="transport",
    description=(
        "SYNTHETIC data generated for the CityLedger demo: one row per pseudonymous subject (a wallet address) "
        "with a home district code, average weekly trips by mode, the share of trips in peak hours and an age. "
        "No real person is described: the addresses are devnet citizen accounts 6-9 and addresses of keys derived "
        "from a fixed label, the numbers come from a seeded random generator."
    ),
    coverage=Coverage(
        temporal_start="2025-01-06",
        temporal_end="2025-03-30",
        spatial="Fictional city, districts D01-D12",
        population="Synthetic: users of a fictional mobility app who signed up with a wallet.",
        method="Seeded pseudo-random generation (not a sample of anything).",
        not_covered="Everyone without the app or a wallet; all real people. Not usable for any real analysis.",
        notes="Subject column holds wallet addresses only: no names, contact details or exact locations.",
    ),
    source="generated by cityledger.demo (seed 2025)",
    license="https://creativecommons.org/publicdomain/zero/1.0/",
    keywords=("synthetic", "mobility", "consent demo"),
    personal_data=True,
    privacy={
        "@type": "cl:PrivacyDeclaration",
        "cl:version": 1,
        "cl:subjectColumn": "subject",
        "cl:contributionsPerSubject": 1,
        "cl:k": 5,
        # The population profile (all rows, consenting or not) for representativeness reports, computed
        # once at this epsilon and kept by the data room (docs/PRIVACY.md section 7).
        "cl:profileEpsilon": "1",
        "cl:sampledPopulation": (
            "Synthetic: users of a fictional mobility app who signed up with a wallet, living in districts "
            "D01-D12 of a fictional city, 2025-01-06 to 2025-03-30. People without the app or a wallet are "
            "not in it; it samples no real population."
        ),
        "cl:columns": [
            {
                "cl:name": "home_district",
                "cl:type": "categorical",
                "cl:categories": [f"D{i:02d}" for i in range(1, 13)],
                "cl:quasiIdentifier": True,
                "cl:hierarchy": [
                    {
                        "cl:label": "area",
                        "cl:groups": [
                            {"cl:label": area, "cl:members": [f"D{i:02d}" for i in range(first, first + 3)]}
                            for area, first in (("North", 1), ("East", 4), ("South", 7), ("West", 10))
                        ],
                    },
                    "*",
                ],
            },
            {
                "cl:name": "age",
                "cl:type": "integer",
                "cl:lower": 16,
                "cl:upper": 90,
                "cl:quasiIdentifier": True,
                "cl:hierarchy": [
                    {"cl:label": "10-year bands", "cl:width": 10},
                    {"cl:label": "20-year bands", "cl:width": 20},
                    "*",
                ],
            },
            {"cl:name": "trips_walk", "cl:type": "numeric", "cl:lower": "0", "cl:upper": "14", "cl:resolution": "0.1"},
            {"cl:name": "trips_bike", "cl:type": "numeric", "cl:lower": "0", "cl:upper": "8", "cl:resolution": "0.1"},
            {
                "cl:name": "trips_transit",
                "cl:type": "numeric",
                "cl:lower": "0",
                "cl:upper": "12",
                "cl:resolution": "0.1",
            },
            {"cl:name": "trips_car", "cl:type": "numeric", "cl:lower": "0", "cl:upper": "10", "cl:resolution": "0.1"},
            {
                "cl:name": "peak_share",
                "cl:type": "numeric",
                "cl:lower": "0",
                "cl:upper": "1",
                "cl:resolution": "0.01",
            },
        ],
    },
)

CITIZEN_RANDOM_SUBJECTS = 300
# How many of the synthetic subjects consent (by an EIP-712 signature the relayer submits in one
# batch): with the devnet citizens who do, enough for a k = 5 release and a DP answer to mean something.
SIGNING_SUBJECTS = 48


def subject_key(i: int) -> bytes:
    """The private key of synthetic subject `i`: derived from a fixed label, so the file and the demo's
    consents are the same on every machine. Devnet only: anyone can derive these keys."""
    return hashlib.sha256(f"cityledger-demo-subject-key-{i}".encode()).digest()


def citizen_subjects(citizens: list[str], n_random: int = CITIZEN_RANDOM_SUBJECTS) -> list[str]:
    """The subject addresses: the devnet citizens plus `n_random` deterministic synthetic subjects
    (the addresses of subject_key(i), so the first SIGNING_SUBJECTS of them can sign their consent)."""
    from eth_account import Account

    return list(citizens) + [Account.from_key(subject_key(i)).address for i in range(n_random)]


def citizen_bytes(citizens: list[str]) -> bytes:
    """The synthetic citizen-level CSV; deterministic, so seeding twice gives the same content hash.
    `age` (a quasi-identifier with home_district, for the k-anonymity guard) has its own generator so
    the other columns keep their values; app users skew young (mode 29)."""
    rng = random.Random(2025)
    ages = random.Random(2026)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        ["subject", "home_district", "trips_walk", "trips_bike", "trips_transit", "trips_car", "peak_share", "age"]
    )
    for subject in citizen_subjects(citizens):
        w.writerow(
            [
                subject,
                f"D{rng.randint(1, 12):02d}",
                f"{rng.uniform(0, 14):.1f}",
                f"{rng.uniform(0, 8):.1f}",
                f"{rng.uniform(0, 12):.1f}",
                f"{rng.uniform(0, 10):.1f}",
                f"{rng.uniform(0.1, 0.7):.2f}",
                str(round(ages.triangular(16, 90, 29))),
            ]
        )
    return out.getvalue().encode("utf-8")
