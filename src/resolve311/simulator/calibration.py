"""Calibration figures for the generated NYC 311 data (REFERENCE.md §3).

Pure constants: complaint types with their agency, share, descriptors, hour and
season profiles and time-to-close; daily volume by year; dirty-row rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np


@dataclass(frozen=True)
class ComplaintType:
    """One complaint type: who handles it, how common it is, when it comes and how fast it closes."""

    agency: str
    name: str
    share: float  # percent of all 2020–24 requests
    descriptors: tuple[str, ...]
    location_type: str | None
    hours: str  # key of HOUR_PROFILES
    season: str  # key of SEASON_PROFILES
    ttc_median_h: float  # median time to close, hours
    ttc_sigma: float = 1.2  # lognormal sigma


AGENCY_NAMES: Final[dict[str, str]] = {
    "NYPD": "New York City Police Department",
    "HPD": "Department of Housing Preservation and Development",
    "DSNY": "Department of Sanitation",
    "DOT": "Department of Transportation",
    "DEP": "Department of Environmental Protection",
    "DPR": "Department of Parks and Recreation",
    "DOB": "Department of Buildings",
    "DOHMH": "Department of Health and Mental Hygiene",
    "DHS": "Department of Homeless Services",
    "EDC": "Economic Development Corporation",
    "TLC": "Taxi and Limousine Commission",
    "DCWP": "Department of Consumer and Worker Protection",
    "OSE": "Office of Special Enforcement",
    "DOE": "Department of Education",
    "DFTA": "Department for the Aging",
    "OTI": "Office of Technology and Innovation",
}

_RES = "Residential Building/House"
_STREET = "Street/Sidewalk"

# fmt: off
COMPLAINT_TYPES: Final[tuple[ComplaintType, ...]] = (
    # NYPD 43%
    ComplaintType("NYPD", "Illegal Parking", 11.9, ("Blocked Hydrant", "Double Parked Blocking Traffic", "Posted Parking Sign Violation", "Blocked Sidewalk", "Commercial Overnight Parking"), _STREET, "commute", "flat", 2.5),
    ComplaintType("NYPD", "Noise - Residential", 11.4, ("Loud Music/Party", "Banging/Pounding", "Loud Talking", "Loud Television"), _RES, "night", "summer", 0.6),
    ComplaintType("NYPD", "Noise - Street/Sidewalk", 5.3, ("Loud Music/Party", "Loud Talking"), _STREET, "night", "summer", 0.6),
    ComplaintType("NYPD", "Blocked Driveway", 4.8, ("No Access", "Partial Access"), _STREET, "commute", "flat", 2.0),
    ComplaintType("NYPD", "Noise - Vehicle", 2.1, ("Car/Truck Music", "Engine Idling", "Car/Truck Horn"), _STREET, "night", "summer", 0.7),
    ComplaintType("NYPD", "Noise - Commercial", 1.8, ("Loud Music/Party", "Banging/Pounding", "Loud Talking"), "Club/Bar/Restaurant", "night", "summer", 0.6),
    ComplaintType("NYPD", "Abandoned Vehicle", 1.6, ("With License Plate", "Without License Plate"), _STREET, "day", "flat", 4.0),
    ComplaintType("NYPD", "Non-Emergency Police Matter", 1.2, ("Other (complaint details)", "Trespassing", "Face Covering Violation"), _STREET, "day", "flat", 2.0),
    ComplaintType("NYPD", "Encampment", 0.8, ("N/A",), _STREET, "day", "flat", 3.0),
    ComplaintType("NYPD", "Illegal Fireworks", 0.5, ("N/A",), _STREET, "night", "fireworks", 1.0),
    ComplaintType("NYPD", "Noise - Park", 0.5, ("Loud Music/Party", "Loud Talking"), "Park/Playground", "night", "summer", 0.8),
    ComplaintType("NYPD", "Drug Activity", 0.3, ("Use Indoor", "Use Outside"), _STREET, "night", "flat", 3.0),
    ComplaintType("NYPD", "Traffic", 0.3, ("Drag Racing", "Truck Route Violation"), _STREET, "night", "summer", 1.5),
    ComplaintType("NYPD", "Animal-Abuse", 0.2, ("Neglected", "Tortured", "Chained"), _RES, "day", "flat", 2.5),
    ComplaintType("NYPD", "Vending", 0.2, ("Unlicensed", "In Prohibited Area"), _STREET, "day", "summer", 2.5),
    ComplaintType("NYPD", "Panhandling", 0.1, ("N/A",), _STREET, "day", "flat", 2.0),
    # HPD 19%
    ComplaintType("HPD", "HEAT/HOT WATER", 7.0, ("ENTIRE BUILDING", "APARTMENT ONLY"), "RESIDENTIAL BUILDING", "heat", "heat", 50.0, 1.0),
    ComplaintType("HPD", "UNSANITARY CONDITION", 3.1, ("PESTS", "MOLD", "GARBAGE/RECYCLING STORAGE"), "RESIDENTIAL BUILDING", "day", "flat", 240.0),
    ComplaintType("HPD", "PLUMBING", 1.8, ("WATER SUPPLY", "BASIN/SINK", "TOILET", "BATHTUB/SHOWER"), "RESIDENTIAL BUILDING", "day", "flat", 200.0),
    ComplaintType("HPD", "PAINT/PLASTER", 1.7, ("WALL", "CEILING"), "RESIDENTIAL BUILDING", "day", "flat", 260.0),
    ComplaintType("HPD", "WATER LEAK", 1.3, ("SLOW LEAK", "HEAVY FLOW"), "RESIDENTIAL BUILDING", "day", "flat", 190.0),
    ComplaintType("HPD", "DOOR/WINDOW", 1.2, ("DOOR", "WINDOW FRAME", "WINDOW GUARD BROKEN/MISSING"), "RESIDENTIAL BUILDING", "day", "flat", 230.0),
    ComplaintType("HPD", "GENERAL", 1.0, ("COOKING GAS", "BELL/BUZZER/INTERCOM", "SECURITY SYSTEM"), "RESIDENTIAL BUILDING", "day", "flat", 200.0),
    ComplaintType("HPD", "ELECTRIC", 0.8, ("OUTLET/SWITCH", "POWER OUTAGE", "WIRING"), "RESIDENTIAL BUILDING", "day", "flat", 170.0),
    ComplaintType("HPD", "FLOORING/STAIRS", 0.6, ("FLOOR", "STAIRS"), "RESIDENTIAL BUILDING", "day", "flat", 250.0),
    ComplaintType("HPD", "APPLIANCE", 0.4, ("REFRIGERATOR", "STOVE/RANGE"), "RESIDENTIAL BUILDING", "day", "flat", 200.0),
    ComplaintType("HPD", "SAFETY", 0.1, ("CARBON MONOXIDE DETECTOR", "SMOKE DETECTOR"), "RESIDENTIAL BUILDING", "day", "flat", 180.0),
    # DSNY 12%
    ComplaintType("DSNY", "Request Large Bulky Item Collection", 3.9, ("Request Large Bulky Item Collection",), "Sidewalk", "day", "flat", 72.0, 0.6),
    ComplaintType("DSNY", "Dirty Condition", 1.5, ("Trash", "Dog Waste", "Graffiti"), _STREET, "day", "summer", 70.0),
    ComplaintType("DSNY", "Missed Collection", 1.2, ("Trash", "Recycling - Paper", "Recycling - Metal/Glass/Plastic"), _STREET, "day", "flat", 40.0),
    ComplaintType("DSNY", "Derelict Vehicles", 1.2, ("Derelict Vehicles",), _STREET, "day", "flat", 200.0),
    ComplaintType("DSNY", "Illegal Dumping", 0.9, ("Removal Request",), _STREET, "day", "flat", 90.0),
    ComplaintType("DSNY", "Sanitation Condition", 0.9, ("Litter", "Overflowing Basket"), _STREET, "day", "summer", 80.0),
    ComplaintType("DSNY", "Electronics Waste Appointment", 0.8, ("Electronics Waste Appointment",), "Sidewalk", "day", "flat", 100.0),
    ComplaintType("DSNY", "Snow or Ice", 0.8, ("Sidewalk", "Roadway"), _STREET, "day", "snow", 30.0),
    ComplaintType("DSNY", "Litter Basket Request", 0.4, ("Litter Basket Request",), _STREET, "day", "flat", 150.0),
    ComplaintType("DSNY", "Graffiti", 0.4, ("Graffiti",), _STREET, "day", "flat", 300.0),
    # DOT 7%
    ComplaintType("DOT", "Street Condition", 2.1, ("Pothole", "Cave-in", "Defective Hardware"), None, "day", "spring", 110.0),
    ComplaintType("DOT", "Street Light Condition", 1.6, ("Street Light Out", "Street Light Cycling", "Lamppost Damaged"), None, "night", "flat", 140.0),
    ComplaintType("DOT", "Traffic Signal Condition", 1.0, ("Controller", "LED Pedestrian Unit", "Ped Flasher"), None, "commute", "flat", 6.0),
    ComplaintType("DOT", "Sidewalk Condition", 0.6, ("Broken Sidewalk", "Defacement"), "Sidewalk", "day", "flat", 400.0),
    ComplaintType("DOT", "Street Sign - Damaged", 0.5, ("Stop", "One Way", "Other/Unknown"), None, "day", "flat", 300.0),
    ComplaintType("DOT", "Broken Parking Meter", 0.5, ("No Receipt", "Coin or Card Did Not Register"), None, "day", "flat", 60.0),
    ComplaintType("DOT", "Highway Condition", 0.4, ("Pothole - Highway", "Debris - Highway"), None, "commute", "spring", 48.0),
    ComplaintType("DOT", "Curb Condition", 0.3, ("Broken Curb", "Defacement"), "Curb", "day", "flat", 500.0),
    # DEP 5%
    ComplaintType("DEP", "Water System", 1.5, ("Hydrant Running (WC3)", "Leak (Use Comments) (WA2)", "No Water (WNW)"), None, "day", "summer", 16.0),
    ComplaintType("DEP", "Noise", 1.4, ("Noise: Construction Before/After Hours (NM1)", "Noise: Jack Hammering (NC2)", "Noise, Barking Dog (NR5)"), None, "day", "flat", 40.0),
    ComplaintType("DEP", "Sewer", 1.2, ("Sewer Backup (Use Comments) (SA)", "Catch Basin Clogged/Flooding (Use Comments) (SC)"), None, "day", "flat", 10.0),
    ComplaintType("DEP", "Air Quality", 0.5, ("Air: Odor/Fumes, Vehicle Idling (AD3)", "Air: Smoke, Residential (AA1)"), None, "day", "flat", 60.0),
    ComplaintType("DEP", "Water Conservation", 0.3, ("Water Meter Broken/Leaking - Private Residence (CMR)",), None, "day", "flat", 50.0),
    ComplaintType("DEP", "Lead", 0.1, ("Lead Kit Request (Residential) (L10)",), None, "day", "flat", 100.0),
    # DPR 4%
    ComplaintType("DPR", "Damaged Tree", 1.5, ("Branch Cracked and Will Fall", "Tree Leaning/Uprooted", "Entire Tree Has Fallen Down"), _STREET, "day", "storms", 204.0),
    ComplaintType("DPR", "Overgrown Tree/Branches", 0.8, ("Hitting Building", "Blocking Street Sign"), _STREET, "day", "summer", 204.0),
    ComplaintType("DPR", "Maintenance or Facility", 0.7, ("Structure - Outdoors", "Garbage or Litter"), "Park", "day", "summer", 150.0),
    ComplaintType("DPR", "New Tree Request", 0.5, ("For One Address",), _STREET, "day", "flat", 600.0),
    ComplaintType("DPR", "Dead/Dying Tree", 0.5, ("Dead/Dying Tree",), _STREET, "day", "summer", 300.0),
    # DOB 3%
    ComplaintType("DOB", "General Construction/Plumbing", 1.0, ("Failure To Maintain", "Working Contrary To Stop Work Order"), None, "day", "flat", 204.0),
    ComplaintType("DOB", "Building/Use", 0.9, ("Illegal Conversion Of Residential Building/Space",), None, "day", "flat", 204.0),
    ComplaintType("DOB", "Elevator", 0.4, ("Elevator - Defective/Not Working",), None, "day", "flat", 150.0),
    ComplaintType("DOB", "Electrical", 0.3, ("Electrical Wiring Defective/Exposed",), None, "day", "flat", 204.0),
    ComplaintType("DOB", "Scaffold Safety", 0.2, ("Scaffolding Unsafe",), None, "day", "flat", 100.0),
    ComplaintType("DOB", "Special Projects Inspection Team (SPIT)", 0.2, ("Illegal Hotel Rooms In Residential Building",), None, "day", "flat", 300.0),
    # DOHMH 2%
    ComplaintType("DOHMH", "Rodent", 1.2, ("Rat Sighting", "Mouse Sighting", "Condition Attracting Rodents"), "3+ Family Apt. Building", "day", "summer", 384.0),
    ComplaintType("DOHMH", "Food Establishment", 0.3, ("Food Contaminated", "Rodents/Insects/Garbage"), "Restaurant/Bar/Deli/Bakery", "day", "flat", 384.0),
    ComplaintType("DOHMH", "Indoor Air Quality", 0.2, ("Chemical Vapors/Gases/Odors",), "Residential Building", "day", "flat", 500.0),
    ComplaintType("DOHMH", "Mold", 0.15, ("Condition",), "Residential Building", "day", "flat", 500.0),
    ComplaintType("DOHMH", "Unsanitary Animal Pvt Property", 0.15, ("Dog", "Other (complaint details)"), "Private House", "day", "flat", 300.0),
    # the rest
    ComplaintType("DHS", "Homeless Person Assistance", 1.0, ("Chronic", "Non-Chronic"), _STREET, "flat", "heat", 2.0),
    ComplaintType("EDC", "Noise - Helicopter", 1.0, ("Other",), "Above Address", "day", "summer", 24.0, 1.5),
    ComplaintType("TLC", "For Hire Vehicle Complaint", 0.6, ("Driver Complaint - Non Passenger", "Car Service Company Complaint"), _STREET, "commute", "flat", 480.0),
    ComplaintType("TLC", "Taxi Complaint", 0.4, ("Driver Complaint - Passenger", "Taxi Licensee Complaint"), _STREET, "commute", "flat", 480.0),
    ComplaintType("DCWP", "Consumer Complaint", 0.8, ("False Advertising", "Non-Delivery Goods", "Overcharge"), None, "day", "flat", 480.0),
    ComplaintType("DCWP", "Vendor Enforcement", 0.2, ("Food Vendor",), _STREET, "day", "summer", 200.0),
    ComplaintType("OSE", "Illegal Short Term Rental", 0.4, ("Entire Apartment",), _RES, "day", "flat", 400.0),
    ComplaintType("DOE", "School Maintenance", 0.3, ("Heating Problem", "Rodents/Mice"), "School", "day", "heat", 120.0),
    ComplaintType("DFTA", "Housing - Low Income Senior", 0.2, ("Senior Center",), None, "day", "flat", 300.0),
    ComplaintType("OTI", "LinkNYC", 0.1, ("Damaged Kiosk",), _STREET, "day", "flat", 200.0),
)
# fmt: on

#: The long tail: rare real labels. TAIL_RELABEL of each listed agency's requests
#: get one of its tail labels instead (an independent draw: nothing else changes).
TAIL_RELABEL: Final = 0.08
TAIL_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "NYPD": ("Drinking", "Noise - House of Worship", "Disorderly Youth", "Urinating in Public", "Animal Abuse", "Derelict Vehicle"),
    "DSNY": ("Other Enforcement", "Residential Disposal Complaint", "Commercial Disposal Complaint", "Dead Animal", "Derelict Bicycle", "Obstruction", "Sweeping/Missed-Inadequate"),
    "DOT": ("Street Sign - Missing", "Bus Stop Shelter Complaint", "Bike Rack", "Bridge Condition"),
    "DOB": ("Construction", "Plumbing", "Boilers", "Emergency Response Team (ERT)"),
    "DOHMH": ("Smoking", "Asbestos", "Drinking Water", "Indoor Sewage", "Mobile Food Vendor", "Unsanitary Pigeon Condition"),
    "DEP": ("Hazardous Materials", "Water Quality"),
    "DPR": ("Illegal Tree Damage", "Animal in a Park", "Violation of Park Rules"),
    "TLC": ("Lost Property", "Taxi Report", "For Hire Vehicle Report"),
    "HPD": ("OUTSIDE BUILDING", "ELEVATOR"),
}  # fmt: skip

#: 2010–19 agency shares relative to 2020–24 (REFERENCE §3), applied to dates before 2020.
PRE_2020_AGENCY_FACTOR: Final[dict[str, float]] = {
    "HPD": 26.5 / 19,
    "NYPD": 23.3 / 43,
    "DOT": 13.5 / 7,
    "DSNY": 10.6 / 12,
    "DEP": 7.7 / 5,
    "DOB": 5.3 / 3,
    "DPR": 4.3 / 4,
    "DOHMH": 2.5 / 2,
    "EDC": 0.3,
}

#: Agency codes that changed: (new code, old code, first day of the new code).
AGENCY_RENAMES: Final[tuple[tuple[str, str, str], ...]] = (
    ("DCWP", "DCA", "2019-12-01"),
    ("OTI", "DOITT", "2022-01-01"),
)
OLD_AGENCY_NAMES: Final[dict[str, str]] = {
    "DCA": "Department of Consumer Affairs",
    "DOITT": "Department of Information Technology and Telecommunications",
}
#: Complaint-type labels that changed: (current label, old label, first day of the current one).
TYPE_RENAMES: Final[tuple[tuple[str, str, str], ...]] = (
    ("HEAT/HOT WATER", "HEATING", "2014-03-01"),
    ("PAINT/PLASTER", "PAINT - PLASTER", "2014-03-01"),
)

#: Relative request rate by hour of day (0–23), one profile per rhythm.
HOUR_PROFILES: Final[dict[str, tuple[float, ...]]] = {
    "night": (9, 7, 5, 3, 2, 1, 1, 1, 1.5, 2, 2.5, 3, 3, 3, 3, 3.5, 4, 4.5, 5, 6, 7, 9, 11, 11),
    "day": (0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 2, 4, 7, 9, 9, 9, 8, 8, 8, 7, 6, 5, 4, 3, 2.5, 2, 1.5, 1),
    "commute": (2, 1.5, 1, 1, 1.5, 3, 6, 9, 9, 8, 6, 5, 5, 5, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3),
    "heat": (4, 3, 2.5, 2.5, 3, 5, 8, 9, 8, 6, 5, 4, 4, 4, 4, 4, 4, 5, 6, 7, 8, 8, 7, 5),
    "flat": (1,) * 24,
}

#: Relative rate by month (Jan–Dec); each profile averages 1 over the year.
_RAW_SEASONS: Final[dict[str, tuple[float, ...]]] = {
    "flat": (1,) * 12,
    "summer": (0.6, 0.6, 0.75, 0.9, 1.1, 1.35, 1.45, 1.35, 1.2, 1.0, 0.8, 0.7),
    "heat": (2.6, 2.2, 1.5, 0.8, 0.3, 0.12, 0.1, 0.1, 0.2, 0.9, 1.8, 2.4),
    "snow": (4.0, 4.0, 1.5, 0.1, 0.01, 0.01, 0.01, 0.01, 0.01, 0.05, 0.3, 2.0),
    "fireworks": (0.1, 0.1, 0.1, 0.2, 0.8, 3.5, 5.5, 0.8, 0.3, 0.2, 0.1, 0.3),
    "spring": (1.2, 1.5, 1.6, 1.3, 1.0, 0.9, 0.8, 0.8, 0.7, 0.7, 0.7, 0.8),
    "storms": (0.6, 0.6, 0.8, 1.0, 1.2, 1.4, 1.5, 1.5, 1.3, 1.0, 0.6, 0.5),
}
SEASON_PROFILES: Final[dict[str, tuple[float, ...]]] = {
    name: tuple(v * 12 / sum(values) for v in values) for name, values in _RAW_SEASONS.items()
}

#: Mean requests per day by year (whole city, scale 1.0); interpolated between years.
DAILY_VOLUME_BY_YEAR: Final[dict[int, float]] = {
    2010: 5600,
    2012: 5300,
    2014: 5800,
    2016: 6300,
    2018: 7000,
    2019: 7100,
    2020: 8050,
    2021: 8820,
    2022: 8680,
    2023: 8850,
    2024: 9450,
    2025: 9900,
    2026: 10300,
    2030: 11000,
}
WEEKDAY_FACTOR: Final[tuple[float, ...]] = (1.07, 1.05, 1.03, 1.01, 0.99, 0.93, 0.92)  # Mon..Sun
SEASON_VOLUME_AMPLITUDE: Final = 0.10  # +-10 %, peak in July
STORM_DAY_PROBABILITY: Final = 0.008
STORM_FACTOR_RANGE: Final = (1.4, 2.5)
DAILY_NOISE_SIGMA: Final = 0.05

#: Dirty-row rates (shares of all rows, 2020–24).
DIRTY: Final[dict[str, float]] = {
    "never_closed": 0.014,
    "closed_before_created": 0.0029,
    "sentinel_share_of_before": 0.25,
    "closed_same_second": 0.025,
    "midnight_close_share_dsny_dob_dpr": 0.36,
    "resolution_before_created": 0.023,
    "closed_without_date": 0.003,
    "open_with_closed_date": 0.004,
    "due_date_present": 0.004,
    "far_future_close": 0.00005,
    "junk_type": 0.00005,
    "junk_zip": 0.0005,
    "unspecified_borough": 0.05,
    "missing_coordinates": 0.08,
    "created_at_midnight": 0.01,
    "late_edit": 0.5,
    "very_late_edit": 0.005,
    "rekeyed": 0.0005,
    "mojibake_dpr": 0.3,
}
JUNK_TYPES: Final[tuple[str, ...]] = ("../../../../", "ZTESTINT")
JUNK_ZIPS: Final[tuple[str, ...]] = ("00000", "--------", "ZIP CODE")
ODD_FINAL_STATUSES: Final[tuple[tuple[str, float], ...]] = (
    ("Closed", 0.9905),
    ("Cancelled", 0.003),
    ("Closed - Testing", 0.0005),
    ("Unspecified", 0.002),
    ("Email Sent", 0.002),
    ("Draft", 0.001),
    ("Unassigned", 0.001),
)
IN_WORK_STATUSES: Final[tuple[str, ...]] = ("In Progress", "Assigned", "Pending", "Started")
CHANNELS: Final[tuple[tuple[str, float], ...]] = (
    ("PHONE", 0.40),
    ("ONLINE", 0.30),
    ("MOBILE", 0.25),
    ("UNKNOWN", 0.045),
    ("OTHER", 0.005),
)
ADDRESS_TYPES: Final[tuple[tuple[str, float], ...]] = (
    ("ADDRESS", 0.78),
    ("INTERSECTION", 0.1),
    ("BLOCKFACE", 0.08),
    ("LATLONG", 0.03),
    ("UNRECOGNIZED", 0.01),
)
#: x, y (NY State Plane, feet) ~ a + b*lon + c*lat, fitted on the real files.
STATE_PLANE_FIT: Final = (21524165.92, 277380.757, -337.959, -14611631.79, 264.1005, 364262.423)
BOROUGH_DIGIT: Final[dict[str, int]] = {
    "MANHATTAN": 1,
    "BRONX": 2,
    "BROOKLYN": 3,
    "QUEENS": 4,
    "STATEN ISLAND": 5,
}
FACILITY_BY_AGENCY: Final[dict[str, str]] = {
    "NYPD": "Precinct",
    "DSNY": "DSNY Garage",
    "DOT": "N/A",
    "DEP": "N/A",
}

MOJIBAKE_APOSTROPHE: Final = "\u00e2\u0080\u0099"
OPEN_TEXT: Final = "The {agency_long} has received your request and it is being reviewed."
ASSIGNED_TEXT: Final = "The {agency_long} has assigned your request to an inspector."
LATE_EDIT_TEXT: Final = "The {agency_long} reviewed this request again and updated its records."
CLOSE_TEXTS: Final[dict[str, tuple[str, ...]]] = {
    "NYPD": (
        "The Police Department responded to the complaint and took action to fix the condition.",
        "The Police Department responded to the complaint and with the information available observed no evidence of the violation at that time.",
        "The Police Department responded and upon arrival those responsible for the condition were gone.",
        "The Police Department reviewed your complaint and provided additional information below.",
    ),
    "HPD": (
        "The Department of Housing Preservation and Development inspected the following conditions. Violations were issued.",
        "The Department of Housing Preservation and Development contacted a tenant in the building and verified that the condition was corrected.",
        "The Department of Housing Preservation and Development was not able to gain access to inspect the condition.",
    ),
    "DPR": (
        "NYC Parks{apostrophe} Forestry staff inspected the tree and determined that work is not needed at this time.",
        "The Department of Parks and Recreation has completed the requested work order and corrected the problem.",
    ),
    "*": (
        "The {agency_long} has completed the request or corrected the condition.",
        "The {agency_long} investigated this complaint and took action to fix the condition.",
        "The {agency_long} determined that this complaint is a duplicate of a previously filed complaint.",
    ),
}


def type_shares() -> np.ndarray:
    """Share of every complaint type, summing to 1, in COMPLAINT_TYPES order."""
    shares = np.array([t.share for t in COMPLAINT_TYPES], dtype=float)
    normalised: np.ndarray = shares / shares.sum()
    return normalised


def season_matrix() -> np.ndarray:
    """(types, 12) relative monthly rate of every complaint type."""
    return np.array([SEASON_PROFILES[t.season] for t in COMPLAINT_TYPES], dtype=float)


def hour_cdf_matrix() -> np.ndarray:
    """(types, 24) cumulative hour-of-day distribution of every complaint type."""
    raw = np.array([HOUR_PROFILES[t.hours] for t in COMPLAINT_TYPES], dtype=float)
    return np.cumsum(raw / raw.sum(axis=1, keepdims=True), axis=1)


def pre_2020_factors() -> np.ndarray:
    """Per-type multiplier giving the 2010–19 agency mix."""
    return np.array([PRE_2020_AGENCY_FACTOR.get(t.agency, 1.0) for t in COMPLAINT_TYPES], dtype=float)
