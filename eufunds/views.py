"""Tables the commands print: crawl runs, matches, explanations, quality, digests, calls."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from db import Call, CallChange, CrawlCounts, CrawlRun, Department, Match
from db.deadlines import named_day
from db.records import DELIVERED, LOCAL_TZ, DigestStatus, MatchFlag, RunStatus, SourceHealth
from db.text import without_bidi_controls
from matcher.evaluation import DepartmentQuality, mean

if TYPE_CHECKING:
    from eufunds.digests import DigestOutcome
    from matcher.model import Band
    from matcher.rank import Explanation


def console(stderr: bool = False) -> Console:
    """A console; when output goes to a file or pipe, wide enough that no value is cut."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 160)


def local(moment: datetime | None) -> str:
    """A moment in Swedish time as 2026-09-30 17:00; empty when unknown."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def day_or_local(moment: datetime | None) -> str:
    """A deadline or opening date as the source gave it: a date where it names a day
    (2026-09-22), else its moment in Swedish time (2026-09-30 17:00); empty when unknown."""
    if moment is None:
        return ""
    day = named_day(moment)
    return day.isoformat() if day is not None else local(moment)


class CrawlProgress:
    """A live progress bar per source while a crawl runs (on stderr, gone when done)."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[items]} calls, {task.fields[errors]} errors"),
            TimeElapsedColumn(),
            console=console(stderr=True),
            transient=True,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> CrawlProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.progress.__exit__(*exc_info)

    def show(self, source_id: str, counts: CrawlCounts) -> None:
        """Move one source's bar to these counts."""
        if source_id not in self.tasks:
            self.tasks[source_id] = self.progress.add_task(source_id, total=None, items=0, errors=0)
        self.progress.update(
            self.tasks[source_id],
            completed=counts.pages,
            total=counts.pages_expected,
            items=counts.items_seen,
            errors=counts.error_count,
        )


def runs_table(title: str, runs: Sequence[CrawlRun], history: bool) -> Table:
    """A table of crawl runs; with history, each run's id and start time too."""
    table = Table(title=title)
    labels = ("id", "started") if history else ()
    for column in (*labels, "source", "status"):
        table.add_column(column, no_wrap=True)
    for column in ("pages", "items", "new", "changed", "invalid", "errors", "seconds"):
        table.add_column(column, justify="right")
    for run in runs:
        seconds = (run.finished - run.started).total_seconds() if run.finished else 0
        first = (str(run.id), local(run.started)) if history else ()
        counts = (run.pages, run.items_seen, run.items_new, run.items_changed, run.items_invalid)
        table.add_row(
            *first,
            run.source_id,
            run.status,
            *map(str, counts),
            str(run.error_count),
            f"{seconds:.1f}",
        )
    skipped = [run for run in runs if run.status == RunStatus.SKIPPED]
    if skipped and not history:
        reasons = sorted({run.notes[0].split(":")[0] for run in skipped if run.notes})
        table.caption = f"skipped ({'; '.join(reasons) or 'not crawled'}): " + ", ".join(
            run.source_id for run in skipped
        )
    return table


def department_matches(
    department: Department, matches: Sequence[Match], titles: dict[str, str], top: int
) -> Table:
    """A department's best matches: score, call title, what it matched on."""
    table = Table(title=f"{department.name}: {len(matches)} matches", title_justify="left")
    for column in ("score", "call", "matched on"):
        table.add_column(column, overflow="fold")
    for match in matches[:top]:
        reasons = ", ".join(term for term, _ in match.terms[:4])
        if match.focus_areas:
            reasons += f"; fokusområde: {match.focus_areas[0]}"
        table.add_row(f"{match.score:.3f}", titles.get(match.call_id, match.call_id), reasons)
    return table


def match_counts(title: str, departments: Sequence[Department], counts: dict[str, int]) -> Table:
    """How many current matches each department has."""
    table = Table(title=title)
    table.add_column("department")
    table.add_column("matches", justify="right")
    for department in departments:
        table.add_row(department.name, str(counts[department.id]))
    return table


def explanation_lines(
    details: Explanation, rank: int, total: int, focus_weight: float
) -> list[str]:
    """Why a call scored as it did for a department: score, rank, factors, deadlines."""
    match, department = details.match, details.department
    verdict = "above" if details.above_minimum else "below"
    lines = [
        f"score {match.score:.4f} ({verdict} the department's minimum {department.min_score}),"
        f" rank {rank} of {total} calls",
    ]
    if details.learnt:
        lines.append(
            f"probability from the learnt model (config/model.json): log-odds "
            f"{sum(value for _, value in details.learnt):.3f} = "
            + " + ".join(f"{value:.3f} ({name})" for name, value in details.learnt)
        )
        lines.append(f"configured score {details.configured_score:.4f} =")
    lines += [
        f"text score {match.text_score:.4f} x (1 + focus weight {focus_weight}"
        f" x focus score {match.focus_score:.4f})",
    ]
    lines += [f"factor {factor:g}: {flag}" for flag, factor in details.factors]
    if not details.matchable:
        lines.append("not matched: the call is closed or every deadline has passed")
    if MatchFlag.CLOSING_SOON in match.flags:
        lines.append(f"closing soon: next deadline within {department.lead_time_days} days")
    return lines


def explanation_tables(details: Explanation) -> list[Table]:
    """The profile keywords found in the call, and the score of every focus area."""
    keywords = Table(title="Profile keywords found in the call")
    keywords.add_column("keyword")
    keywords.add_column("share of text score", justify="right")
    for term, share in details.match.terms:
        keywords.add_row(term, f"{share:.0%}")
    focus = Table(title="Strategy focus areas")
    focus.add_column("focus area")
    focus.add_column("score", justify="right")
    for name, value in details.focus_by_area:
        focus.add_row(name, f"{value:.4f}")
    return [keywords, focus]


def quality_table(title: str, departments: Sequence[DepartmentQuality]) -> Table:
    """Matching quality per department and the mean: nDCG@10, P@5, R@20, digest P/R."""
    table = Table(title=title)
    names = ("department", "relevant", "nDCG@10", "P@5", "R@20", "digest", "digest P", "digest R")
    for column in names:
        table.add_column(column, justify="left" if column == "department" else "right")

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    for q in departments:
        table.add_row(
            q.department_id,
            str(q.relevant),
            *map(cell, (q.ndcg10, q.p5, q.r20)),
            str(q.digest_size),
            *map(cell, (q.digest_precision, q.digest_recall)),
        )
    means = [
        mean([getattr(q, name) for q in departments])
        for name in ("ndcg10", "p5", "r20", "digest_precision", "digest_recall")
    ]
    table.add_row("mean", "", *map(cell, means[:3]), "", *map(cell, means[3:]), style="bold")
    return table


def micro_line(micro: tuple[float | None, float | None]) -> str:
    """Digest precision and recall over every department-call pair."""
    precision, recall = ("-" if value is None else f"{value:.3f}" for value in micro)
    return f"digest over all department-call pairs (micro): precision {precision}, recall {recall}"


def reliability_table(bands: Sequence[Band]) -> Table:
    """Predicted against observed precision per band of probability (cross-validated)."""
    table = Table(title="Reliability (cross-validated)")
    for column in ("probability", "pairs", "predicted", "observed"):
        table.add_column(column, justify="right")
    for band in bands:
        if band.pairs:
            table.add_row(
                f"{band.low:.2f}–{band.high:.2f}",
                str(band.pairs),
                f"{band.predicted:.3f}",
                f"{band.observed:.3f}",
            )
    return table


def digests_table(outcomes: Sequence[DigestOutcome]) -> Table:
    """What became of each department's digest in a run."""
    table = Table(title="Digests")
    for column in ("department", "week", "status", "calls", "file or error"):
        table.add_column(column, overflow="fold")
    for o in outcomes:
        table.add_row(
            o.department_id, o.iso_week, o.status, str(o.items), str(o.path or o.error or "")
        )
    return table


def calls_table(calls: Sequence[Call]) -> Table:
    """Calls with status, next deadline, programme and title."""
    table = Table(title=f"{len(calls)} calls")
    for column in ("id", "status", "next deadline", "programme", "title"):
        table.add_column(column, overflow="fold")
    for call in calls:
        deadline = day_or_local(call.next_deadline)
        table.add_row(call.id, call.status, deadline, call.programme, call.title)
    return table


def call_summary(call: Call, for_json: bool = True) -> dict:
    """The fields of a call that `calls list` writes as JSON or CSV (text from the source
    without bidirectional controls). Deadlines that name a day are dates; others are in
    Swedish time: ISO 8601 with the offset for JSON, '2026-09-30 17:00' for a spreadsheet."""
    when = _iso_day_or_local if for_json else day_or_local
    fields = {
        "id": call.id,
        "identifier": call.identifier,
        "title": call.title,
        "status": call.status,
        "programme": call.programme,
        "next_deadline": when(call.next_deadline),
        "deadlines": ";".join(map(when, call.deadlines)),
        "budget_eur": call.budget_eur if call.budget_eur is not None else "",
        "url": call.url,
    }
    return {
        name: without_bidi_controls(value) if isinstance(value, str) else value
        for name, value in fields.items()
    }


def call_details(call: Call, listings: Sequence[tuple[str, str]] = ()) -> Table:
    """Every field of one call, deadlines in Swedish time, and the other sources listing it."""
    table = Table(show_header=False, title=call.id)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    budget = f"{call.budget_eur:,} EUR".replace(",", " ") if call.budget_eur else "unknown"
    rows = [
        ("title", call.title),
        ("identifier", call.identifier),
        ("call", f"{call.call_identifier} {call.call_title}".strip()),
        ("programme", call.programme),
        ("divisions", "; ".join(call.programme_divisions)),
        ("type of action", call.type_of_action),
        ("kind", call.kind),
        ("status", call.status),
        ("opens", day_or_local(call.opening_date)),
        ("deadlines", "\n".join(map(_deadline_line, call.deadlines))),
        ("next deadline", day_or_local(call.next_deadline)),
        ("budget", budget),
        ("expected grants", str(call.expected_grants or "unknown")),
        ("language", call.language),
        ("url", call.url),
        ("first seen", local(call.first_seen)),
        ("last seen", local(call.last_seen)),
        ("last changed", local(call.last_changed)),
        ("regions", ", ".join(call.regions)),
        ("who may apply", call.audience),
        ("co-financing", call.cofinancing),
        ("also listed by", "\n".join(f"{source} ({listed_as})" for source, listed_as in listings)),
        ("summary", call.summary),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _iso_day_or_local(moment: datetime | None) -> str:
    """A date where a moment names a day, else ISO 8601 in Swedish time with its offset."""
    if moment is None:
        return ""
    day = named_day(moment)
    if day is not None:
        return day.isoformat()
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="minutes")


def spreadsheet_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: one starting with =, +, -, @ (or a tab or carriage
    return) would be read as a formula, so it gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def _deadline_line(deadline: datetime) -> str:
    """'2026-09-22 (a date)' or '2026-09-30 17:00 (Europe/Stockholm)'."""
    if named_day(deadline) is not None:
        return f"{day_or_local(deadline)} (a date)"
    return f"{local(deadline)} (Europe/Stockholm)"


def change_history(changes: Sequence[CallChange]) -> Table:
    """A call's recorded changes: when, field, old and new value."""
    table = Table(title="Change history")
    for column in ("when", "field", "old", "new"):
        table.add_column(column, overflow="fold")
    for change in changes:
        table.add_row(local(change.changed_at), change.field, change.old[:200], change.new[:200])
    return table


def health_summary(health: SourceHealth) -> dict:
    """A source's health as `eufunds sources --format json` writes it."""
    return {
        "source": health.source_id,
        "name": health.name,
        "last_success": health.last_success.isoformat() if health.last_success else None,
        "recent_items": list(health.recent_items),
        "last_error": health.last_error,
        "failures_in_a_row": health.failures_in_a_row,
        "problem": health.problem,
    }


def health_table(healths: Sequence[SourceHealth]) -> Table:
    """Each source's last success, calls found per recent crawl (newest first), problem."""
    table = Table(title="Sources")
    for column in ("source", "last success", "calls per crawl", "problem", "last error"):
        table.add_column(column, overflow="fold")
    for health in healths:
        table.add_row(
            health.source_id,
            local(health.last_success),
            " ".join(map(str, health.recent_items)),
            health.problem or ("ok" if health.recent_items else "ännu inte hämtad"),
            health.last_error[:120],
        )
    return table


def delivery_line(outcomes: Sequence[DigestOutcome], departments: int) -> str:
    """'digests delivered: 3 of 13', saying why the others were not (already had this
    week's, not due until their weekday)."""
    delivered = [o for o in outcomes if o.status in (*DELIVERED, DigestStatus.DRY_RUN)]
    line = f"digests delivered: {len(delivered)} of {departments}"
    done = sum(1 for o in outcomes if o.status == DigestStatus.ALREADY_DONE)
    empty = sum(1 for o in outcomes if o.status == DigestStatus.EMPTY)
    waiting = departments - len(outcomes)
    reasons = [
        f"{done} already had this week's digest" if done else "",
        f"{empty} had nothing new (no digest sent)" if empty else "",
        f"{waiting} not due until their digest weekday (--all-departments sends them)"
        if waiting
        else "",
    ]
    said = [reason for reason in reasons if reason]
    return f"{line} ({'; '.join(said)})" if said else line
