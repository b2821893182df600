"""Real calls and hand-written profiles shared by the ranking tests (not a test module).

The calls are the 1,394 real calls of ../shared/research/calls.jsonl, read where they lie.
The departments and focus areas below are hand-written profiles that isolate one mechanism
each, so the tests hold while the real profiles and weights in config/ are tuned: they
assert orderings, flags and factors taken from the settings, never tuned score values.
"""

from __future__ import annotations

from datetime import UTC, datetime

from db.records import Call, Department, FocusArea
from tests.conftest import SHARED

CALLS = SHARED / "research" / "calls.jsonl"
NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)
STATUSES = {"Open for submission": "open", "Forthcoming": "forthcoming", "Upcoming": "forthcoming"}

# Real calls (ids of calls.jsonl) and why they are used.
CLIMATE_ADAPTATION = "HORIZON-MISS-2026-01-CLIMA-02"  # "...climate adaptation of regions..."
CLIMATE_SERVICES = "HORIZON-MISS-2026-01-CLIMA-03"  # climate adaptation, no "disaster"
DISASTER_RISK = "HORIZON-MISS-2026-01-CLIMA-04"  # "disaster risk management and climate ..."
LIFE_ADAPTATION = "LIFE-2026-SAP-CLIMA-CCA"  # LIFE programme, "Climate Change Adaptation"
SMALAND_ENERGY = "framjaenergieffektivitetismalandochoarna.11970"  # Swedish, Tillväxtverket
NORRLAND_BROADBAND = "byggrobustbredbandiovrenorrland.11988"  # "Bygg robust bredband i ..."
CLIMATE_CHALLENGES = "byggberedskapforframtidensklimatutmaningar.11990"  # "klimatutmaningar"
UNRELATED = (
    "HORIZON-EURATOM-LS-2026-01-05",  # stable isotopes for nuclear medicine
    "SMP-COSME-2024-CLUSTER-01#12906COMPETITIVE_CALLen",  # civil drones
    "HORIZON-CL5-2027-07-D3-16",  # tandem solar photovoltaics
)


def _deadlines(text: str | None) -> list[datetime]:
    """The row's deadline as an aware datetime (dates alone are taken as UTC midnight)."""
    if not text:
        return []
    moment = datetime.fromisoformat(text)
    return [moment if moment.tzinfo else moment.replace(tzinfo=UTC)]


def research_call(row: dict) -> Call:
    """A call as the matcher sees it; its language is left for the matcher to detect."""
    deadlines = _deadlines(row["deadline"])
    return Call(
        id=row["id"],
        source_id="research",
        identifier=row["id"],
        title=row["title"],
        url=row["url"],
        summary=row["description"],
        programme=row["programme"],
        status=STATUSES[row["status"]],
        deadlines=deadlines,
        next_deadline=min(deadlines, default=None),
        language="",
    )


def hand_written_department(
    department_id: str,
    sv: dict[str, float] | None = None,
    en: dict[str, float] | None = None,
    negative: tuple[str, ...] = (),
    preferred: tuple[str, ...] = (),
    lead_time_days: int = 21,
) -> Department:
    """A hand-written profile: only the keywords given, no free-text description."""
    return Department(
        id=department_id,
        name=department_id.title(),
        description_sv="",
        description_en="",
        keywords_sv=sv or {},
        keywords_en=en or {},
        negative_keywords=negative,
        preferred_programmes=preferred,
        min_score=0.05,
        lead_time_days=lead_time_days,
        recipients=("test@example.org",),
        digest_weekday="monday",
    )


def hand_written_focus_area(area_id: str, name: str, en: dict[str, float]) -> FocusArea:
    """A hand-written focus area with English keywords only."""
    return FocusArea(
        id=area_id,
        name=name,
        kind="fokusomrade",
        description_sv="",
        description_en="",
        keywords_sv={},
        keywords_en=en,
        strategy_section="",
        strategy_quote="",
    )


# Hand-written profiles, one mechanism each.
CLIMATE_KEYWORDS = {"climate adaptation": 3.0, "disaster risk management": 2.0}
DEPARTMENTS = (
    # Only Swedish words that the [terms] list of config/matching.toml translates.
    hand_written_department("sv-klimat", sv={"klimatanpassning": 3.0, "dagvatten": 2.0}),
    # Only English words that the [terms] list translates.
    hand_written_department("en-energy", en={"energy efficiency": 3.0}),
    # Swedish words found only inside the compound "klimatutmaningar": its head and its tail.
    hand_written_department("sv-klimat-head", sv={"klimat": 2.0}),
    hand_written_department("sv-utmaning-tail", sv={"utmaning": 2.0}),
    hand_written_department("climate", en=CLIMATE_KEYWORDS),
    hand_written_department("climate-negative", en=CLIMATE_KEYWORDS, negative=("disaster",)),
    hand_written_department("climate-preferred", en=CLIMATE_KEYWORDS, preferred=("LIFE",)),
    hand_written_department("climate-preferred-part", en=CLIMATE_KEYWORDS, preferred=("LIF",)),
    hand_written_department("climate-early", en=CLIMATE_KEYWORDS, lead_time_days=45),
    hand_written_department("bredband", sv={"bredband": 2.0}),
    hand_written_department("bredband-negative", sv={"bredband": 2.0}, negative=("norrland",)),
)
FOCUS_AREAS = (
    hand_written_focus_area("klimat", "Klimat", {"climate adaptation": 2.0, "resilience": 1.0}),
    hand_written_focus_area("kultur", "Kultur", {"cultural heritage": 2.0, "museums": 1.0}),
)
# A profile that gives every call used in the eligibility tests some text score.
BROAD = hand_written_department(
    "broad",
    en={
        "children": 1.0,
        "startups": 1.0,
        "plant health": 1.0,
        "broadband": 1.0,
        "energy efficiency": 1.0,
        "climate adaptation": 1.0,
        "mobility": 1.0,
        "biodiversity": 1.0,
        "doctoral networks": 1.0,
        "gender equality": 1.0,
    },
)
