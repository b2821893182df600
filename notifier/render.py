"""Build a department's weekly digest e-mail (Swedish): subject, text, HTML and calendar. Pure."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from db.deadlines import named_day, upcoming_deadlines
from db.programmes import programme_code
from db.records import (
    LOCAL_TZ,
    SWEDISH_MONTHS,
    Department,
    DigestItem,
    MatchFlag,
    SourceHealth,
    flag_rule,
)
from db.text import without_bidi_controls
from notifier.calendar import build_calendar, safe_url
from notifier.facts import (
    action_type,
    clean_summary,
    consortium,
    euro_text,
    grant_text,
    swedish_terms,
    who_may_apply,
)
from notifier.facts import budget_text as full_budget_text
from notifier.sections import (
    STATUS,
    Group,
    change_texts,
    sections,
    strength,
    summary_line,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The header listing a digest's calls and why each is there (JSON).
ITEMS_HEADER = "X-Eufunds-Items"
# A focus area is named among the reasons when it lifted the score by at least this share.
FOCUS_CONTRIBUTION = 0.1
# The one-click feedback under each call (verdict as the web app records it, its words).
FEEDBACK_LINKS = (
    ("relevant", "Relevant"),
    ("not-relevant", "Inte relevant"),
    ("apply", "Vi vill söka"),
)
# A link for one recipient's verdict on one call: (call id, verdict) -> address.
FeedbackLink = Callable[[str, str], str]


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
    """What a digest needs besides its items: who sends it, whom to ask, and the words of
    the configuration it shows (rule labels, programme notes, Swedish terms)."""

    sender: str
    coordinator_name: str
    coordinator_email: str
    rule_labels: Mapping[str, str]
    organisation: str = ""
    # Rules whose label says who may apply (the rest are notes on the call).
    who_rules: frozenset[str] = frozenset()
    programmes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    programme_notes: Mapping[str, str] = field(default_factory=dict)
    # English profile term -> its Swedish pair ([terms] in matching.toml).
    swedish_of: Mapping[str, str] = field(default_factory=dict)
    focus_weight: float = 1.0
    # The sources crawled for this digest (the intro names them); none: said generally.
    sources: tuple[str, ...] = ()
    # Scores are a learnt model's calibrated probabilities (strength words by probability).
    calibrated: bool = False
    # The web app's address (links to a department's current matches); empty: none.
    web_url: str = ""


def iso_week(moment: datetime) -> str:
    """The ISO week of a moment in Swedish time, like '2026-W35'."""
    year, week, _ = moment.astimezone(LOCAL_TZ).isocalendar()
    return f"{year}-W{week:02d}"


def swedish_date(moment: datetime, with_time: bool = True) -> str:
    """'1 december 2027 kl. 17.00' in Swedish time; a deadline that names a day (date only,
    or 23:59 UTC) is just that day."""
    day = named_day(moment)
    if day is not None:
        return f"{day.day} {SWEDISH_MONTHS[day.month - 1]} {day.year}"
    local = moment.astimezone(LOCAL_TZ)
    text = f"{local.day} {SWEDISH_MONTHS[local.month - 1]} {local.year}"
    return f"{text} kl. {local:%H.%M}" if with_time else text


def local_date(moment: datetime) -> date:
    """The calendar day of a deadline: the day it names, else its day in Swedish time."""
    return named_day(moment) or moment.astimezone(LOCAL_TZ).date()


def days_left_text(days: int) -> str:
    """'i dag', 'i morgon', 'om 12 dagar'."""
    if days <= 0:
        return "i dag"
    if days == 1:
        return "i morgon"
    return f"om {days} dagar"


def budget_text(amount: int | None) -> str:
    """'28,5 miljoner euro' or '850 000 euro'; empty when unknown."""
    return euro_text(amount) if amount else ""


def _item_view(
    item: DigestItem,
    department: Department,
    now: datetime,
    context,
    feedback: FeedbackLink | None = None,
) -> dict:
    call, match = item.call, item.match
    deadlines = []
    for deadline in upcoming_deadlines(call.deadlines, now):
        days = (local_date(deadline) - now.astimezone(LOCAL_TZ).date()).days
        deadlines.append(
            {
                "text": swedish_date(deadline),
                "days_left": days,
                "days_left_text": days_left_text(days),
                "near": days <= department.lead_time_days,
            }
        )
    terms = swedish_terms([term for term, _ in match.terms[:5]], context.swedish_of)
    reasons = ", ".join(terms) or "profilens beskrivning"
    if match.focus_areas and context.focus_weight * match.focus_score >= FOCUS_CONTRIBUTION:
        reasons += f"; fokusområde: {match.focus_areas[0]}"
    rules = [rule for rule in map(flag_rule, match.flags) if rule is not None]
    who = who_may_apply(
        call, [context.rule_labels.get(r, r) for r in rules if r in context.who_rules]
    )
    notes = [context.rule_labels.get(r, r) for r in rules if r not in context.who_rules]
    if MatchFlag.OUT_OF_AREA in match.flags:
        notes.append("gäller enligt utlysningen andra regioner än vår")
    if MatchFlag.OWN_AREA in match.flags:
        notes.append("för vår region")
    opens = ""
    if call.status == "forthcoming" and call.opening_date and call.opening_date > now:
        opens = swedish_date(call.opening_date, with_time=False)
    code = programme_code(call.programme, context.programmes) if call.programme else ""
    return {
        "title": call.title,
        "url": safe_url(call.url),
        "programme": call.programme,
        "programme_note": context.programme_notes.get(code, ""),
        "status": STATUS.get(call.status, call.status),
        "opens": opens,
        "deadlines": deadlines,
        "action": action_type(call),
        "who": who,
        "consortium": consortium(call),
        "grant": grant_text(call),
        "budget": full_budget_text(call),
        "cofinancing": " ".join(call.cofinancing.split()),
        "strength": strength(match.score, department.min_score, context.calibrated),
        "reasons": reasons,
        "notes": notes,
        "changes": change_texts(item.changes, lambda moment: swedish_date(moment)),
        "summary": clean_summary(call.summary),
        "feedback": [
            {"label": label, "url": safe_url(feedback(call.id, verdict))}
            for verdict, label in FEEDBACK_LINKS
        ]
        if feedback
        else [],
    }


def _group_view(
    group: Group, department: Department, now: datetime, context, feedback: FeedbackLink | None
) -> dict:
    views = [_item_view(item, department, now, context, feedback) for item in group.items]
    return {"title": group.title, "calls": views}


def unsubscribe_link(context: DigestContext, department: Department) -> str:
    """A mailto link to the EU coordinator asking to change or stop this digest."""
    subject = quote(f"Ändra eller avsluta EU-utskicket till {department.name}")
    return f"mailto:{context.coordinator_email}?subject={subject}"


def sources_text(context: DigestContext) -> str:
    """'EU:s Funding & Tenders-portal och Tillväxtverket', or said generally."""
    names = list(context.sources)
    if not names:
        return "de källor vi bevakar"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} och {names[-1]}"


def digest_message_id(department_id: str, week: str, sender: str, recipient: str = "") -> str:
    """The Message-ID of a department's digest of a week (to one recipient, when each gets
    their own): the same every time it is built, so that mail systems can drop a second copy
    if a digest is ever sent again."""
    domain = sender.rsplit("@", 1)[-1].strip("> ")
    own = f".{hashlib.sha256(recipient.lower().encode()).hexdigest()[:12]}" if recipient else ""
    return f"<eufunds.digest.{department_id}.{week}{own}@{domain}>"


def build_digest(
    department: Department,
    items: Sequence[DigestItem],
    now: datetime,
    context: DigestContext,
    source_problems: Sequence[SourceHealth] = (),
    recipient: str = "",
    feedback: FeedbackLink | None = None,
) -> EmailMessage:
    """The digest e-mail: Swedish text and HTML parts and an .ics of every deadline in it;
    with ``source_problems`` (the EU coordinator's digest), a section on the sources that
    need a look. With a ``recipient`` the message is theirs alone (To and Message-ID), and
    ``feedback`` gives each call their links "Relevant", "Inte relevant", "Vi vill söka"."""
    week = iso_week(now)
    chosen = sections(items, now, department.min_score, context.calibrated)
    views = [
        {
            "heading": section.heading,
            "count": section.count,
            "left_out": section.left_out,
            "groups": [_group_view(g, department, now, context, feedback) for g in section.groups],
        }
        for section in chosen
    ]
    shown = [item for section in chosen for group in section.groups for item in group.items]
    values = {
        "department": department,
        "organisation": context.organisation,
        # What the digest shows (sections hold back what is past their cap).
        "items": shown,
        "sections": views,
        "summary": (
            summary_line(shown, now, department.min_score, context.calibrated) if shown else ""
        ),
        "sources": sources_text(context),
        "week_number": int(week.split("W")[1]),
        "today": swedish_date(now, with_time=False),
        "coordinator_name": context.coordinator_name,
        "coordinator_email": context.coordinator_email,
        "unsubscribe": unsubscribe_link(context, department),
        "all_matches": (
            safe_url(f"{context.web_url}/avdelningar/{quote(department.id)}")
            if context.web_url
            else ""
        ),
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
    message["To"] = recipient or ", ".join(department.recipients)
    message["Date"] = format_datetime(now.astimezone(LOCAL_TZ))
    message["Message-ID"] = digest_message_id(department.id, week, context.sender, recipient)
    # Machine-made mail: no out-of-office answers (RFC 3834; Exchange's own header), and a
    # way to stop it that does not land on the coordinator as a reply.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["List-Unsubscribe"] = f"<{values['unsubscribe']}>"
    # What the digest shows, so that a run that stopped after writing it records exactly that.
    message[ITEMS_HEADER] = json.dumps([[i.call.id, list(i.reasons)] for i in shown])
    message.set_content(_environment.get_template("digest/body.txt").render(values))
    message.add_alternative(
        _environment.get_template("digest/body.html").render(values), subtype="html"
    )
    if items:
        message.add_attachment(
            build_calendar(shown, department, now),
            maintype="text",
            subtype="calendar",
            filename=f"sista-ansokningsdagar-{week}.ics",
            params={"charset": "utf-8", "method": "PUBLISH"},
        )
    # After the parts: setting content clears the message's Content-* headers.
    message["Content-Language"] = "sv"
    return message
