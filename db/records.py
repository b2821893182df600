"""Record types that cross package boundaries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

# Swedish time: digest weeks and weekdays, cron times, --as-of dates and every date shown.
LOCAL_TZ = ZoneInfo("Europe/Stockholm")
# The months in Swedish: how digests write dates and Swedish sources give them.
SWEDISH_MONTHS = (
    "januari februari mars april maj juni juli augusti september oktober november december"
).split()


class SourceKind(StrEnum):
    """The kinds of source a spider exists for (`kind` in config/sources.toml)."""

    FT_PORTAL = "ft_portal"
    JSON_API = "json_api"
    FEED = "feed"
    HTML_LISTING = "html_listing"


SOURCE_KINDS = tuple(SourceKind)


class CallStatus(StrEnum):
    """Whether a call can be applied for."""

    FORTHCOMING = "forthcoming"
    OPEN = "open"
    CLOSED = "closed"


STATUSES = tuple(CallStatus)


class RunStatus(StrEnum):
    """How a crawl run ended: ok, partial (some pages or items lost), failed (none read), or
    skipped (nothing to read: a source a replay does not hold)."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"
    SKIPPED = "skipped"


class MatchMode(StrEnum):
    """Whether a match run re-scored everything or only what changed."""

    FULL = "full"
    INCREMENTAL = "incremental"


class MatchFlag(StrEnum):
    """Flags a match carries besides rule and negative-keyword flags."""

    CLOSING_SOON = "closing-soon"
    PREFERRED_PROGRAMME = "preferred-programme"
    OUT_OF_AREA = "out-of-area"
    OWN_AREA = "own-area"


RULE_FLAG = "rule:"
NEGATIVE_FLAG = "negative:"


def is_out_of_area(regions: Sequence[str], home: str) -> bool:
    """A call that names the regions it is for, none of them ours (a NUTS code of ours or of
    a larger area holding it: SE211 is in SE21, SE2 and SE)."""
    return bool(regions) and not any(home.startswith(region.upper()) for region in regions)


def is_own_area(regions: Sequence[str], home: str) -> bool:
    """A Swedish call for our own part of Sweden: it names only Swedish regions, one of them
    ours or the region holding it (SE211, SE21: not the whole country, SE2 or SE)."""
    codes = [region.upper() for region in regions]
    return (
        bool(codes)
        and all(code.startswith("SE") for code in codes)
        and any(len(code) >= 4 and home.startswith(code) for code in codes)
    )


def rule_flag(rule_id: str) -> str:
    """The flag of a who-may-apply rule that fired."""
    return f"{RULE_FLAG}{rule_id}"


def flag_rule(flag: str) -> str | None:
    """The who-may-apply rule a flag names, or None for other flags."""
    return flag.removeprefix(RULE_FLAG) if flag.startswith(RULE_FLAG) else None


def negative_flag(word: str) -> str:
    """The flag of a negative keyword found in a call."""
    return f"{NEGATIVE_FLAG}{word}"


@dataclass(frozen=True)
class Source:
    """A place calls are crawled from (one entry of config/sources.toml)."""

    id: str
    kind: str
    name: str
    url: str
    language: str = "en"
    programme: str = ""
    facet_url: str = ""
    enabled: bool = True
    # How a source of this kind is read (json_api: request, paging, field mapping...).
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """What departments and focus areas have alike: a name, and what they are about in both
    languages (a description and weighted keywords)."""

    id: str
    name: str
    description_sv: str
    description_en: str
    keywords_sv: dict[str, float]
    keywords_en: dict[str, float]


@dataclass(frozen=True)
class Department(Profile):
    """A department (förvaltning or bolag) and its matching profile."""

    negative_keywords: tuple[str, ...]
    preferred_programmes: tuple[str, ...]
    min_score: float
    lead_time_days: int
    recipients: tuple[str, ...]
    digest_weekday: str
    send_empty_digest: bool = False


@dataclass(frozen=True)
class ProfileVersion:
    """One saved version of a department's profile: who saved it, when and why."""

    department_id: str
    version: int
    # A department's profile, or a focus area of the strategy (department_id is its id).
    profile: Department | FocusArea
    saved_by: str
    saved_at: datetime
    note: str


@dataclass(frozen=True)
class FocusArea(Profile):
    """A focus area or sub-goal of the international strategy."""

    kind: str
    strategy_section: str
    strategy_quote: str
    weight: float = 1.0


@dataclass
class Call:
    """One funding call as stored: normalised fields plus crawl bookkeeping."""

    id: str
    source_id: str
    identifier: str
    title: str
    url: str = ""
    call_identifier: str = ""
    call_title: str = ""
    summary: str = ""
    programme: str = ""
    programme_divisions: list[str] = field(default_factory=list)
    type_of_action: str = ""
    kind: str = ""
    status: str = "open"
    opening_date: datetime | None = None
    deadlines: list[datetime] = field(default_factory=list)
    next_deadline: datetime | None = None
    budget_eur: int | None = None
    expected_grants: int | None = None
    # What one project may get (EUR), as the source states it: the smallest and largest
    # grant (the portal's budget overview: minContribution, maxContribution).
    grant_min_eur: int | None = None
    grant_max_eur: int | None = None
    language: str = "en"
    # Where a call is for (NUTS codes or region names), who may apply, co-financing: as the
    # source states them, when it does.
    regions: list[str] = field(default_factory=list)
    audience: str = ""
    cofinancing: str = ""
    raw: str = ""
    content_hash: str = ""
    # The hash of the item the crawler read this call from (crawler/pipelines.py): a crawl
    # that reads the same item again only records that it saw the call.
    item_hash: str = ""
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    last_changed: datetime | None = None


@dataclass(frozen=True)
class CallChange:
    """One field of a call that changed between two crawls."""

    call_id: str
    field: str
    old: str
    new: str
    changed_at: datetime


@dataclass
class CrawlCounts:
    """What one crawl of one source counted: pages, calls and errors."""

    pages_expected: int = 1
    pages: int = 0
    items_seen: int = 0
    items_new: int = 0
    items_changed: int = 0
    items_invalid: int = 0
    items_skipped: int = 0
    closed_marked: int = 0
    error_count: int = 0
    fields_dropped: int = 0
    # The source answered "not modified": nothing new to read, nothing wrong.
    not_modified: bool = False

    def counts(self) -> CrawlCounts:
        """A copy of just the counts (for progress messages between processes)."""
        return CrawlCounts(**{f.name: getattr(self, f.name) for f in fields(CrawlCounts)})


@dataclass(kw_only=True)
class CrawlRun(CrawlCounts):
    """One crawl of one source as recorded: its counts, status, and samples of its errors
    and of the input it dropped (notes)."""

    id: int
    source_id: str
    started: datetime
    finished: datetime | None = None
    status: RunStatus = RunStatus.RUNNING
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class MatchRun:
    """One run of the matcher: what it scored and what it stored."""

    id: int
    started: datetime
    finished: datetime | None
    mode: MatchMode
    calls_scored: int
    departments_rescored: list[str]
    matches_stored: int
    matches_removed: int


@dataclass(frozen=True)
class EligibilityRule:
    """Text that says who may apply: factor < 1 pushes a call down, > 1 lifts it."""

    id: str
    label: str
    patterns: tuple[str, ...]
    factor: float
    # Whether its label says who may apply (a digest's "Vem kan söka"), or something else
    # about the call (the kind of funding: a note).
    who_may_apply: bool = True


@dataclass(frozen=True)
class ScoreModel:
    """A small model learnt from labelled calls that turns a call's score for a department
    into the probability that the department wants it (config/model.json, made by
    ``eufunds train``).

    Features are named: "log-score" (the log of the configured score) and "programme:CODE"
    (the call is of that programme of matching.toml's [programmes]). Coefficients are on the
    features as they are (no scaling left to apply). A department's digest takes calls whose
    probability reaches its threshold (``thresholds``, else ``threshold``).
    """

    version: str
    features: tuple[str, ...]
    coefficients: tuple[float, ...]
    intercept: float
    threshold: float
    thresholds: tuple[tuple[str, float], ...] = ()
    trained_on: tuple[tuple[str, str], ...] = ()

    def threshold_for(self, department_id: str) -> float:
        """The probability a department's digest needs."""
        return dict(self.thresholds).get(department_id, self.threshold)


@dataclass(frozen=True)
class MatchingSettings:
    """How text, focus areas, programmes, negative keywords and eligibility make a score."""

    focus_weight: float = 1.0
    title_weight: float = 2.0
    description_weight: float = 0.2
    preferred_programme_boost: float = 0.15
    negative_keyword_penalty: float = 0.3
    focus_threshold: float = 0.05
    terms: tuple[tuple[str, str], ...] = ()
    eligibility_rules: tuple[EligibilityRule, ...] = ()
    # Programmes departments may prefer: code -> the programme names its calls carry
    # ("Name*": that name, or that name followed by more words).
    programmes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Where we are (a NUTS code), and the factor for a call whose regions leave us out.
    home_region: str = "SE211"
    out_of_area_factor: float = 0.2
    # The factor for a Swedish call for our own region (Jönköpings län or Småland med öarna).
    own_area_factor: float = 1.5
    # The model learnt from labels that turns scores into probabilities (None: scores as
    # configured, each department's min_score its cut-off).
    model: ScoreModel | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """A call ranked for a department, with the reasons that made its score (slots: a run at
    national scale makes a million of them)."""

    call_id: str
    department_id: str
    score: float
    text_score: float
    focus_score: float
    terms: tuple[tuple[str, float], ...] = ()
    focus_areas: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    profile_version: str = ""


# Records of digests, of what people do with the calls and of how runs go live in modules
# of their own, named from here.
from db.digest_records import (  # noqa: E402, F401 - re-exported
    DELIVERED,
    DIGEST_PROBLEMS,
    DeliveryStatus,
    Digest,
    DigestDelivery,
    DigestHistory,
    DigestItem,
    DigestReason,
    DigestStatus,
)
from db.run_records import JobLock, SourceHealth  # noqa: E402, F401 - re-exported
from db.staff_records import (  # noqa: E402, F401 - re-exported
    APPLICATION_FIELDS,
    APPLICATION_MOVES,
    APPLICATION_STATE_NAMES,
    CURRENCIES,
    ROLES,
    Application,
    ApplicationEvent,
    ApplicationState,
    Feedback,
    ReportMail,
    Verdict,
    WebUser,
    newest_verdicts,
)
