"""An iCalendar file with one event per deadline of a digest's calls. Pure.

Each event keeps its UID from digest to digest (the call and which of its deadlines), and its
SEQUENCE grows with the call's last change, so a moved deadline updates the event a calendar
already holds instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Alarm, Calendar, Event

from db.deadlines import named_day, upcoming_deadlines
from db.records import Department, DigestItem
from db.text import without_bidi_controls

EVENT_LENGTH = timedelta(minutes=30)
# SEQUENCE counts minutes from here to the call's last change (a 32-bit integer until 6053).
SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def safe_url(url: str) -> str:
    """The URL when it is http(s), else empty: scraped links are not trusted."""
    url = without_bidi_controls(url.strip())
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def event_uid(call_id: str, position: int) -> str:
    """The UID of a call's deadline event: which of its deadlines it is, and the call."""
    return f"deadline-{position}/{without_bidi_controls(call_id)}@eufunds"


def build_calendar(items: Sequence[DigestItem], department: Department, now: datetime) -> bytes:
    """One VEVENT per upcoming deadline, ending at the deadline, with the call's link, shown
    as free time, with a reminder the department's lead time before.

    A deadline that names a day (date only, or 23:59 UTC) is an all-day event on that day.
    """
    calendar = Calendar()
    calendar.add("prodid", "-//eufunds//Jönköpings kommun//SV")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"EU-utlysningar {without_bidi_controls(department.name)}")
    for item in items:
        call = item.call
        changed = call.last_changed or call.first_seen or SEQUENCE_EPOCH
        sequence = max(0, int((changed - SEQUENCE_EPOCH).total_seconds() // 60))
        upcoming = set(upcoming_deadlines(call.deadlines, now))
        for position, deadline in enumerate(call.deadlines):
            if deadline not in upcoming:
                continue
            event = Event()
            event.add("uid", event_uid(call.id, position))
            event.add("sequence", sequence)
            event.add("summary", f"Sista ansökningsdag: {without_bidi_controls(call.title)}")
            day = named_day(deadline)
            if day is not None:
                event.add("dtstart", day)
                event.add("dtend", day + timedelta(days=1))
            else:
                event.add("dtstart", deadline - EVENT_LENGTH)
                event.add("dtend", deadline)
            event.add("dtstamp", now)
            event.add("transp", "TRANSPARENT")
            url = safe_url(call.url)
            if url:
                event.add("url", url)
            programme = without_bidi_controls(call.programme)
            event.add("description", f"{programme}\n{url}".strip())
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"Om {department.lead_time_days} dagar: sista ansökningsdag")
            alarm.add("trigger", timedelta(days=-department.lead_time_days))
            event.add_component(alarm)
            calendar.add_component(event)
    return calendar.to_ical()
