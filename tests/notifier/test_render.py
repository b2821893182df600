"""Building the digest e-mail: Swedish text and HTML, the .ics, ISO weeks in Swedish time.

Calls and matches are hand-written; `now` is passed in, so weeks, daylight-saving changes and
"days left" are judged against a frozen moment.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from notifier.render import (
    budget_text,
    build_digest,
    days_left_text,
    iso_week,
    safe_url,
    strength,
    swedish_date,
)
from tests.support.digest_items import (
    CHANGED,
    CLOSING,
    CONTEXT,
    DEPARTMENT,
    FRESH,
    ITEMS,
    LATER,
    NOW,
    PORTAL,
    SOON,
    make_call,
    make_item,
)
from tests.support.mail import DIGEST_PARTS, Tags, text_and_html

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _calendar(message: EmailMessage) -> Calendar:
    """The attached calendar, read as UTF-8 (the default of RFC 5545)."""
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_payload(decode=True))


@pytest.fixture(scope="module")
def digest() -> EmailMessage:
    """The digest of the three hand-written items, as of NOW."""
    return build_digest(DEPARTMENT, ITEMS, NOW, CONTEXT)


# ISO weeks, dates and words ------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "week"),
    [
        # Autumn: clocks go back at 03.00 on Sunday 25 October 2026.
        (datetime(2026, 10, 25, 1, 30), "2026-W43"),
        (datetime(2026, 10, 25, 23, 30), "2026-W43"),
        (datetime(2026, 10, 26, 0, 30), "2026-W44"),
        # Spring: clocks go forward at 02.00 on Sunday 29 March 2026.
        (datetime(2026, 3, 29, 23, 30), "2026-W13"),
        (datetime(2026, 3, 30, 0, 30), "2026-W14"),
        # 2026 starts on a Thursday, so it has a week 53 that runs into 2027.
        (datetime(2026, 12, 31, 12, 0), "2026-W53"),
        (datetime(2027, 1, 1, 12, 0), "2026-W53"),
        (datetime(2027, 1, 3, 23, 59), "2026-W53"),
        (datetime(2027, 1, 4, 0, 0), "2027-W01"),
    ],
)
def test_iso_week_in_swedish_time(local, week):
    """Weeks turn at midnight Monday in Stockholm, across daylight-saving and year changes."""
    assert iso_week(local.replace(tzinfo=STOCKHOLM)) == week


def test_week_53_of_2026_exists():
    """The calendar agrees: 31 December 2026 is in ISO week 53 of 2026."""
    assert datetime(2026, 12, 31).isocalendar()[:2] == (2026, 53)


@pytest.mark.parametrize(
    ("utc", "week"),
    [
        (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), "2026-W44"),
        (datetime(2026, 10, 25, 22, 30, tzinfo=UTC), "2026-W43"),
        (datetime(2026, 3, 29, 22, 30, tzinfo=UTC), "2026-W14"),
        (datetime(2027, 1, 3, 23, 30, tzinfo=UTC), "2027-W01"),
    ],
)
def test_iso_week_is_not_utc(utc, week):
    """Sunday 23.30 UTC is already Monday in Stockholm, so it is the next week."""
    assert utc.isocalendar()[2] == 7
    assert iso_week(utc) == week


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2027, 12, 1, 16, tzinfo=UTC), "1 december 2027 kl. 17.00"),
        (datetime(2026, 9, 1, 15, tzinfo=UTC), "1 september 2026 kl. 17.00"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "25 oktober 2026 kl. 02.30"),
        (datetime(2026, 5, 31, 22, 5, tzinfo=UTC), "1 juni 2026 kl. 00.05"),
    ],
)
def test_swedish_date(moment, text):
    """Dates are written the Swedish way in Swedish time, summer and winter."""
    assert swedish_date(moment) == text


def test_swedish_date_without_time():
    """Without the time only day, month and year are written."""
    assert swedish_date(datetime(2026, 1, 1, tzinfo=UTC), with_time=False) == "1 januari 2026"


@pytest.mark.parametrize(
    ("days", "text"), [(-1, "i dag"), (0, "i dag"), (1, "i morgon"), (12, "om 12 dagar")]
)
def test_days_left_text(days, text):
    """Days left in words."""
    assert days_left_text(days) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (None, ""),
        (0, ""),
        (850_000, "850 000 euro"),
        (1_000_000, "1 miljoner euro"),
        (4_000_000, "4 miljoner euro"),
        (28_500_000, "28,5 miljoner euro"),
    ],
)
def test_budget_text(amount, text):
    """Budgets in Swedish number style; unknown budgets are left out."""
    assert budget_text(amount) == text


@pytest.mark.parametrize(
    ("score", "word"),
    [(0.25, "stark"), (0.249, "god"), (0.151, "god"), (0.149, "möjlig"), (0.1, "möjlig")],
)
def test_strength_relative_to_the_minimum(score, word):
    """Stark from 2.5 times the department's minimum score, god from 1.5 times."""
    assert strength(score, 0.1) == word


def test_strength_with_zero_minimum():
    """A minimum of zero does not divide by zero."""
    assert strength(0.0, 0.0) == "möjlig"
    assert strength(0.5, 0.0) == "stark"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        (f"{PORTAL}/topic-details/X", True),
        ("  http://example.org/call  ", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:msgbox(1)", False),
        ("//evil.example/x", False),
        ("https:///no-host", False),
        ("/relative/path", False),
        ("", False),
    ],
)
def test_safe_url_keeps_only_http_links(url, kept):
    """Only http(s) URLs with a host are kept; anything else becomes empty."""
    assert safe_url(url) == (url.strip() if kept else "")


# The digest ----------------------------------------------------------------------------


def test_subject_names_department_count_and_week(digest):
    """The subject is Swedish and names the department, the number of calls and the week."""
    assert digest["Subject"] == "EU-finansiering för Socialförvaltningen: 3 utlysningar vecka 34"


def test_subject_singular():
    """One call is 'utlysning', not 'utlysningar'."""
    message = build_digest(DEPARTMENT, ITEMS[1:2], NOW, CONTEXT)
    assert message["Subject"].endswith(": 1 utlysning vecka 34")


def test_headers(digest):
    """To every recipient, from the sender, dated now, with a Message-ID naming the week."""
    assert digest["To"] == "social.eu@example.org, chef@example.org"
    assert digest["From"] == CONTEXT.sender
    assert digest["Date"].datetime == NOW
    message_id = digest["Message-ID"]
    assert message_id.startswith("<") and message_id.endswith("@example.org>")
    assert ".digest.social.2026-W34@" in message_id


def test_content_language_is_swedish(digest):
    """The message says it is in Swedish."""
    assert digest["Content-Language"] == "sv"


def test_message_id_is_stable_for_a_department_and_week():
    """Every build of a department's digest of a week has the same Message-ID (a resend can
    be recognised as a copy); another week or department has another."""
    first = build_digest(DEPARTMENT, ITEMS, NOW, CONTEXT)
    again = build_digest(DEPARTMENT, ITEMS[:1], NOW + timedelta(days=1), CONTEXT)
    next_week = build_digest(DEPARTMENT, ITEMS, NOW + timedelta(days=7), CONTEXT)
    other = build_digest(replace(DEPARTMENT, id="miljo"), ITEMS, NOW, CONTEXT)
    assert (
        first["Message-ID"] == again["Message-ID"] == "<eufunds.digest.social.2026-W34@example.org>"
    )
    assert next_week["Message-ID"] == "<eufunds.digest.social.2026-W35@example.org>"
    assert other["Message-ID"] == "<eufunds.digest.miljo.2026-W34@example.org>"


def test_parts(digest):
    """Text and HTML alternatives, and the deadlines as an .ics attachment."""
    assert digest.get_content_type() == "multipart/mixed"
    types = [part.get_content_type() for part in digest.walk()]
    assert types == DIGEST_PARTS
    [attachment] = list(digest.iter_attachments())
    assert attachment.get_filename() == "sista-ansokningsdagar-2026-W34.ics"


def test_sections_in_order_each_call_once(digest):
    """Nya, then Ändrade; a new call closing soon is under Nya (its deadline in red), once."""
    text, html = text_and_html(digest)
    for body in (text, html):
        positions = [
            body.index(heading) for heading in ("Nya utlysningar (2)", "Ändrade utlysningar (1)")
        ]
        assert positions == sorted(positions)
        assert body.count("Closing call") == 1
        assert "Closing call" in body[positions[0] : positions[1]]
        assert "Stänger snart" not in body.split("I korthet")[-1].split("Hej")[-1]


def test_text_part_in_swedish(digest):
    """The text part opens with the summary, greets the department and lists deadline,
    strength, reasons and what changed."""
    text, _ = text_and_html(digest)
    assert text.startswith("3 utlysningar, 2 starka matchningar, 1 stänger inom två veckor.\n")
    expected = [
        "Hej Socialförvaltningen!",
        "(vecka 34, 22 augusti 2026)",
        "Sista ansökningsdag: 1 september 2026 kl. 17.00 (om 10 dagar)",
        "Sista ansökningsdag: 1 december 2026 kl. 17.00 (om 101 dagar)",
        "Matchning: stark",
        "Matchning: god",
        "Varför: social inclusion, municipalities",
        "Budget: 2,5 miljoner euro totalt",
        "Budget: 850 000 euro totalt",
        "Status: öppen för ansökan",
        "Obs: Kommuner kan söka",
        "Ändrat: ny sista ansökningsdag",
    ]
    assert [line for line in expected if line not in text] == []


def test_passed_deadline_is_not_listed(digest):
    """A deadline before now is neither in the text nor in the calendar."""
    text, _ = text_and_html(digest)
    assert "19 augusti 2026" not in text
    ends = [event.decoded("dtend") for event in _calendar(digest).walk("VEVENT")]
    assert min(ends) >= NOW


def test_html_links_eachmake_call(digest):
    """Every call's title links to its page; the footer links the coordinator's address."""
    _, html = text_and_html(digest)
    hrefs = Tags(html).hrefs()
    for call in (CLOSING, FRESH, CHANGED):
        assert call.url in hrefs
    assert "mailto:eu-samordning@example.org" in hrefs


def test_footer_names_the_coordinator(digest):
    """Both parts end with whom to contact about the digest."""
    text, html = text_and_html(digest)
    assert "Kontakta EU-samordnaren, Stadskontoret, eu-samordning@example.org." in text
    assert "Kontakta EU-samordnaren, Stadskontoret," in html


def test_long_summary_is_cut_at_a_word(digest):
    """A summary longer than 400 characters is cut at a word boundary and marked with '…'."""
    words = " ".join(f"word{n:03d}" for n in range(100))
    call = make_call("ESF-LONG", LATER, summary=words)
    _, html = text_and_html(build_digest(DEPARTMENT, [make_item(call)], NOW, CONTEXT))
    shown = html.split("word000", 1)[1].split("</p>", 1)[0]
    assert shown.endswith(" …")
    assert len("word000" + shown) <= 402
    assert "word099" not in html


def test_calendar_has_one_event_per_upcoming_deadline(digest):
    """One VEVENT per deadline still ahead, ending at the deadline, with the call's link."""
    events = list(_calendar(digest).walk("VEVENT"))
    expected = {(CLOSING.id, SOON), (CLOSING.id, LATER), (FRESH.id, LATER), (CHANGED.id, LATER)}
    found = {(_uid_call(e), e.decoded("dtend")) for e in events}
    assert len(events) == 4
    assert found == expected
    for event in events:
        assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=30)
        assert str(event["summary"]).startswith("Sista ansökningsdag: ")
        assert str(event["url"]).startswith(f"{PORTAL}/topic-details/")


def test_calendar_names_the_department(digest):
    """The calendar is named after the department."""
    assert str(_calendar(digest)["x-wr-calname"]) == "EU-utlysningar Socialförvaltningen"


def test_calendar_part_reads_back_with_swedish_letters(digest):
    """The calendar part declares UTF-8, so its Swedish text reads back intact."""
    [attachment] = list(digest.iter_attachments())
    assert "Sista ansökningsdag" in attachment.get_content()


def test_empty_digest_says_nothing_new():
    """Without items: 'Inget nytt' in subject and both parts, and no calendar."""
    message = build_digest(DEPARTMENT, [], NOW, CONTEXT)
    text, html = text_and_html(message)
    assert message["Subject"] == "EU-finansiering för Socialförvaltningen: inget nytt vecka 34"
    assert "Inget nytt den här veckan" in text
    assert "Inget nytt den här veckan" in html
    assert list(message.iter_attachments()) == []
    assert "kalenderfil" not in text
    assert "kalenderfil" not in html


def test_digest_with_items_points_to_its_calendar_file(digest):
    """With items, both parts say the deadlines are also in the attached calendar file."""
    text, html = text_and_html(digest)
    assert "bifogade kalenderfilen" in text
    assert "bifogade kalenderfilen" in html


def test_date_only_deadline_is_shown_as_its_date():
    """A deadline at midnight UTC (the portal gave a date) reads as that date, no time."""
    assert swedish_date(datetime(2027, 12, 1, tzinfo=UTC)) == "1 december 2027"
    assert swedish_date(datetime(2027, 12, 1, 16, tzinfo=UTC)) == "1 december 2027 kl. 17.00"


def test_end_of_day_in_utc_is_that_day():
    """A cascade call's deadline at 23:59 UTC (01.59 the next day in Swedish summer time)
    reads as its own day, and is an all-day event on that day in the calendar."""
    end_of_day = datetime(2026, 8, 31, 23, 59, tzinfo=UTC)
    assert swedish_date(end_of_day) == "31 augusti 2026"
    message = build_digest(DEPARTMENT, [make_item(make_call("CASCADE", end_of_day))], NOW, CONTEXT)
    [event] = _calendar(message).walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 8, 31).date()
    assert event.decoded("dtend") == datetime(2026, 9, 1).date()
    assert "Sista ansökningsdag: 31 augusti 2026 (om 9 dagar)" in text_and_html(message)[0]


def test_calendar_events_are_free_time_with_a_reminder(digest):
    """The calendar is published (METHOD:PUBLISH); each event is free time (TRANSP), keeps
    its UID across digests, and reminds the lead time before the deadline."""
    calendar = _calendar(digest)
    assert calendar["method"] == "PUBLISH"
    for event in calendar.walk("VEVENT"):
        assert event["transp"] == "TRANSPARENT"
        assert str(event["uid"]).startswith("deadline-")
        [alarm] = event.walk("VALARM")
        assert alarm["action"] == "DISPLAY"
        assert alarm.decoded("trigger") == -timedelta(days=DEPARTMENT.lead_time_days)
    again = _calendar(build_digest(DEPARTMENT, ITEMS, NOW + timedelta(days=7), CONTEXT))
    assert {str(e["uid"]) for e in again.walk("VEVENT")} <= {
        str(e["uid"]) for e in calendar.walk("VEVENT")
    }


def test_sequence_grows_with_the_calls_last_change():
    """An event's SEQUENCE comes from the call's last change: a later change, a higher one."""
    first = make_call("MOVED", LATER, last_changed=NOW - timedelta(days=10))
    moved = replace(first, deadlines=[LATER + timedelta(days=7)], last_changed=NOW)
    sequences = [
        int(event["sequence"])
        for call in (first, moved)
        for event in _calendar(build_digest(DEPARTMENT, [make_item(call)], NOW, CONTEXT)).walk(
            "VEVENT"
        )
    ]
    assert sequences[0] < sequences[1]


@pytest.mark.parametrize(
    ("flag", "note"),
    [
        ("out-of-area", "Obs: gäller enligt utlysningen andra regioner än vår"),
        ("own-area", "Obs: för vår region"),
    ],
)
def test_where_a_call_is_for_is_noted(flag, note):
    """A call flagged as for other regions, or for our own, says so in both parts."""
    message = build_digest(DEPARTMENT, [make_item(FRESH, flags=(flag,))], NOW, CONTEXT)
    text, html = text_and_html(message)
    assert note in text
    assert note in html


def _uid_call(event) -> str:
    """The call id in a deadline event's UID ('deadline-N/<call id>@eufunds')."""
    return str(event["uid"]).removesuffix("@eufunds").split("/", 1)[1]


def test_item_answers_can_we_how_much_by_when():
    """Hand-written call with every fact a source can give: who may apply (a who-may-apply
    rule), co-financing, grant range, opening date of a forthcoming call, the programme's
    Swedish line, terms in Swedish; a focus area too weak to have lifted the score is not
    named."""
    context = replace(
        CONTEXT,
        who_rules=frozenset({"municipal-eligible"}),
        programmes=(("ESF", ("European Social Fund Plus (ESF+)",)),),
        programme_notes={"ESF": "Europeiska socialfonden+."},
        swedish_of={"social inclusion": "social inkludering"},
    )
    call = make_call(
        "ESF-FORTHCOMING",
        LATER,
        status="forthcoming",
        opening_date=NOW + timedelta(days=20),
        cofinancing="80 %",
        grant_min_eur=100_000,
        grant_max_eur=400_000,
        expected_grants=5,
        type_of_action="ESF Project Grants",
    )
    made = make_item(call, flags=("rule:municipal-eligible",), focus_areas=("Social hållbarhet",))
    item = replace(made, match=replace(made.match, focus_score=0.05))
    text, html = text_and_html(build_digest(DEPARTMENT, [item], NOW, context))
    expected = [
        "== Öppnar snart (1) ==",
        "Öppnar: 11 september 2026",
        "Om programmet: Europeiska socialfonden+.",
        "Typ: projektbidrag",
        "Vem kan söka: Kommuner kan söka",
        "Bidrag: 100 000 euro till 400 000 euro per projekt (5 projekt väntas få bidrag)",
        "Budget: 2,5 miljoner euro totalt",
        "Medfinansiering: 80 %",
        "Varför: social inkludering, municipalities",
    ]
    assert [line for line in expected if line not in text] == []
    assert "fokusområde" not in text and "Obs: Kommuner" not in text
    strong_focus = replace(item, match=replace(item.match, focus_score=0.2))
    text, _ = text_and_html(build_digest(DEPARTMENT, [strong_focus], NOW, context))
    assert "; fokusområde: Social hållbarhet" in text


def test_strength_of_a_calibrated_score_is_its_probability():
    """With a learnt model the score is a probability: 0.7 and up is strong, 0.45 good,
    whatever the department's cut-off; without one, multiples of the cut-off."""
    assert [strength(p, 0.3, calibrated=True) for p in (0.75, 0.5, 0.35)] == [
        "stark",
        "god",
        "möjlig",
    ]
    assert strength(0.75, 0.1, calibrated=False) == "stark"
    assert strength(0.2, 0.1, calibrated=True) == "möjlig"
    calibrated = replace(CONTEXT, calibrated=True)
    text, _ = text_and_html(build_digest(DEPARTMENT, ITEMS, NOW, calibrated))
    assert "Matchning: stark" not in text and text.count("Matchning: möjlig") == 3


def test_digest_links_to_all_current_matches_when_the_web_app_has_an_address():
    """With the web app's address, a section past its cap and the footer link to the
    department's current matches there; without one, the coordinator is named instead."""
    many = [
        make_item(make_call(f"ESF-MANY-{n}", LATER, title=f"Call number {n}"), score=0.2 + n / 100)
        for n in range(12)
    ]
    with_app = replace(CONTEXT, web_url="https://eufunds.example.org")
    text, html = text_and_html(build_digest(DEPARTMENT, many, NOW, with_app))
    link = "https://eufunds.example.org/avdelningar/social"
    assert f'<a href="{link}">Se alla aktuella matchningar</a>' in html
    assert f"Alla aktuella matchningar: {link}" in text
    text, _ = text_and_html(build_digest(DEPARTMENT, many, NOW, CONTEXT))
    assert "avdelningar/social" not in text and "för hela listan" in text
