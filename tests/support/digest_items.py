"""Hand-written digest items for rendering tests: a department, calls and their matches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.records import Call, CallChange, Department, DigestItem, DigestReason, Match
from notifier.render import DigestContext

NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)
CONTEXT = DigestContext(
    sender="Jönköpings kommun <eu-samordning@example.org>",
    coordinator_name="EU-samordnaren, Stadskontoret",
    coordinator_email="eu-samordning@example.org",
    rule_labels={"municipal-eligible": "Kommuner kan söka"},
)
DEPARTMENT = Department(
    id="social",
    name="Socialförvaltningen",
    description_sv="Socialtjänst",
    description_en="Social services",
    keywords_sv={"social inkludering": 1.0},
    keywords_en={"social inclusion": 1.0},
    negative_keywords=(),
    preferred_programmes=("ESF+",),
    min_score=0.1,
    lead_time_days=21,
    recipients=("social.eu@example.org", "chef@example.org"),
    digest_weekday="monday",
)
PORTAL = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities"


def make_call(name: str, *deadlines: datetime, **fields) -> Call:
    """A hand-written ESF+ call with these deadlines; ``fields`` override its defaults."""
    values = {
        "title": f"Call {name}",
        "url": f"{PORTAL}/topic-details/{name}",
        "programme": "European Social Fund Plus (ESF+)",
        "summary": "Support for social inclusion in municipalities.",
        "budget_eur": 2_500_000,
    }
    return Call(
        id=f"ft_portal/{name}",
        source_id="ft_portal",
        identifier=name,
        deadlines=list(deadlines),
        **values | fields,
    )


def make_item(call: Call, *reasons: str, score: float = 0.3, **match_fields) -> DigestItem:
    """A digest item of a call for DEPARTMENT, new unless other reasons are given."""
    values = {"terms": (("social inclusion", 0.6), ("municipalities", 0.4))}
    match = Match(call.id, DEPARTMENT.id, score, score, 0.0, **values | match_fields)
    return DigestItem(call, match, reasons or (DigestReason.NEW,))


SOON = datetime(2026, 9, 1, 15, tzinfo=UTC)  # 17.00 in Stockholm, 10 days after NOW
LATER = datetime(2026, 12, 1, 16, tzinfo=UTC)  # 17.00 in Stockholm (winter time)
CLOSING = make_call("ESF-2026-CLOSING", NOW - timedelta(days=3), SOON, LATER, title="Closing call")
FRESH = make_call("ESF-2026-NEW", LATER, title="Fresh call", budget_eur=850_000)
CHANGED = make_call("ESF-2026-CHANGED", LATER, title="Changed call")
ITEMS = (
    make_item(
        CLOSING, DigestReason.NEW, DigestReason.CLOSING_SOON, flags=("rule:municipal-eligible",)
    ),
    make_item(FRESH, DigestReason.NEW, score=0.2, focus_areas=("Social hållbarhet",)),
    DigestItem(
        CHANGED,
        make_item(CHANGED).match,
        (DigestReason.CHANGED,),
        (CallChange(CHANGED.id, "deadlines", "[]", "[]", NOW - timedelta(days=1)),),
    ),
)
