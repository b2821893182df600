"""Management's statistics as tables: a Swedish title, Swedish column names and rows, some
with a bar chart, for a period. The web page, the downloads, the report file and the
monthly report mail all show these same tables.

``gather`` reads the counts from the store; ``build_statistics`` makes the tables from them
and the effective configuration (departments and focus areas by their Swedish names).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from db import Store
from db.records import (
    APPLICATION_STATE_NAMES,
    LOCAL_TZ,
    Application,
    ApplicationState,
    CrawlRun,
    RunStatus,
    SourceHealth,
    Verdict,
)
from eufunds.config import Config
from eufunds.health import sources_health
from eufunds.periods import Period
from eufunds.statistics_amounts import NO_PROGRAMME, amount_rows
from eufunds.statistics_amounts import swedish_number as _number

VERDICT_COLUMNS = {
    Verdict.RELEVANT: "Relevant",
    Verdict.NOT_RELEVANT: "Inte relevant",
    Verdict.APPLY: "Vi vill söka",
}
RUN_STATUS_NAMES = {
    RunStatus.OK: "lyckad",
    RunStatus.PARTIAL: "delvis lyckad",
    RunStatus.FAILED: "misslyckad",
    RunStatus.SKIPPED: "hoppades över",
    RunStatus.RUNNING: "pågår",
}
FOCUS_KIND_NAMES = {"fokusomrade": "fokusområde", "delmal": "delmål"}


@dataclass(frozen=True)
class Chart:
    """A bar chart of one table: one bar per label, with its value written out."""

    title: str
    bars: tuple[tuple[str, float, str], ...]
    # What a bar's length is out of (100 for shares); None: the longest bar.
    scale: float | None = None


@dataclass(frozen=True)
class StatTable:
    """One table of the statistics: ``key`` names its download and its sheet."""

    key: str
    # A short name: the table's sheet in a workbook and its download link.
    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]
    note: str = ""
    chart: Chart | None = None


@dataclass(frozen=True)
class Counts:
    """What the store counted for a period (see db/statistics.py)."""

    sightings: list[tuple[str, datetime]]
    matches: dict[str, tuple[int, int]]
    digests: dict[str, tuple[int, int]]
    feedback: dict[tuple[str, str], int]
    states: list[tuple[str, str]]
    applications: list[tuple[Application, str]]
    focus: dict[str, dict[str, int]]
    source_calls: dict[str, tuple[int, int, int]]
    crawls: dict[str, tuple[int, int]]
    last_runs: dict[str, CrawlRun]
    health: dict[str, SourceHealth] = field(default_factory=dict)


@dataclass(frozen=True)
class Statistics:
    """Every table for a period, as made at a moment, with a line per headline figure."""

    period: Period
    made_at: datetime
    tables: tuple[StatTable, ...]
    summary: tuple[str, ...]

    def table(self, key: str) -> StatTable | None:
        """The table with this key, if there is one."""
        return next((t for t in self.tables if t.key == key), None)


def gather(store: Store, config: Config, period: Period, now: datetime) -> Counts:
    """Read everything the tables need for a period (open calls are judged at ``now``)."""
    start, end = period.start, period.end
    source_calls = store.source_call_counts(now, start, end)
    last_runs = {}
    for source_id in sorted({s.id for s in config.sources} | set(source_calls)):
        runs = store.crawl_runs(source_id, 1)
        if runs:
            last_runs[source_id] = runs[0]
    return Counts(
        sightings=store.call_sightings(start, end),
        matches=store.match_counts(start, end),
        digests=store.digest_counts(start, end),
        feedback=store.feedback_counts(start, end),
        states=store.application_states(end),
        applications=store.applications_with_programme(end),
        focus=store.focus_area_calls(now, start, end),
        source_calls=source_calls,
        crawls=store.crawl_run_counts(start, end),
        last_runs=last_runs,
        health={h.source_id: h for h in sources_health(store, config.sources)},
    )


def statistics(store: Store, config: Config, period: Period, now: datetime) -> Statistics:
    """The statistics for a period, read from the store as of ``now``."""
    return build_statistics(gather(store, config, period, now), config, period, now)


def build_statistics(counts: Counts, config: Config, period: Period, now: datetime) -> Statistics:
    """The tables and headline lines from what the store counted."""
    names = _department_names(config, counts)
    amounts, unconverted = amount_rows(counts.applications, names, period)
    tables = (
        _calls_table(counts, period),
        _matches_table(counts, names),
        _feedback_table(counts, names),
        _applications_table(counts, names),
        _amounts_table(amounts, unconverted),
        _focus_table(counts, config),
        _sources_table(counts, config),
    )
    made = Statistics(period, now, tables, ())
    return Statistics(period, now, tables, summary_lines(made, unconverted))


def _department_names(config: Config, counts: Counts) -> dict[str, str]:
    """Department id -> Swedish name, configured order first, then ids found only in data."""
    departments = config.written_departments or config.departments
    names = {d.id: d.name for d in departments}
    found = (
        set(counts.matches)
        | set(counts.digests)
        | {department for department, _ in counts.feedback}
        | {department for department, _ in counts.states}
        | {a.department_id for a, _ in counts.applications}
    )
    for department_id in sorted(found - set(names)):
        names[department_id] = department_id
    return names


def _month(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m")


def _months(period: Period, seen: list[str]) -> list[str]:
    """Every month of the period (all the time: from the first to the last month seen)."""
    first = _month(period.start) if period.start else min(seen, default=None)
    if first is None:
        return []
    stop = _month(period.end) if period.end else _next_month(max(seen))
    months, current = [], first
    while current < stop:
        months.append(current)
        current = _next_month(current)
    return months


def _next_month(month: str) -> str:
    """The month after a YYYY-MM month."""
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def _calls_table(counts: Counts, period: Period) -> StatTable:
    per = Counter((programme or NO_PROGRAMME, _month(seen)) for programme, seen in counts.sightings)
    rows = sorted(((p, m, n) for (p, m), n in per.items()), key=lambda r: (r[1], -r[2], r[0]))
    by_month = Counter(_month(seen) for _, seen in counts.sightings)
    months = _months(period, list(by_month))
    bars = tuple((m, by_month[m], _number(by_month[m])) for m in months)
    return StatTable(
        "utlysningar",
        "Utlysningar",
        f"Nya utlysningar per program och månad, {period.label}",
        ("Program", "Månad", "Nya utlysningar"),
        tuple(rows),
        "Månaden då utlysningen först hittades (svensk tid).",
        Chart("Nya utlysningar per månad", bars) if bars else None,
    )


def _matches_table(counts: Counts, names: dict[str, str]) -> StatTable:
    rows = []
    for department_id, name in names.items():
        matches, current = counts.matches.get(department_id, (0, 0))
        digests, items = counts.digests.get(department_id, (0, 0))
        rows.append((name, matches, current, digests, items))
    bars = tuple((row[0], row[1], _number(row[1])) for row in rows)
    return StatTable(
        "matchningar",
        "Matchningar",
        "Matchningar och utskick per förvaltning",
        ("Förvaltning", "Matchningar", "Varav aktuella", "Utskick", "Utlysningar i utskick"),
        tuple(rows),
        "Matchningar av utlysningar som hittades under perioden (aktuella: utlysningen går "
        "fortfarande att söka); utskick som gick ut under perioden och hur många utlysningar "
        "de tog upp.",
        Chart("Matchningar per förvaltning", bars),
    )


def _feedback_table(counts: Counts, names: dict[str, str]) -> StatTable:
    rows, bars = [], []
    for department_id, name in names.items():
        given = [counts.feedback.get((department_id, verdict), 0) for verdict in VERDICT_COLUMNS]
        total = sum(given)
        wanted = total - counts.feedback.get((department_id, Verdict.NOT_RELEVANT), 0)
        share = round(100 * wanted / total, 1) if total else None
        rows.append((name, *given, total, share))
        if total:
            bars.append((name, share, f"{_number(share, 1)} % ({wanted} av {total})"))
    return StatTable(
        "aterkoppling",
        "Återkoppling",
        "Återkoppling per förvaltning",
        ("Förvaltning", *VERDICT_COLUMNS.values(), "Omdömen", "Andel relevanta (%)"),
        tuple(rows),
        "Ett omdöme per läsare och utlysning (det senaste, om utlysningen kom igen i ett "
        "senare utskick). Andel relevanta: omdömena Relevant och Vi vill söka bland alla "
        "omdömen, en löpande uppskattning av hur träffsäkra utskicken är.",
        Chart("Andel relevanta per förvaltning", tuple(bars), scale=100) if bars else None,
    )


def _applications_table(counts: Counts, names: dict[str, str]) -> StatTable:
    per = Counter(counts.states)
    rows = []
    for department_id, name in names.items():
        by_state = [per[(department_id, state)] for state in ApplicationState]
        rows.append((name, *by_state, sum(by_state)))
    return StatTable(
        "ansokningar",
        "Ansökningar",
        "Ansökningar per förvaltning och läge",
        ("Förvaltning", *APPLICATION_STATE_NAMES.values(), "Totalt"),
        tuple(rows),
        "Ansökningar som hade öppnats när perioden slutade, i det läge de var i då.",
    )


def _amounts_table(rows: list[tuple], unconverted: int) -> StatTable:
    granted: Counter = Counter()
    for name, _, _, _, amount, _ in rows:
        granted[name] += amount
    bars = tuple((name, total, f"{_number(total)} kr") for name, total in granted.items() if total)
    missing = (
        f" {unconverted} belopp kunde inte räknas om till kronor (kurs saknas) och ingår inte "
        "i summorna."
        if unconverted
        else " Alla belopp kunde räknas om till kronor."
    )
    return StatTable(
        "belopp",
        "Belopp",
        "Sökta och beviljade belopp per förvaltning, program och år (SEK)",
        ("Förvaltning", "Program", "År", "Sökt (SEK)", "Beviljat (SEK)", "Belopp utan kurs"),
        tuple(rows),
        "Sökta belopp räknas det år ansökan lämnades in, beviljade det år beslutet kom; "
        "belopp i euro räknas om med ansökans egen kurs." + missing,
        Chart("Beviljat per förvaltning (kr)", bars) if bars else None,
    )


def _focus_table(counts: Counts, config: Config) -> StatTable:
    rows, bars = [], []
    for area in config.focus_areas:
        found = counts.focus.get(area.name, {})
        opened, coming, new = (found.get(k, 0) for k in ("open", "forthcoming", "new"))
        kind = FOCUS_KIND_NAMES.get(area.kind, area.kind)
        rows.append((area.name, kind, opened, coming, new, "Ja" if opened else "Nej"))
        bars.append((area.name, opened, _number(opened) if opened else "0 – inga öppna"))
    return StatTable(
        "fokusomraden",
        "Fokusområden",
        "Strategins fokusområden med och utan öppna utlysningar",
        (
            "Fokusområde",
            "Slag",
            "Öppna utlysningar",
            "Kommande utlysningar",
            "Nya under perioden",
            "Har öppna utlysningar",
        ),
        tuple(rows),
        "Utlysningar som når fokusområdet i någon förvaltnings aktuella matchningar; öppna "
        "och kommande räknas nu, nya efter när de hittades.",
        Chart("Öppna utlysningar per fokusområde", tuple(bars)) if bars else None,
    )


def _sources_table(counts: Counts, config: Config) -> StatTable:
    sources = {s.id: s for s in config.sources}
    ids = list(sources) + sorted(set(counts.source_calls) - set(sources))
    rows = []
    for source_id in ids:
        source = sources.get(source_id)
        calls, opened, new = counts.source_calls.get(source_id, (0, 0, 0))
        crawls, failed = counts.crawls.get(source_id, (0, 0))
        run = counts.last_runs.get(source_id)
        health = counts.health.get(source_id)
        rows.append(
            (
                source.name if source else source_id,
                "Ja" if source and source.enabled else "Nej",
                calls,
                opened,
                new,
                crawls,
                failed,
                _local(run.started) if run else "aldrig",
                RUN_STATUS_NAMES.get(run.status, run.status) if run else "",
                health.problem if health else "",
            )
        )
    return StatTable(
        "kallor",
        "Källor",
        "Källornas täckning",
        (
            "Källa",
            "Aktiverad",
            "Utlysningar",
            "Öppna utlysningar",
            "Nya under perioden",
            "Hämtningar under perioden",
            "Misslyckade hämtningar",
            "Senaste hämtning",
            "Senaste status",
            "Problem",
        ),
        tuple(rows),
        "Utlysningar per källa (öppna: går att söka nu); hämtningar som hoppades över räknas inte.",
    )


def summary_lines(made: Statistics, unconverted: int) -> tuple[str, ...]:
    """The headline figures, one Swedish line each (the command's output, the mail's text)."""
    calls = made.table("utlysningar").rows
    matches = made.table("matchningar").rows
    feedback = made.table("aterkoppling").rows
    states = made.table("ansokningar").rows
    amounts = made.table("belopp").rows
    focus = made.table("fokusomraden").rows
    sources = made.table("kallor").rows
    total_verdicts = sum(row[4] for row in feedback)
    wanted = sum(row[1] + row[3] for row in feedback)
    share = f", {_number(100 * wanted / total_verdicts, 1)} % relevanta" if total_verdicts else ""
    granted_state = list(APPLICATION_STATE_NAMES).index(ApplicationState.GRANTED) + 1
    without = [row[0] for row in focus if row[2] == 0]
    problems = [row for row in sources if row[9]]
    lines = [
        f"Nya utlysningar: {_number(sum(r[2] for r in calls))} "
        f"i {len({r[0] for r in calls})} program",
        f"Matchningar: {_number(sum(r[1] for r in matches))} "
        f"({_number(sum(r[2] for r in matches))} aktuella); "
        f"{_number(sum(r[3] for r in matches))} utskick med "
        f"{_number(sum(r[4] for r in matches))} utlysningar",
        f"Återkoppling: {_number(total_verdicts)} omdömen{share}",
        f"Ansökningar: {_number(sum(r[-1] for r in states))} "
        f"({_number(sum(r[granted_state] for r in states))} beviljade)",
        f"Sökt: {_number(sum(r[3] for r in amounts))} kr; "
        f"beviljat: {_number(sum(r[4] for r in amounts))} kr"
        + (f" ({unconverted} belopp utan kurs ej medräknade)" if unconverted else ""),
        f"Fokusområden utan öppna utlysningar: {len(without)} av {len(focus)}"
        + (f" ({', '.join(without)})" if without else ""),
        f"Källor: {sum(1 for r in sources if r[1] == 'Ja')} aktiverade, "
        f"{len(problems)} med problem",
    ]
    return tuple(lines)


def _local(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
