"""sources.toml: the sources calls are crawled from, each of a kind with its own options.

Common keys: id, kind, name, url, language, programme, enabled. An ft_portal source also has
its facet_url. A json_api source says what to ask and how to read the answer:

    [source.request]   method ("GET" or "POST"), body (a table, sent as JSON), params
    records            the path of the list of records in an answer ("" = the answer)
    [source.paging]    kind ("none", "page", "offset" or "cursor"), param, size_param, size,
                       first (the first page number), total (path of the number of records),
                       next (path of the next page's cursor)
    [source.fields]    a path (or a list of paths, the first that has a value wins) per call
                       field: id, title (both required), summary, url, opens, closes, status,
                       programme, regions, audience, cofinancing, announced_year,
                       announced_period
    [source.skip]      records to leave out: path = value
    [source.statuses]  the source's status values mapped to forthcoming, open or closed
    base_url           what relative links are relative to
    local_times        true: times without an offset are Swedish time (else UTC)

Paths are keys joined by dots, with [N] or [key=value] to pick from a list (crawler/paths.py).

An html_listing source names selectors, CSS or XPath (starting with "/", "./" or "("): item
(each call on the listing, required), title, link, deadline, status, summary (within an item)
and next_page; date_format, a strptime format such as "%d/%m/%Y" for deadlines the site writes
in a form of its own (else dates are read as pages write them, crawler/dates.py); follow and
detail as for a feed. A feed source (RSS 2.0 or Atom) may say which items are calls and how to read
their pages:

    include, exclude   words: an item is kept when its title or text holds an included word
                       (when any are given) and no excluded one
    follow             true: read each item's page too
    [source.detail]    CSS selectors on that page: deadline, audience, cofinancing, summary,
                       status
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from crawler.paths import check_path
from crawler.selectors import selector_problem
from db.records import SOURCE_KINDS, STATUSES, Source, SourceKind
from eufunds.config_checks import REQUIRED, ConfigError, check_table, entries

COMMON_KEYS = {
    "id": ((str,), REQUIRED),
    "kind": ((str,), REQUIRED),
    "name": ((str,), REQUIRED),
    "url": ((str,), REQUIRED),
    "language": ((str,), "en"),
    "programme": ((str,), ""),
    "enabled": ((bool,), True),
}
KIND_KEYS = {
    SourceKind.FT_PORTAL: {"facet_url": ((str,), REQUIRED)},
    SourceKind.JSON_API: {
        "request": ((dict,), {}),
        "records": ((str,), ""),
        "paging": ((dict,), {}),
        "fields": ((dict,), REQUIRED),
        "skip": ((dict,), {}),
        "statuses": ((dict,), {}),
        "base_url": ((str,), ""),
        "local_times": ((bool,), False),
    },
    SourceKind.FEED: {
        "include": ((list,), []),
        "exclude": ((list,), []),
        "follow": ((bool,), False),
        "detail": ((dict,), {}),
    },
    SourceKind.HTML_LISTING: {
        "item": ((str,), REQUIRED),
        "title": ((str,), ""),
        "link": ((str,), ""),
        "deadline": ((str,), ""),
        "status": ((str,), ""),
        "summary": ((str,), ""),
        "next_page": ((str,), ""),
        "date_format": ((str,), ""),
        "follow": ((bool,), False),
        "detail": ((dict,), {}),
    },
}
LISTING_SELECTORS = ("item", "title", "link", "deadline", "status", "summary", "next_page")
DETAIL_KEYS = ("deadline", "audience", "cofinancing", "summary", "status")
FIELDS = (
    "id title summary url opens closes status programme regions audience cofinancing "
    "announced_year announced_period"
).split()
PAGING_KINDS = ("none", "page", "offset", "cursor")


def parse_sources(path: Path, document: dict) -> tuple[Source, ...]:
    """Every [[source]] of sources.toml, checked for its kind."""
    sources = []
    for label, entry in entries(path, document, "source"):
        kind = entry.get("kind") if isinstance(entry, dict) else None
        if kind not in SOURCE_KINDS:
            raise ConfigError(
                path, label, f"unknown kind {kind!r} (known: {', '.join(SOURCE_KINDS)})"
            )
        table = check_table(path, label, entry, COMMON_KEYS | KIND_KEYS[kind])
        for key in ("url", "facet_url", "base_url"):
            if table.get(key) and not re.match(r"^https?://", table[key]):
                raise ConfigError(path, label, f"'{key}' must be an http(s) URL")
        if table["language"] not in ("sv", "en"):
            raise ConfigError(path, label, "'language' must be 'sv' or 'en'")
        common = {key: table.pop(key) for key in COMMON_KEYS}
        facet_url = table.pop("facet_url", "")
        if kind == SourceKind.JSON_API:
            _check_json_api(path, label, table)
        elif kind == SourceKind.FEED:
            _check_words(path, label, table)
            _check_detail(path, label, table)
        elif kind == SourceKind.HTML_LISTING:
            for name in LISTING_SELECTORS:
                if table[name]:
                    _check_css(path, label, name, table[name])
            _check_detail(path, label, table)
            _check_date_format(path, label, table["date_format"])
        sources.append(Source(**common, facet_url=facet_url, options=table))
    return tuple(sources)


def _check_json_api(path: Path, label: str, options: dict[str, Any]) -> None:
    """The request, paging, field mapping, skips and statuses of a json_api source."""
    request = check_table(
        path,
        label + " request",
        options["request"],
        {"method": ((str,), "GET"), "body": ((dict,), None), "params": ((dict,), {})},
    )
    if request["method"] not in ("GET", "POST"):
        raise ConfigError(path, label, "'request.method' must be GET or POST")
    options["request"] = {key: value for key, value in request.items() if value is not None}
    paging = check_table(
        path,
        label + " paging",
        options["paging"],
        {
            "kind": ((str,), "none"),
            "param": ((str,), ""),
            "size_param": ((str,), ""),
            "size": ((int,), 100, (1, 1000)),
            "first": ((int,), 1, (0, 1)),
            "total": ((str,), ""),
            "next": ((str,), ""),
        },
    )
    if paging["kind"] not in PAGING_KINDS:
        raise ConfigError(path, label, f"'paging.kind' must be one of {', '.join(PAGING_KINDS)}")
    options["paging"] = paging
    fields = options["fields"]
    for name in ("id", "title"):
        if name not in fields:
            raise ConfigError(path, label, f"'fields' needs '{name}'")
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise ConfigError(path, label, f"unknown field '{unknown[0]}' (known: {', '.join(FIELDS)})")
    paths = [p for value in fields.values() for p in ([value] if isinstance(value, str) else value)]
    paths += [options["records"], paging["total"], paging["next"], *options["skip"]]
    for record_path in paths:
        problem = check_path(record_path) if isinstance(record_path, str) else "a path is text"
        if problem:
            raise ConfigError(path, label, problem)
    for given, status in options["statuses"].items():
        if status not in STATUSES:
            raise ConfigError(
                path, label, f"status {given!r} must map to one of {', '.join(STATUSES)}"
            )


def _check_words(path: Path, label: str, options: dict[str, Any]) -> None:
    """The include and exclude words of a feed."""
    for key in ("include", "exclude"):
        if not all(isinstance(word, str) and word.strip() for word in options[key]):
            raise ConfigError(path, label, f"'{key}' must be a list of words")


def _check_detail(path: Path, label: str, options: dict[str, Any]) -> None:
    """The CSS selectors of the pages a source's items link to."""
    for name, selector in options["detail"].items():
        if name not in DETAIL_KEYS:
            known = ", ".join(DETAIL_KEYS)
            raise ConfigError(path, label, f"unknown detail '{name}' (known: {known})")
        _check_css(path, label, f"detail '{name}'", selector)
    if options["detail"] and not options["follow"]:
        raise ConfigError(path, label, "'detail' selectors need 'follow = true'")


def _check_date_format(path: Path, label: str, date_format: str) -> None:
    """A strptime format with a day, a month and a year."""
    if date_format and not all(code in date_format for code in ("%d", "%Y")):
        raise ConfigError(path, label, f"'date_format' {date_format!r} needs %d and %Y")
    if date_format and not any(code in date_format for code in ("%m", "%B", "%b")):
        raise ConfigError(path, label, f"'date_format' {date_format!r} needs a month (%m, %B)")


def _check_css(path: Path, label: str, name: str, selector: Any) -> None:
    """A CSS or XPath selector the crawler can use (scrapy's ::text and ::attr() allowed)."""
    problem = selector_problem(selector)
    if problem:
        raise ConfigError(path, label, f"{name}: {problem}")
