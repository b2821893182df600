"""Load and validate the configuration folder (TOML) into record types."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger

from db.records import (
    LOCAL_TZ,
    Department,
    FocusArea,
    MatchingSettings,
    Source,
)
from eufunds.config_checks import (
    REQUIRED,
    ConfigError,
    check_email,
    check_keywords,
    check_table,
    entries,
    read_toml,
)
from eufunds.config_management import ManagementSettings, parse_management
from eufunds.config_matching import (
    MODEL_FILE,
    PROGRAMME_NOTES_FILE,
    check_preferred_programmes,
    parse_matching,
    parse_model,
    parse_programme_notes,
)
from eufunds.config_sources import parse_sources

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FOCUS_KINDS = ("fokusomrade", "delmal")
MAX_TOWN_NAME = 100


# Keys every department and focus area has.
PROFILE_KEYS = {
    "id": ((str,), REQUIRED),
    "name": ((str,), REQUIRED),
    "description_sv": ((str,), REQUIRED),
    "description_en": ((str,), REQUIRED),
}


@dataclass(frozen=True)
class Organisation:
    """Who runs this instance: named in the crawler's User-Agent and in digests."""

    name: str
    contact_email: str
    coordinator_name: str
    coordinator_email: str
    # The web app's address as staff reach it ("https://eufunds.kommun.example"): digests
    # link to a department's current matches there; empty: no such links.
    web_url: str = ""
    # The twin towns the strategy names, offered as partners of an application (optional).
    twin_towns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduleSettings:
    """When the jobs run (cron expressions in Swedish time, db.records.LOCAL_TZ)."""

    crawl: str = "30 5 * * *"
    digest: str = "0 7 * * *"
    # Daily: the monthly report goes out on the first run from its day of the month on.
    report: str = "0 8 * * *"
    misfire_grace_minutes: int = 120


@dataclass(frozen=True)
class CrawlSettings:
    """How politely and patiently sources are crawled."""

    download_timeout: int = 30
    download_delay: float = 1.0
    retry_times: int = 4
    retry_backoff_seconds: float = 2.0
    retry_backoff_max_seconds: float = 120.0
    autothrottle_target_concurrency: float = 1.0
    page_size: int = 100


@dataclass(frozen=True)
class Config:
    """The effective configuration: what `eufunds config show` prints."""

    directory: Path
    organisation: Organisation
    crawl: CrawlSettings
    sources: tuple[Source, ...]
    departments: tuple[Department, ...]
    focus_areas: tuple[FocusArea, ...] = field(default_factory=tuple)
    matching: MatchingSettings = field(default_factory=MatchingSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    # A Swedish line per programme code for the digests (programmes.toml; optional).
    programme_notes: tuple[tuple[str, str], ...] = ()
    # The departments as written (min_score as configured, before a model's cut-offs): what
    # seeds the stored profiles and what `config export` writes.
    written_departments: tuple[Department, ...] = ()
    # Management's monthly report mail ([management]; optional).
    management: ManagementSettings = field(default_factory=ManagementSettings)

    def source(self, source_id: str) -> Source:
        """The source with this id."""
        for source in self.sources:
            if source.id == source_id:
                return source
        known = ", ".join(s.id for s in self.sources)
        raise ConfigError(
            self.directory / "sources.toml", "", f"unknown source '{source_id}' (known: {known})"
        )


def config_dir(explicit: str | Path | None = None) -> Path:
    """The configuration folder: explicit, else EUFUNDS_CONFIG, else the embedded default."""
    chosen = explicit or os.environ.get("EUFUNDS_CONFIG")
    return Path(chosen) if chosen else DEFAULT_CONFIG_DIR


def load_config(directory: str | Path | None = None) -> Config:
    """Read and validate every file of a configuration folder."""
    folder = config_dir(directory)
    if not folder.is_dir():
        raise ConfigError(folder, "", "configuration folder not found")
    settings = read_toml(folder / "eufunds.toml")
    organisation, crawl, schedule = _parse_settings(folder / "eufunds.toml", settings)
    management = parse_management(folder / "eufunds.toml", settings.get("management", {}))
    sources = parse_sources(folder / "sources.toml", read_toml(folder / "sources.toml"))
    departments = _parse_departments(
        folder / "departments.toml", read_toml(folder / "departments.toml")
    )
    focus_areas = _parse_focus_areas(
        folder / "focus_areas.toml", read_toml(folder / "focus_areas.toml")
    )
    matching = parse_matching(folder / "matching.toml", read_toml(folder / "matching.toml"))
    check_preferred_programmes(folder / "departments.toml", departments, matching)
    written = departments
    if (folder / MODEL_FILE).exists():
        model = parse_model(folder / MODEL_FILE, matching, departments)
        matching = replace(matching, model=model)
        departments = with_cutoffs(departments, matching)
    notes_path = folder / PROGRAMME_NOTES_FILE
    notes = (
        parse_programme_notes(notes_path, read_toml(notes_path), matching)
        if (notes_path.exists())
        else ()
    )
    return Config(
        folder,
        organisation,
        crawl,
        sources,
        departments,
        focus_areas,
        matching,
        schedule,
        notes,
        written,
        management,
    )


def with_cutoffs(
    departments: tuple[Department, ...], matching: MatchingSettings
) -> tuple[Department, ...]:
    """The departments with their digest cut-offs: with a learnt model, scores are
    probabilities and each cut-off is the model's, chosen from labels; without one, each
    department's min_score."""
    model = matching.model
    if model is None:
        return departments
    return tuple(replace(d, min_score=model.threshold_for(d.id)) for d in departments)


def parse_focus_area(path: Path, document: dict) -> FocusArea:
    """One focus area from a TOML-shaped table (as focus_areas.toml holds it), checked as
    the configuration is."""
    [area] = _parse_focus_areas(path, {"focus_area": [document]})
    return area


def parse_department(path: Path, document: dict, matching: MatchingSettings) -> Department:
    """One department from a TOML-shaped table (as departments.toml holds it), checked as
    the configuration is: a ConfigError naming the problem otherwise."""
    [department] = _parse_departments(path, {"department": [document]})
    check_preferred_programmes(path, (department,), matching)
    return department


def _parse_settings(
    path: Path, document: dict
) -> tuple[Organisation, CrawlSettings, ScheduleSettings]:
    top = check_table(
        path,
        "",
        document,
        {
            "organisation": ((dict,), REQUIRED),
            "crawl": ((dict,), {}),
            "schedule": ((dict,), {}),
            "management": ((dict,), {}),
        },
    )
    org = check_table(
        path,
        "organisation",
        top["organisation"],
        {
            "name": ((str,), REQUIRED),
            "contact_email": ((str,), REQUIRED),
            "coordinator_name": ((str,), REQUIRED),
            "coordinator_email": ((str,), REQUIRED),
            "web_url": ((str,), ""),
            "twin_towns": ((list,), []),
        },
    )
    for key in ("contact_email", "coordinator_email"):
        check_email(path, "organisation", key, org[key])
    if org["web_url"] and not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", org["web_url"]):
        raise ConfigError(
            path, "organisation", f"'web_url' must be an http(s) address, got {org['web_url']!r}"
        )
    org["web_url"] = org["web_url"].rstrip("/")
    org["twin_towns"] = _twin_towns(path, org["twin_towns"])
    defaults = CrawlSettings()
    crawl = check_table(
        path,
        "crawl",
        top["crawl"],
        {
            "download_timeout": ((int,), defaults.download_timeout, (1, 600)),
            "download_delay": ((int, float), defaults.download_delay, (0, 60)),
            "retry_times": ((int,), defaults.retry_times, (0, 20)),
            "retry_backoff_seconds": ((int, float), defaults.retry_backoff_seconds, (0, 600)),
            "retry_backoff_max_seconds": (
                (int, float),
                defaults.retry_backoff_max_seconds,
                (0, 3600),
            ),
            "autothrottle_target_concurrency": (
                (int, float),
                defaults.autothrottle_target_concurrency,
                (0.1, 16),
            ),
            "page_size": ((int,), defaults.page_size, (1, 1000)),
        },
    )
    return Organisation(**org), CrawlSettings(**crawl), _parse_schedule(path, top["schedule"])


def _twin_towns(path: Path, names: list) -> tuple[str, ...]:
    """The twin towns: names of text, each once."""
    checked: list[str] = []
    for name in names:
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_TOWN_NAME:
            shown = repr(name)[:40]
            message = f"'twin_towns' must be names of 1 to {MAX_TOWN_NAME} characters, got {shown}"
            raise ConfigError(path, "organisation", message)
        if name.strip() in checked:
            raise ConfigError(path, "organisation", f"twin town {name!r} is named twice")
        checked.append(name.strip())
    return tuple(checked)


def _parse_schedule(path: Path, table: dict) -> ScheduleSettings:
    defaults = ScheduleSettings()
    schedule = check_table(
        path,
        "schedule",
        table,
        {
            "crawl": ((str,), defaults.crawl),
            "digest": ((str,), defaults.digest),
            "report": ((str,), defaults.report),
            "misfire_grace_minutes": ((int,), defaults.misfire_grace_minutes, (1, 1440)),
            # Earlier configurations named the zone; Swedish time is now fixed (LOCAL_TZ).
            "timezone": ((str,), LOCAL_TZ.key),
        },
    )
    if schedule.pop("timezone") != LOCAL_TZ.key:
        raise ConfigError(
            path,
            "schedule",
            f"'timezone' can only be {LOCAL_TZ.key}: eufunds runs in Swedish time "
            "(the setting is no longer needed)",
        )
    for key in ("crawl", "digest", "report"):
        try:
            CronTrigger.from_crontab(schedule[key], timezone=LOCAL_TZ)
        except ValueError as exc:
            raise ConfigError(
                path, "schedule", f"'{key}' is not a cron expression: {exc}"
            ) from None
    return ScheduleSettings(**schedule)


def _parse_departments(path: Path, document: dict) -> tuple[Department, ...]:
    departments = []
    for label, entry in entries(path, document, "department"):
        table = check_table(
            path,
            label,
            entry,
            {
                **PROFILE_KEYS,
                "recipients": ((list,), REQUIRED),
                "digest_weekday": ((str,), "monday"),
                "send_empty_digest": ((bool,), False),
                "min_score": ((int, float), 0.15, (0, 1)),
                "lead_time_days": ((int,), 21, (0, 365)),
                "preferred_programmes": ((list,), []),
                "negative_keywords": ((list,), []),
                "keywords": ((dict,), {}),
            },
        )
        recipients = table["recipients"]
        if not recipients:
            raise ConfigError(path, label, "'recipients' needs at least one address")
        for address in recipients:
            if not isinstance(address, str):
                raise ConfigError(path, label, "'recipients' must be a list of strings")
            check_email(path, label, "recipients", address)
        if table["digest_weekday"] not in WEEKDAYS:
            raise ConfigError(path, label, f"'digest_weekday' must be one of {', '.join(WEEKDAYS)}")
        for key in ("preferred_programmes", "negative_keywords"):
            if not all(isinstance(item, str) for item in table[key]):
                raise ConfigError(path, label, f"'{key}' must be a list of strings")
        keywords_sv, keywords_en = check_keywords(path, label, table["keywords"])
        departments.append(
            Department(
                id=table["id"],
                name=table["name"],
                description_sv=table["description_sv"],
                description_en=table["description_en"],
                keywords_sv=keywords_sv,
                keywords_en=keywords_en,
                negative_keywords=tuple(k.lower() for k in table["negative_keywords"]),
                preferred_programmes=tuple(table["preferred_programmes"]),
                min_score=float(table["min_score"]),
                lead_time_days=table["lead_time_days"],
                recipients=tuple(recipients),
                digest_weekday=table["digest_weekday"],
                send_empty_digest=table["send_empty_digest"],
            )
        )
    return tuple(departments)


def _parse_focus_areas(path: Path, document: dict) -> tuple[FocusArea, ...]:
    areas = []
    for label, entry in entries(path, document, "focus_area"):
        table = check_table(
            path,
            label,
            entry,
            {
                **PROFILE_KEYS,
                "kind": ((str,), REQUIRED),
                "strategy_section": ((str,), REQUIRED),
                "strategy_quote": ((str,), REQUIRED),
                "weight": ((int, float), 1.0, (0, 10)),
                "keywords": ((dict,), {}),
            },
        )
        if table["kind"] not in FOCUS_KINDS:
            raise ConfigError(path, label, f"'kind' must be one of {', '.join(FOCUS_KINDS)}")
        keywords_sv, keywords_en = check_keywords(path, label, table.pop("keywords"))
        table["weight"] = float(table["weight"])
        areas.append(FocusArea(**table, keywords_sv=keywords_sv, keywords_en=keywords_en))
    return tuple(areas)
