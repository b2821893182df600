"""What a profile edit would do, before it is saved: the department's best matches with the
edited profile, what it adds to and removes from this week's digest, and how many open
calls hold each keyword (one that none holds says so)."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, replace
from datetime import datetime

from db import Call, Store
from db.records import Department, FocusArea
from eufunds.config import Config, with_cutoffs
from eufunds.matching import stored_analyses
from eufunds.week_items import week_items
from matcher.profiles import profile_versions
from matcher.rank import Matcher
from notifier.render import iso_week

TOP = 10
EDITED = "~förhandsgranskning"


@dataclass(frozen=True)
class Corpus:
    """The open calls, their stored analyses and a matcher fitted on them with the saved
    profiles: what every preview starts from, kept while the calls and settings hold."""

    key: tuple
    calls: list[Call]
    known: dict
    matcher: Matcher


_corpora: dict[str, Corpus] = {}
_corpora_lock = threading.Lock()


def forget_corpora() -> None:
    """Drop every kept corpus (the next preview reads and fits its own)."""
    with _corpora_lock:
        _corpora.clear()


def open_corpus(store: Store, config: Config, now: datetime) -> Corpus:
    """The corpus to preview against: kept from an earlier preview of this database while
    no crawl changed its calls, the day and the matching settings and focus areas are the
    same; else read and fitted now (once)."""
    # The departments count too: their Swedish words decide how compounds are split. Their
    # profile versions (which include the settings and focus areas) name them whatever the
    # order of their keywords: the stored profiles and config/ list them differently.
    versions = profile_versions(config.departments, config.matching, config.focus_areas)
    settings = hashlib.sha256(json.dumps(sorted(versions.items())).encode()).hexdigest()
    key = (store.calls_state(), now.date(), settings)
    with _corpora_lock:
        kept = _corpora.get(str(store.path))
        if kept is not None and kept.key == key:
            return kept
        calls = store.matchable_calls(now)
        matcher = Matcher(config.departments, config.focus_areas, config.matching)
        known = stored_analyses(store, matcher, calls)
        if calls:
            matcher.fit(calls, known)
        corpus = _corpora[str(store.path)] = Corpus(key, calls, known, matcher)
        return corpus


@dataclass(frozen=True)
class ProfilePreview:
    """An edited profile against the saved one, as of a moment."""

    top: list[tuple[Call, float, tuple[str, ...]]]
    added: list[Call]
    removed: list[Call]
    digest_now: int
    digest_after: int
    hits: list[tuple[str, int]]
    open_calls: int


def preview_profile(
    store: Store, config: Config, edited: Department, now: datetime
) -> ProfilePreview:
    """Score every call that can still be applied for with the saved and the edited profile
    side by side, and compare this week's digests (as if none were sent this week)."""
    [current] = [d for d in config.departments if d.id == edited.id]
    [cut] = with_cutoffs((edited,), config.matching)
    twin = replace(cut, id=edited.id + EDITED)
    corpus = open_corpus(store, config, now)
    calls, known = corpus.calls, corpus.known
    if not calls:
        return ProfilePreview([], [], [], 0, 0, [(k, 0) for k in _keywords(edited)], 0)
    table = corpus.matcher.with_profiles([current, twin]).score(calls, known)
    by_id = {call.id: call for call in calls}
    matches = table.matches(now)
    before = _digest(store, config, current, edited.id, matches, by_id, now)
    after = _digest(store, config, twin, edited.id, matches, by_id, now)
    ranking = table.ranking(twin.id)[:TOP]
    column = [d.id for d in table.departments].index(twin.id)
    rows = {call.id: i for i, call in enumerate(table.calls)}
    top = [
        (
            by_id[call_id],
            float(table.final[rows[call_id], column]),
            tuple(term for term, _ in table.match(call_id, twin.id).terms),
        )
        for call_id in ranking
    ]
    return ProfilePreview(
        top=top,
        added=[by_id[c] for c in after if c not in before],
        removed=[by_id[c] for c in before if c not in after],
        digest_now=len(before),
        digest_after=len(after),
        hits=table.keyword_hits(twin.id),
        open_calls=len(calls),
    )


@dataclass(frozen=True)
class FocusAreaPreview:
    """An edited focus area against the saved one: each department's digest this week
    before and after (added and removed calls), and each keyword's hits among open calls."""

    digests: list[tuple[Department, list[Call], list[Call], int]]
    hits: list[tuple[str, int]]
    open_calls: int


def preview_focus_area(
    store: Store, config: Config, edited: FocusArea, now: datetime
) -> FocusAreaPreview:
    """Score the open calls with the saved focus areas and with the edited one in its place,
    and compare every department's digest of this week."""
    calls = store.matchable_calls(now)
    if not calls:
        empty = [(d, [], [], 0) for d in config.departments]
        return FocusAreaPreview(empty, [(k, 0) for k in _keywords(edited)], 0)
    areas = tuple(edited if area.id == edited.id else area for area in config.focus_areas)
    saved = Matcher(config.departments, config.focus_areas, config.matching)
    known = stored_analyses(store, saved, calls)
    before = saved.fit(calls, known).score(calls, known).matches(now)
    changed = Matcher(config.departments, areas, config.matching)
    after = changed.fit(calls, known).score(calls, known).matches(now)
    by_id = {call.id: call for call in calls}
    digests = []
    for department in config.departments:
        old = _digest(store, config, department, department.id, before, by_id, now)
        new = _digest(store, config, department, department.id, after, by_id, now)
        added = [by_id[c] for c in new if c not in old]
        removed = [by_id[c] for c in old if c not in new]
        digests.append((department, added, removed, len(new)))
    # The area's keywords as a profile of their own: which open calls hold each.
    probe = Department(
        id=edited.id,
        name=edited.name,
        description_sv=edited.description_sv,
        description_en=edited.description_en,
        keywords_sv=edited.keywords_sv,
        keywords_en=edited.keywords_en,
        negative_keywords=(),
        preferred_programmes=(),
        min_score=1.0,
        lead_time_days=0,
        recipients=(),
        digest_weekday="monday",
    )
    hits_table = Matcher([probe], (), config.matching).fit(calls, known).score(calls, known)
    return FocusAreaPreview(digests, hits_table.keyword_hits(probe.id), len(calls))


def _digest(
    store: Store,
    config: Config,
    department: Department,
    history_of: str,
    matches: list,
    by_id: dict[str, Call],
    now: datetime,
) -> list[str]:
    """The calls this week's digest of a department would show with these matches, as if
    none had been sent this week (``history_of``: whose earlier digests count)."""
    mine = [m for m in matches if m.department_id == department.id]
    counted = replace(department, id=history_of)
    calibrated = config.matching.model is not None
    _, shown = week_items(store, counted, mine, by_id, now, calibrated, iso_week(now))
    return [item.call.id for item in shown]


def _keywords(profile: Department | FocusArea) -> list[str]:
    """A profile's keywords, Swedish then English (what a preview counts hits of)."""
    return [*profile.keywords_sv, *profile.keywords_en]
