"""An iCalendar file with one event per deadline of a digest's calls. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Event

from db.records import Department, DigestItem, is_date_only, upcoming_deadlines
from db.text import without_bidi_controls

EVENT_LENGTH = timedelta(minutes=30)


def safe_url(url: str) -> str:
    """The URL when it is http(s), else empty: scraped links are not trusted."""
    url = without_bidi_controls(url.strip())
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def build_calendar(items: Sequence[DigestItem], department: Department, now: datetime) -> bytes:
    """One VEVENT per upcoming deadline, ending at the deadline, with the call's link.

    A deadline given as a date only is an all-day event on that date.
    """
    calendar = Calendar()
    calendar.add("prodid", "-//eufunds//Jönköpings kommun//SV")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"EU-utlysningar {without_bidi_controls(department.name)}")
    for item in items:
        call = item.call
        for deadline in upcoming_deadlines(call.deadlines, now):
            event = Event()
            event.add("uid", f"{without_bidi_controls(call.id)}/{deadline:%Y%m%dT%H%M%SZ}@eufunds")
            event.add("summary", f"Sista ansökningsdag: {without_bidi_controls(call.title)}")
            if is_date_only(deadline):
                day = deadline.astimezone(UTC).date()
                event.add("dtstart", day)
                event.add("dtend", day + timedelta(days=1))
            else:
                event.add("dtstart", deadline - EVENT_LENGTH)
                event.add("dtend", deadline)
            event.add("dtstamp", now)
            url = safe_url(call.url)
            if url:
                event.add("url", url)
            programme = without_bidi_controls(call.programme)
            event.add("description", f"{programme}\n{url}".strip())
            calendar.add_component(event)
    return calendar.to_ical()
