"""An iCalendar file with one event per deadline of a digest's calls. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from db.records import Department, DigestItem

EVENT_LENGTH = timedelta(minutes=30)


def build_calendar(items: Sequence[DigestItem], department: Department, now: datetime) -> bytes:
    """One VEVENT per upcoming deadline, ending at the deadline, with the call's link."""
    calendar = Calendar()
    calendar.add("prodid", "-//eufunds//Jönköpings kommun//SV")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"EU-utlysningar {department.name}")
    for item in items:
        call = item.call
        for deadline in call.deadlines:
            if deadline < now:
                continue
            event = Event()
            event.add("uid", f"{call.id}/{deadline:%Y%m%dT%H%M%SZ}@eufunds")
            event.add("summary", f"Sista ansökningsdag: {call.title}")
            event.add("dtstart", deadline - EVENT_LENGTH)
            event.add("dtend", deadline)
            event.add("dtstamp", now)
            if call.url:
                event.add("url", call.url)
            event.add("description", f"{call.programme}\n{call.url}".strip())
            calendar.add_component(event)
    return calendar.to_ical()
