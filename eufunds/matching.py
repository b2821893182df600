"""Match stored calls to departments (incrementally), and explain one match."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from db import Call, Match, MatchRun, Store
from db.records import MatchMode
from eufunds.config import Config

# The matcher (numpy, scipy) is imported when a command matches, not with every command.
if TYPE_CHECKING:
    from matcher.analysis import CallAnalysis
    from matcher.rank import Explanation, Matcher, ScoreTable


class MatchingError(Exception):
    """Matching gave no usable result; nothing was stored."""


@dataclass(frozen=True)
class MatchOutcome:
    """What a match run did."""

    run: MatchRun
    calls_considered: int


def run_match(store: Store, config: Config, now: datetime, full: bool = False) -> MatchOutcome:
    """Score new and changed calls for every department, and every call for changed profiles.

    Term weights are learnt from all calls that can still be applied for, so scores stay
    comparable between runs over the same corpus; ``full`` re-scores everything.
    """
    from matcher.rank import Matcher

    started = datetime.now(UTC)
    store.sync_config(config.sources, config.departments, config.focus_areas, started)
    matcher = Matcher(config.departments, config.focus_areas, config.matching)
    hashes = store.matchable_hashes(now)
    scored = store.scored_hashes()
    versions = store.matched_versions()
    rescored = [
        d.id for d in config.departments if full or versions.get(d.id) != matcher.versions[d.id]
    ]
    changed_ids = {i for i, content in hashes.items() if full or scored.get(i) != content}
    calls: list[Call] = []
    known: dict[str, CallAnalysis] = {}
    # Nothing new to score (no call changed, no profile): no calls read, no fit, only the
    # record of the run and the matches of calls that can no longer be applied for ended.
    if changed_ids or rescored:
        calls = store.matchable_calls(now)
        known = stored_analyses(store, matcher, calls)
        matcher.fit(calls, known)
        _store_new_analyses(store, matcher, calls, known)
    changed = [c for c in calls if c.id in changed_ids]
    matches: list[Match] = []
    if changed:
        matches += _finite(matcher.score(changed, known)).matches(now, release=True)
    changed_ids = {c.id for c in changed}
    unchanged = [c for c in calls if c.id not in changed_ids]
    if rescored and unchanged:
        wanted = set(rescored)
        rescoring = _finite(matcher.score(unchanged, known)).matches(now, release=True)
        matches += [m for m in rescoring if m.department_id in wanted]
    run = store.save_matches(
        matches,
        changed_calls=changed,
        rescored_departments=rescored,
        matchable_ids=list(hashes),
        versions=matcher.versions,
        mode=MatchMode.FULL if full else MatchMode.INCREMENTAL,
        started=started,
        now=datetime.now(UTC),
    )
    return MatchOutcome(run, len(hashes))


def _finite(table: ScoreTable) -> ScoreTable:
    """The table, when every score in it is a finite number; else a MatchingError, so that
    scores that mean nothing never replace the stored matches."""
    import numpy as np

    scores = table.final
    if not np.isfinite(scores).all():
        bad = int((~np.isfinite(scores)).sum())
        raise MatchingError(
            f"matching gave {bad} scores that are not finite numbers; the stored matches are "
            "kept (check the weights in config/matching.toml and the focus areas)"
        )
    return table


def stored_analyses(store: Store, matcher: Matcher, calls: list[Call]) -> dict[str, CallAnalysis]:
    """Analyses kept from earlier runs that still fit the call's content and the analyser."""
    from matcher.analysis import CallAnalysis

    stored = store.call_analyses(matcher.analyser.version)
    hashes = {call.id: call.content_hash for call in calls}
    return {
        call_id: CallAnalysis.from_fields(fields)
        for call_id, (content, fields) in stored.items()
        if hashes.get(call_id) == content
    }


def _store_new_analyses(
    store: Store, matcher: Matcher, calls: list[Call], known: dict[str, CallAnalysis]
) -> None:
    """Keep the analyses made in this run for the next one."""
    fresh = [
        (call.id, call.content_hash, matcher.analyser.version, analysis.to_fields())
        for call, analysis in zip(calls, matcher.analyses(calls, known), strict=True)
        if call.id not in known
    ]
    if fresh:
        store.save_call_analyses(fresh)


def explain(
    store: Store, config: Config, call_id: str, department_id: str, now: datetime
) -> tuple[Explanation, int, int]:
    """Score one stored call for one department against today's corpus; return the details.

    The details come with the call's rank for the department and how many calls were ranked.
    """
    from matcher.rank import Matcher

    call = store.get_call(call_id)
    if call is None:
        raise LookupError(f"no call with id {call_id!r}")
    department_ids = [d.id for d in config.departments]
    if department_id not in department_ids:
        raise LookupError(f"no department {department_id!r} (known: {', '.join(department_ids)})")
    corpus = store.matchable_calls(now)
    if all(c.id != call.id for c in corpus):
        corpus.append(call)
    matcher = Matcher(config.departments, config.focus_areas, config.matching).fit(corpus)
    table = matcher.score(corpus)
    rank = table.ranking(department_id).index(call.id) + 1
    return table.explain(call.id, department_id, now), rank, len(corpus)
