"""Matching stored calls: incremental runs on a real replayed crawl.

The database is the session's replayed crawl of the real snapshot in ../shared; every test
that writes works on its own copy. Scores depend on the profiles in
config/, which are being tuned, so the tests check counts, relations and what is stored,
never score values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from click.testing import CliRunner

from db import Store
from db.records import Call, Match
from eufunds.cli import main
from eufunds.matching import MatchOutcome, run_match
from matcher.analysis import CallAnalysis
from matcher.rank import Matcher, analyse_call, is_matchable, profile_version
from tests.support.databases import copy_database, stored_match, upsert_one

NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)
# `--as-of 2026-08-22` means noon in Stockholm.
AS_OF = datetime(2026, 8, 22, 12, tzinfo=ZoneInfo("Europe/Stockholm"))
LIFE_CALL = "ft_portal/LIFE-2026-SAP-CLIMA-CCA"
SUMMARY_LINE = re.compile(
    r"incremental match as of 2026-08-22: (\d+) open calls, (\d+) new or changed scored, "
    r"(\d+) profiles re-scored, (\d+) matches stored"
)


@dataclass(frozen=True)
class FirstRun:
    """The database after the first match run, what the run did, and what it stored."""

    db_path: Path
    outcome: MatchOutcome
    matchable: list[Call]
    matches: list[Match]


@pytest.fixture(scope="module")
def crawled_db(crawled_snapshot: Path) -> Path:
    """The session's replayed crawl of the real snapshot (never written: tests copy it)."""
    return crawled_snapshot


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, crawled_db, config) -> FirstRun:
    """The first match run on a copy of the crawled database, as of NOW."""
    db_path = copy_database(crawled_db, tmp_path_factory.mktemp("matched") / "matched.db")
    with Store(db_path) as store:
        outcome = run_match(store, config, NOW)
        matchable = store.matchable_calls(NOW)
        matches = store.matches()
    return FirstRun(db_path, outcome, matchable, matches)


@pytest.fixture
def fresh_store(crawled_db, tmp_path):
    """A copy of the crawled database, not matched yet."""
    with Store(copy_database(crawled_db, tmp_path / "fresh.db")) as store:
        yield store


@pytest.fixture
def matched_store(first_run, tmp_path):
    """A copy of the database after the first match run."""
    with Store(copy_database(first_run.db_path, tmp_path / "matched.db")) as store:
        yield store


def _change(store: Store, call_id: str, **fields) -> None:
    """Store a new version of a call, as a crawl that found it changed would."""
    call = store.get_call(call_id)
    assert upsert_one(store, replace(call, content_hash="", **fields), NOW) == "changed"


# run_match -----------------------------------------------------------------------------


def test_first_run_scores_every_matchable_call(first_run, config):
    """The first run scores every call that can still be applied for, for every department."""
    outcome, matchable = first_run.outcome, first_run.matchable
    assert len(matchable) > 0
    assert outcome.calls_considered == len(matchable)
    assert outcome.run.calls_scored == len(matchable)
    assert outcome.run.departments_rescored == [d.id for d in config.departments]
    assert outcome.run.mode == "incremental"


def test_first_run_stores_its_matches(first_run):
    """The run's count is what the database holds, and there is something to see."""
    outcome, matches = first_run.outcome, first_run.matches
    assert matches
    assert outcome.run.matches_stored == len(matches)
    assert len({m.department_id for m in matches}) > 1


def test_stored_matches_carry_their_reasons(first_run, config):
    """Every stored match names its keywords, reaches the minimum and records its version."""
    departments = {d.id: d for d in config.departments}
    for match in first_run.matches:
        department = departments[match.department_id]
        assert match.terms, match
        assert 0 < sum(share for _, share in match.terms) <= 1.01
        assert match.score >= department.min_score
        assert match.profile_version == profile_version(
            department, config.matching, config.focus_areas
        )


def test_stored_matches_are_for_matchable_calls(first_run):
    """No stored match is for a call that is closed or past every deadline."""
    matchable = {c.id for c in first_run.matchable}
    assert {m.call_id for m in first_run.matches} <= matchable


def test_second_run_changes_nothing(matched_store, config, first_run, monkeypatch):
    """Run again on the same calls and profiles: nothing scored, nothing stored or removed,
    and nothing fitted (an unchanged re-crawl costs no matching)."""
    from matcher.rank import Matcher

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted with nothing to score")

    monkeypatch.setattr(Matcher, "fit", no_fit)
    outcome = run_match(matched_store, config, NOW)
    assert outcome.run.calls_scored == 0
    assert outcome.run.departments_rescored == []
    assert outcome.run.matches_stored == 0
    assert outcome.run.matches_removed == 0
    assert matched_store.matches() == first_run.matches


def test_changed_profile_rescores_only_that_department(matched_store, config, first_run):
    """A department whose profile changed is re-scored on every call; no other is."""
    changed = config.departments[0]
    changed = replace(changed, keywords_en={**changed.keywords_en, "stormwater management": 2.5})
    departments = (changed, *config.departments[1:])
    outcome = run_match(matched_store, replace(config, departments=departments), NOW)
    assert outcome.run.departments_rescored == [changed.id]
    assert outcome.run.calls_scored == 0
    others_before = [m for m in first_run.matches if m.department_id != changed.id]
    assert [m for m in matched_store.matches() if m.department_id != changed.id] == others_before
    version = profile_version(changed, config.matching, config.focus_areas)
    assert version != profile_version(config.departments[0], config.matching, config.focus_areas)
    assert {m.profile_version for m in matched_store.matches(changed.id)} <= {version}


def test_changed_call_is_rescored(matched_store, config, first_run):
    """A call whose content changed is scored again for every department, alone."""
    # An unmatched call takes the text of the best match of the run, so it is matched now.
    matchable, matches = first_run.matchable, first_run.matches
    best = max(matches, key=lambda m: m.score)
    matched_ids = {m.call_id for m in matches}
    unmatched = next(c for c in matchable if c.id not in matched_ids)
    model = matched_store.get_call(best.call_id)
    _change(
        matched_store,
        unmatched.id,
        title=model.title,
        summary=model.summary,
        programme=model.programme,
        programme_divisions=model.programme_divisions,
        call_title=model.call_title,
        type_of_action=model.type_of_action,
    )
    outcome = run_match(matched_store, config, NOW)
    assert outcome.run.calls_scored == 1
    assert outcome.run.departments_rescored == []
    assert stored_match(matched_store, unmatched.id, best.department_id) is not None
    assert [m for m in matched_store.matches() if m.call_id != unmatched.id] == matches


def test_closed_and_expired_calls_get_no_matches(fresh_store, config, first_run):
    """Calls that would match but are closed, or past every deadline, are never stored."""
    matched = sorted({m.call_id for m in first_run.matches})
    closed, expired = matched[0], matched[1]
    _change(fresh_store, closed, status="closed")
    past = NOW - timedelta(days=1)
    _change(fresh_store, expired, deadlines=[past], next_deadline=past)
    run_match(fresh_store, config, NOW)
    stored = {m.call_id for m in fresh_store.matches()}
    assert stored
    assert closed not in stored and expired not in stored
    assert all(is_matchable(fresh_store.get_call(call_id), NOW) for call_id in stored)


def test_matches_of_a_call_closed_later_are_removed(matched_store, config, first_run):
    """A matched call that a later crawl finds closed leaves the current matches, kept expired."""
    closed = first_run.matches[0].call_id
    _change(matched_store, closed, status="closed")
    run_match(matched_store, config, NOW)
    stored = {m.call_id for m in matched_store.matches()}
    assert stored
    assert closed not in stored
    assert closed in {m.call_id for m in matched_store.matches(include_expired=True)}


def test_matches_of_expired_calls_are_removed_as_time_passes(matched_store, config, first_run):
    """A run after some deadlines passed leaves only matches of calls still matchable."""
    later = NOW + timedelta(days=40)
    expired = {
        m.call_id
        for m in first_run.matches
        if not is_matchable(matched_store.get_call(m.call_id), later)
    }
    assert expired
    run_match(matched_store, config, later)
    left = matched_store.matches()
    assert expired.isdisjoint(m.call_id for m in left)
    # The matches of the calls still open are those of the first run, as they were.
    assert left == [m for m in first_run.matches if m.call_id not in expired]


def test_changed_focus_areas_rescore_the_matches(matched_store, config, first_run):
    """Without focus areas, a new run leaves no match with a focus score."""
    assert any(m.focus_score > 0 for m in first_run.matches)
    run_match(matched_store, replace(config, focus_areas=()), NOW)
    assert matched_store.matches()
    assert all(m.focus_score == 0 for m in matched_store.matches())


def test_call_analyses_are_kept_and_reused(matched_store, config, first_run):
    """Every matchable call's analysis is stored once and read back unchanged."""
    matcher = Matcher(config.departments, config.focus_areas, config.matching)
    stored = matched_store.call_analyses(matcher.analyser.version)
    assert set(stored) == {call.id for call in first_run.matchable}
    call = first_run.matchable[0]
    content, fields = stored[call.id]
    assert content == call.content_hash
    again = analyse_call(call, matcher.analyser)
    kept = CallAnalysis.from_fields(fields)
    assert np.array_equal(kept.keys, again.keys)
    assert np.array_equal(kept.counts, again.counts)
    assert kept.rules == again.rules


def test_other_analysis_version_is_not_reused(matched_store, config):
    """Analyses made with other settings (another title weight) are not read back."""
    tuned = replace(config.matching, title_weight=config.matching.title_weight + 1)
    matcher = Matcher(config.departments, config.focus_areas, tuned)
    assert matched_store.call_analyses(matcher.analyser.version) == {}


def test_full_run_rescores_everything(matched_store, config, first_run):
    """--full scores every call for every department again and stores the same matches."""
    outcome = run_match(matched_store, config, NOW, full=True)
    assert outcome.run.mode == "full"
    assert outcome.run.calls_scored == len(first_run.matchable)
    assert outcome.run.departments_rescored == [d.id for d in config.departments]
    assert matched_store.matches() == first_run.matches


def test_match_command_prints_the_counts(crawled_db, tmp_path, config):
    """`eufunds match --as-of 2026-08-22` prints one line with the run's counts."""
    db_path = copy_database(crawled_db, tmp_path / "cli.db")
    arguments = ["match", "--as-of", "2026-08-22", "--db", str(db_path)]
    first = CliRunner().invoke(main, arguments)
    assert first.exit_code == 0, first.output
    with Store(db_path) as store:
        open_calls = len(store.matchable_calls(AS_OF))
        stored = len(store.matches())
    counts = [int(n) for n in SUMMARY_LINE.search(first.output).groups()]
    assert counts == [open_calls, open_calls, len(config.departments), stored]
    again = CliRunner().invoke(main, arguments)
    assert [int(n) for n in SUMMARY_LINE.search(again.output).groups()] == [open_calls, 0, 0, 0]
