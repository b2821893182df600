"""Build a department's weekly digest e-mail (Swedish): subject, text, HTML and calendar. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from db.records import (
    LOCAL_TZ,
    SWEDISH_MONTHS,
    Department,
    DigestItem,
    DigestReason,
    MatchFlag,
    SourceHealth,
    flag_rule,
    is_date_only,
    upcoming_deadlines,
)
from db.text import without_bidi_controls
from notifier.calendar import build_calendar, safe_url

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATUS = {"open": "öppen för ansökan", "forthcoming": "kommande", "closed": "stängd"}
FIELDS = {
    "deadlines": "sista ansökningsdag",
    "status": "status",
    "title": "titel",
    "opening_date": "öppningsdatum",
    "budget_eur": "budget",
}
SECTIONS = (
    (DigestReason.CLOSING_SOON, "Stänger snart"),
    (DigestReason.NEW, "Nya utlysningar"),
    (DigestReason.CHANGED, "Ändrade utlysningar"),
)
SUMMARY_CHARACTERS = 400


def _untrusted(value: object) -> object:
    """Every text a template shows (much of it from the sources) without bidi controls."""
    return without_bidi_controls(value) if isinstance(value, str) else value


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    finalize=_untrusted,
)


@dataclass(frozen=True)
class DigestContext:
    """What a digest needs besides its items: who sends it and whom to ask."""

    sender: str
    coordinator_name: str
    coordinator_email: str
    rule_labels: Mapping[str, str]


def iso_week(moment: datetime) -> str:
    """The ISO week of a moment in Swedish time, like '2026-W35'."""
    year, week, _ = moment.astimezone(LOCAL_TZ).isocalendar()
    return f"{year}-W{week:02d}"


def swedish_date(moment: datetime, with_time: bool = True) -> str:
    """'1 december 2027 kl. 17.00' in Swedish time; a date-only deadline is just its date."""
    if is_date_only(moment):
        day = moment.astimezone(UTC).date()
        return f"{day.day} {SWEDISH_MONTHS[day.month - 1]} {day.year}"
    local = moment.astimezone(LOCAL_TZ)
    text = f"{local.day} {SWEDISH_MONTHS[local.month - 1]} {local.year}"
    return f"{text} kl. {local:%H.%M}" if with_time else text


def local_date(moment: datetime) -> date:
    """The calendar day of a deadline: its own date when date-only, else in Swedish time."""
    if is_date_only(moment):
        return moment.astimezone(UTC).date()
    return moment.astimezone(LOCAL_TZ).date()


def days_left_text(days: int) -> str:
    """'i dag', 'i morgon', 'om 12 dagar'."""
    if days <= 0:
        return "i dag"
    if days == 1:
        return "i morgon"
    return f"om {days} dagar"


def budget_text(amount: int | None) -> str:
    """'28,5 miljoner euro' or '850 000 euro'; empty when unknown."""
    if not amount:
        return ""
    if amount >= 1_000_000:
        millions = f"{amount / 1_000_000:.1f}".replace(".", ",").removesuffix(",0")
        return f"{millions} miljoner euro"
    return f"{amount:,} euro".replace(",", " ")


def strength(score: float, min_score: float) -> str:
    """The match strength in words: stark, god or möjlig."""
    ratio = round(score / max(min_score, 1e-9), 9)
    if ratio >= 2.5:
        return "stark"
    if ratio >= 1.5:
        return "god"
    return "möjlig"


def _item_view(item: DigestItem, department: Department, now: datetime, context) -> dict:
    call, match = item.call, item.match
    deadlines = []
    for deadline in upcoming_deadlines(call.deadlines, now):
        days = (local_date(deadline) - now.astimezone(LOCAL_TZ).date()).days
        deadlines.append(
            {
                "text": swedish_date(deadline),
                "days_left": days,
                "days_left_text": days_left_text(days),
            }
        )
    reasons = ", ".join(term for term, _ in match.terms[:5]) or "profilens beskrivning"
    if match.focus_areas:
        reasons += f"; fokusområde: {match.focus_areas[0]}"
    rules = [rule for rule in map(flag_rule, match.flags) if rule is not None]
    notes = [context.rule_labels.get(rule, rule) for rule in rules]
    if MatchFlag.OUT_OF_AREA in match.flags:
        notes.append("gäller enligt utlysningen andra regioner än vår")
    if MatchFlag.OWN_AREA in match.flags:
        notes.append("för vår region")
    summary = " ".join(call.summary.split())
    if len(summary) > SUMMARY_CHARACTERS:
        summary = summary[:SUMMARY_CHARACTERS].rsplit(" ", 1)[0] + " …"
    return {
        "title": call.title,
        "url": safe_url(call.url),
        "programme": call.programme,
        "status": STATUS.get(call.status, call.status),
        "deadlines": deadlines,
        "budget": budget_text(call.budget_eur),
        "strength": strength(match.score, department.min_score),
        "reasons": reasons,
        "notes": notes,
        "changes": [FIELDS.get(change.field, change.field) for change in item.changes],
        "summary": summary,
    }


def digest_message_id(department_id: str, week: str, sender: str) -> str:
    """The Message-ID of a department's digest of a week: the same every time it is built, so
    that mail systems can drop a second copy if a digest is ever sent again."""
    domain = sender.rsplit("@", 1)[-1].strip("> ")
    return f"<eufunds.digest.{department_id}.{week}@{domain}>"


def build_digest(
    department: Department,
    items: Sequence[DigestItem],
    now: datetime,
    context: DigestContext,
    source_problems: Sequence[SourceHealth] = (),
) -> EmailMessage:
    """The digest e-mail: Swedish text and HTML parts and an .ics of every deadline in it;
    with ``source_problems`` (the EU coordinator's digest), a section on the sources that
    need a look."""
    week = iso_week(now)
    sections = []
    placed: set[str] = set()
    for reason, heading in SECTIONS:
        chosen = [i for i in items if reason in i.reasons and i.call.id not in placed]
        placed.update(i.call.id for i in chosen)
        if chosen:
            views = [_item_view(i, department, now, context) for i in chosen]
            sections.append({"heading": heading, "calls": views})
    values = {
        "department": department,
        "items": items,
        "sections": sections,
        "week_number": int(week.split("W")[1]),
        "today": swedish_date(now, with_time=False),
        "coordinator_name": context.coordinator_name,
        "coordinator_email": context.coordinator_email,
        "source_problems": [
            {
                "name": health.name,
                "problem": health.problem,
                "last_success": swedish_date(health.last_success) if health.last_success else "",
                "last_error": health.last_error[:200],
            }
            for health in source_problems
        ],
    }
    subject = " ".join(_environment.get_template("digest/subject.txt").render(values).split())
    values["subject"] = subject
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = context.sender
    message["To"] = ", ".join(department.recipients)
    message["Date"] = format_datetime(now.astimezone(LOCAL_TZ))
    message["Message-ID"] = digest_message_id(department.id, week, context.sender)
    message.set_content(_environment.get_template("digest/body.txt").render(values))
    message.add_alternative(
        _environment.get_template("digest/body.html").render(values), subtype="html"
    )
    if items:
        message.add_attachment(
            build_calendar(items, department, now),
            maintype="text",
            subtype="calendar",
            filename=f"sista-ansokningsdagar-{week}.ics",
            params={"charset": "utf-8"},
        )
    # After the parts: setting content clears the message's Content-* headers.
    message["Content-Language"] = "sv"
    return message
