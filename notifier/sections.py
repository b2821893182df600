"""How a digest is ordered: its sections, sibling topics grouped under their call, a cap per
section, the summary at the top, and what changed, said in Swedish. Pure."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from db.deadlines import next_deadline
from db.records import CallChange, DigestItem, DigestReason

# At most this many calls per section; the rest are counted.
SECTION_CAP = 10
# A call closing within this many days counts as closing soon in the summary.
SUMMARY_DAYS = 14
# Without a learnt model: a match at least this many times its department's cut-off is a
# strong one, or a good one.
STRONG = 2.5
GOOD = 1.5
# With one, scores are calibrated probabilities (cross-validated on the dev labels, about 9 in
# 10 pairs at 0.7 or more were relevant, and 6 in 10 from 0.5 to 0.7).
STRONG_PROBABILITY = 0.7
GOOD_PROBABILITY = 0.45

CLOSING = "Stänger snart"
NEW = "Nya utlysningar"
OPENING = "Öppnar snart"
CHANGED = "Ändrade utlysningar"
STATUS = {"open": "öppen för ansökan", "forthcoming": "kommande", "closed": "stängd"}


@dataclass(frozen=True)
class Group:
    """Calls of one section shown together: sibling topics of one call (``title`` is the
    call's title), or a call alone (no title)."""

    title: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True)
class Section:
    """A heading, its groups, and how many calls were left out by the cap."""

    heading: str
    groups: tuple[Group, ...]
    left_out: int

    @property
    def count(self) -> int:
        """How many calls the section holds, left-out ones included."""
        return sum(len(group.items) for group in self.groups) + self.left_out


def strength(score: float, cut_off: float, calibrated: bool = False) -> str:
    """The match strength in words: stark, god or möjlig; by the probability a calibrated
    score is, else by multiples of the cut-off."""
    if calibrated:
        return (
            "stark"
            if score >= STRONG_PROBABILITY
            else "god"
            if score >= GOOD_PROBABILITY
            else "möjlig"
        )
    ratio = round(score / max(cut_off, 1e-9), 9)
    if ratio >= STRONG:
        return "stark"
    if ratio >= GOOD:
        return "god"
    return "möjlig"


def sections(
    items: Sequence[DigestItem], now: datetime, cut_off: float, calibrated: bool = False
) -> list[Section]:
    """The digest's sections, each call in one of them (the first that takes it):

    - Stänger snart: calls sent in an earlier week whose deadline is now near, soonest first;
    - Nya utlysningar: new open calls, strongest first, then by deadline;
    - Öppnar snart: new forthcoming calls (plan now), by opening date;
    - Ändrade utlysningar: calls sent before whose deadline, status, title or budget changed.
    """
    far = now + timedelta(days=36500)

    def deadline(item: DigestItem) -> datetime:
        return next_deadline(item.call.deadlines, now) or far

    def by_strength(item: DigestItem) -> tuple:
        band = _band(item.match.score, cut_off, calibrated)
        return (-band, deadline(item), -item.match.score)

    closing = [
        i
        for i in items
        if DigestReason.CLOSING_SOON in i.reasons and DigestReason.NEW not in i.reasons
    ]
    new = [i for i in items if DigestReason.NEW in i.reasons]
    opening = [i for i in new if i.call.status == "forthcoming"]
    fresh = [i for i in new if i.call.status != "forthcoming"]
    placed = {i.call.id for i in [*closing, *new]}
    changed = [i for i in items if DigestReason.CHANGED in i.reasons and i.call.id not in placed]
    chosen = [
        (CLOSING, sorted(closing, key=deadline)),
        (NEW, sorted(fresh, key=by_strength)),
        (OPENING, sorted(opening, key=lambda i: (i.call.opening_date or far, deadline(i)))),
        (CHANGED, sorted(changed, key=deadline)),
    ]
    return [_section(heading, chosen_items) for heading, chosen_items in chosen if chosen_items]


def shown_items(
    items: Sequence[DigestItem], now: datetime, cut_off: float, calibrated: bool = False
) -> list[DigestItem]:
    """The items a digest shows (each section's first SECTION_CAP), in the order shown: the
    ones it records as sent. The rest stay unsent and may come in a later week."""
    return [
        item
        for section in sections(items, now, cut_off, calibrated)
        for group in section.groups
        for item in group.items
    ]


def _band(score: float, cut_off: float, calibrated: bool) -> int:
    """2 for a strong match, 1 for a good one, 0 otherwise."""
    return {"stark": 2, "god": 1}.get(strength(score, cut_off, calibrated), 0)


def _section(heading: str, items: list[DigestItem]) -> Section:
    """The first SECTION_CAP calls, sibling topics of one call grouped where the first of
    them stands."""
    shown, left_out = items[:SECTION_CAP], max(0, len(items) - SECTION_CAP)
    groups: list[tuple[str, list[DigestItem]]] = []
    where: dict[str, int] = {}
    for item in shown:
        key = item.call.call_identifier
        siblings = key and sum(1 for other in shown if other.call.call_identifier == key) > 1
        if siblings and key in where:
            groups[where[key]][1].append(item)
            continue
        if siblings:
            where[key] = len(groups)
        title = (item.call.call_title or key) if siblings else ""
        groups.append((title, [item]))
    return Section(heading, tuple(Group(t, tuple(g)) for t, g in groups), left_out)


def summary_line(
    items: Sequence[DigestItem], now: datetime, cut_off: float, calibrated: bool = False
) -> str:
    """'3 starka matchningar, 2 stänger inom två veckor' (the inbox preview too)."""
    strong = sum(1 for i in items if strength(i.match.score, cut_off, calibrated) == "stark")
    soon = now + timedelta(days=SUMMARY_DAYS)
    closing = sum(
        1 for i in items if (d := next_deadline(i.call.deadlines, now)) is not None and d <= soon
    )
    total = len(items)
    parts = [f"{total} {'utlysning' if total == 1 else 'utlysningar'}"]
    parts.append(f"{strong} {'stark matchning' if strong == 1 else 'starka matchningar'}")
    parts.append(f"{closing} stänger inom två veckor")
    return ", ".join(parts)


def change_texts(changes: Sequence[CallChange], day: Callable[[datetime], str]) -> list[str]:
    """What changed, before -> after, in Swedish ('sista ansökningsdag flyttad från
    23 september 2026 till 30 september 2026'); ``day`` says a moment as a Swedish date."""
    texts = []
    for change in changes:
        text = _change_text(change, day)
        if text and text not in texts:
            texts.append(text)
    return texts


def _change_text(change: CallChange, day: Callable[[datetime], str]) -> str:
    old, new = change.old, change.new
    if change.field == "deadlines":
        before, after = _moments(old), _moments(new)
        if before and after:
            return (
                f"sista ansökningsdag flyttad från {', '.join(map(day, before))} "
                f"till {', '.join(map(day, after))}"
            )
        return "ny sista ansökningsdag"
    if change.field == "opening_date":
        before, after = _moments(json.dumps([old])), _moments(json.dumps([new]))
        if before and after:
            return f"öppningsdatum flyttat från {day(before[0])} till {day(after[0])}"
        return "nytt öppningsdatum"
    if change.field == "status":
        return f"status ändrad från {STATUS.get(old, old)} till {STATUS.get(new, new)}"
    if change.field == "budget_eur":
        return f"budget ändrad från {_euros(old)} till {_euros(new)}"
    if change.field == "title":
        return f"ny titel (tidigare: {old})"
    return ""


def _moments(text: str) -> list[datetime]:
    """Stored moments (a JSON list of ISO texts); none when it cannot be read."""
    try:
        values = json.loads(text) if text else []
        return [datetime.fromisoformat(v) for v in values if v]
    except (ValueError, TypeError):
        return []


def _euros(text: str) -> str:
    """A stored whole number of euros in Swedish ('okänd' when there is none)."""
    if not text or not text.isdigit():
        return "okänd"
    return f"{int(text):,} euro".replace(",", " ")
