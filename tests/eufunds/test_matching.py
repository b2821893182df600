"""Matching stored calls: incremental runs on a real replayed crawl, explain, evaluate.

The database is filled once per module by `eufunds crawl --replay` from the real snapshot in
../shared; every test that writes works on its own copy. Scores depend on the profiles in
config/, which are being tuned, so the tests check counts, relations and what is stored,
never score values.
"""

from __future__ import annotations

import json
import re
import sqlite3
import tomllib
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from click.testing import CliRunner

from db import Store
from db.records import Call, Department, Match
from eufunds.cli import main
from eufunds.config import load_config
from eufunds.matching import MatchOutcome, evaluate, explain, read_labelled_calls, run_match
from matcher.analysis import CallAnalysis
from matcher.rank import Matcher, analyse_call, is_matchable, profile_version
from tests.conftest import SHARED

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


def _copy(source: Path, target: Path) -> Path:
    """A consistent copy of a SQLite database, through the backup API."""
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)
    return target


@pytest.fixture(scope="module")
def config():
    """The configuration in config/."""
    return load_config()


@pytest.fixture(scope="module")
def crawled_db(tmp_path_factory, snapshot_dir) -> Path:
    """A database filled by `eufunds crawl --replay` from the real snapshot (never written)."""
    db_path = tmp_path_factory.mktemp("crawled") / "crawled.db"
    result = CliRunner().invoke(
        main, ["crawl", "--replay", str(snapshot_dir), "--db", str(db_path)]
    )
    assert result.exit_code == 0, result.output
    return db_path


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, crawled_db, config) -> FirstRun:
    """The first match run on a copy of the crawled database, as of NOW."""
    db_path = _copy(crawled_db, tmp_path_factory.mktemp("matched") / "matched.db")
    with Store(db_path) as store:
        outcome = run_match(store, config, NOW)
        matchable = store.matchable_calls(NOW)
        matches = store.matches()
    return FirstRun(db_path, outcome, matchable, matches)


@pytest.fixture
def fresh_store(crawled_db, tmp_path):
    """A copy of the crawled database, not matched yet."""
    with Store(_copy(crawled_db, tmp_path / "fresh.db")) as store:
        yield store


@pytest.fixture
def matched_store(first_run, tmp_path):
    """A copy of the database after the first match run."""
    with Store(_copy(first_run.db_path, tmp_path / "matched.db")) as store:
        yield store


def _change(store: Store, call_id: str, **fields) -> None:
    """Store a new version of a call, as a crawl that found it changed would."""
    call = store.get_call(call_id)
    assert store.upsert_call(replace(call, content_hash="", **fields), NOW) == "changed"


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


def test_second_run_changes_nothing(matched_store, config, first_run):
    """Run again on the same calls and profiles: nothing scored, nothing stored or removed."""
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
    assert matched_store.get_match(unmatched.id, best.department_id) is not None
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
    assert expired.isdisjoint(m.call_id for m in matched_store.matches())


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
    assert np.array_equal(kept.indices, again.indices)
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
    db_path = _copy(crawled_db, tmp_path / "cli.db")
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


# explain -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def explained(crawled_db, config):
    """The LIFE call explained for a department preferring LIFE: by the library and the CLI."""
    department = next(d for d in config.departments if "LIFE" in d.preferred_programmes)
    with Store(crawled_db) as store:
        details, rank, total = explain(store, config, LIFE_CALL, department.id, AS_OF)
    result = CliRunner().invoke(
        main,
        [
            "explain",
            LIFE_CALL,
            "--department",
            department.id,
            "--as-of",
            "2026-08-22",
            "--db",
            str(crawled_db),
        ],
    )
    return details, rank, total, result


def test_explain_names_the_call_and_department(explained):
    """The explanation starts with the call's title and id and the department."""
    details, _, _, result = explained
    assert result.exit_code == 0, result.output
    assert f"{details.call.title} ({LIFE_CALL})" in result.output
    assert f"for {details.department.name} ({details.department.id})" in result.output


def test_explain_prints_score_rank_and_parts(explained):
    """The score, its rank among the open calls, and text and focus scores are printed."""
    details, rank, total, result = explained
    m = details.match
    assert f"score {m.score:.4f}" in result.output
    assert f"rank {rank} of {total} calls" in result.output
    assert f"text score {m.text_score:.4f}" in result.output
    assert f"focus score {m.focus_score:.4f}" in result.output


def test_explain_prints_the_factors(explained):
    """Each factor applied (here at least the preferred programme) is a line of its own."""
    details, _, _, result = explained
    assert "preferred-programme" in [flag for flag, _ in details.factors]
    for flag, factor in details.factors:
        assert f"factor {factor:g}: {flag}" in result.output.splitlines()


def test_explain_prints_the_keywords_table(explained):
    """The keywords behind the text score are listed with their shares."""
    details, _, _, result = explained
    assert "Profile keywords found in the call" in result.output
    assert details.match.terms
    for term, share in details.match.terms:
        assert re.search(rf"{re.escape(term)}\s.*\s{share:.0%}", result.output), term


def test_explain_prints_the_focus_areas(explained, config):
    """Every strategy focus area is listed with its score."""
    _, _, _, result = explained
    assert "Strategy focus areas" in result.output
    for area in config.focus_areas:
        assert area.name in result.output


def test_explain_says_when_a_call_cannot_be_matched(crawled_db, config):
    """As of a day after a call's last deadline, explain says it will not be matched."""
    with Store(crawled_db) as store:
        call = min((c for c in store.list_calls() if c.deadlines), key=lambda c: max(c.deadlines))
    day_after = (max(call.deadlines) + timedelta(days=1)).astimezone(ZoneInfo("Europe/Stockholm"))
    result = CliRunner().invoke(
        main,
        [
            "explain",
            call.id,
            "--department",
            config.departments[0].id,
            "--as-of",
            f"{day_after:%Y-%m-%d}",
            "--db",
            str(crawled_db),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "not matched: the call is closed or every deadline has passed" in result.output


def test_explain_unknown_call_is_one_clear_line(crawled_db, config):
    """An unknown call id exits 1 with one line naming it."""
    result = CliRunner().invoke(
        main,
        ["explain", "ft_portal/NOPE", "--department", config.departments[0].id]
        + ["--db", str(crawled_db)],
    )
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no call with id 'ft_portal/NOPE'"


def test_explain_unknown_department_is_one_clear_line(crawled_db, config):
    """An unknown department exits 1 with one line listing the known ones."""
    result = CliRunner().invoke(
        main, ["explain", LIFE_CALL, "--department", "nowhere", "--db", str(crawled_db)]
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: no department 'nowhere' (known: ")
    assert all(d.id in lines[0] for d in config.departments)


# evaluate ------------------------------------------------------------------------------

# Five real calls of ../shared/research/calls.jsonl (their text read at test time).
TINY = {
    "c1": "HORIZON-MISS-2026-01-CLIMA-02",  # climate adaptation of regions
    "c2": "HORIZON-EURATOM-LS-2026-01-05",  # isotopes for nuclear medicine
    "c3": "EuropeAid/186723/DD/ACT/EG",  # children with disabilities, Egypt
    "c4": "SMP-COSME-2024-CLUSTER-01#12906COMPETITIVE_CALLen",  # civil drones
    "c5": "framjaenergieffektivitetismalandochoarna.11970",  # energieffektivitet, Småland
}
# Hand-written labels for two hand-written departments.
TINY_LABELS = {
    "c1": {"hand-a": 2},
    "c2": {},
    "c3": {"hand-a": 1, "hand-b": 0},
    "c4": {"hand-b": 1},
    "c5": {"hand-b": 2},
}


def _tiny_department(department_id: str, keyword: str) -> Department:
    """A hand-written profile of one English keyword, with a minimum score near zero."""
    return Department(
        id=department_id,
        name=department_id,
        description_sv="",
        description_en="",
        keywords_sv={},
        keywords_en={keyword: 1.0},
        negative_keywords=(),
        preferred_programmes=(),
        min_score=0.001,
        lead_time_days=21,
        recipients=("test@example.org",),
        digest_weekday="monday",
    )


@pytest.fixture(scope="module")
def tiny_rows() -> dict[str, dict]:
    """The five real calls of the tiny labelled file, by their short names."""
    wanted = {call_id: name for name, call_id in TINY.items()}
    rows = {}
    with (SHARED / "research" / "calls.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["id"] in wanted:
                rows[wanted[row["id"]]] = row
    assert set(rows) == set(TINY)
    return rows


@pytest.fixture(scope="module")
def tiny_labels(tmp_path_factory, tiny_rows) -> Path:
    """A hand-written labelled JSONL (format of shared/eval/dev.jsonl) of five real calls."""
    path = tmp_path_factory.mktemp("labels") / "tiny.jsonl"
    lines = []
    for name in TINY:
        row = tiny_rows[name]
        fields = {key: row[key] for key in ("id", "title", "programme", "description", "url")}
        labels = TINY_LABELS[name]
        lines.append(json.dumps(fields | {"labels": labels}, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_labelled_calls(tiny_labels, tiny_rows):
    """Each line becomes a call (language left to detect) and its grades per department."""
    calls, labels = read_labelled_calls(tiny_labels)
    assert [c.id for c in calls] == list(TINY.values())
    assert calls[0].title == tiny_rows["c1"]["title"]
    assert calls[0].summary == tiny_rows["c1"]["description"]
    assert {c.language for c in calls} == {""}
    assert labels[TINY["c3"]] == {"hand-a": 1, "hand-b": 0}
    assert labels[TINY["c2"]] == {}


@pytest.mark.parametrize(
    "bad_line",
    [
        '{"id": "x", "title": "unfinished',
        '{"id": "x"}',
        '{"id": "x", "title": "t", "labels": {"hand-a": "high"}}',
        '["x", "t"]',
    ],
    ids=["bad-json", "no-title", "bad-grade", "not-an-object"],
)
def test_malformed_line_is_named(tmp_path, tiny_labels, bad_line):
    """A malformed line is reported with the file and its line number (blank lines count)."""
    good = tiny_labels.read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{good}\n\n{bad_line}\n{good}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}:3: not a labelled call"):
        read_labelled_calls(path)


def test_empty_labelled_file_is_an_error(tmp_path):
    """A file without calls is an error, not an evaluation of nothing."""
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no labelled calls"):
        read_labelled_calls(path)


@pytest.fixture(scope="module")
def tiny_evaluation(tiny_labels, tiny_rows, config):
    """evaluate() on the tiny file for two hand-written departments."""
    # hand-a's keyword occurs only in c1, hand-b's only in c4, so each department scores one
    # call above zero and ranks the rest, all at zero, in file order (the ranking sorts
    # stably). That makes its metrics computable by hand.
    for name, keyword in (("c1", "adaptation"), ("c4", "drone")):
        holders = [
            n
            for n, row in tiny_rows.items()
            if keyword in f"{row['title']} {row['programme']} {row['description']}".lower()
        ]
        assert holders == [name]
    departments = (_tiny_department("hand-a", "adaptation"), _tiny_department("hand-b", "drones"))
    calls, labels = read_labelled_calls(tiny_labels)
    return evaluate(replace(config, departments=departments), calls, labels)


def test_evaluate_rankings(tiny_evaluation):
    """The department whose keyword a call contains ranks it first; the rest keep file order."""
    c1, c2, c3, c4, c5 = TINY.values()
    assert tiny_evaluation.rankings == {
        "hand-a": [c1, c2, c3, c4, c5],
        "hand-b": [c4, c1, c2, c3, c5],
    }
    assert tiny_evaluation.digests == {"hand-a": [c1], "hand-b": [c4]}


def test_evaluate_metrics_by_hand(tiny_evaluation):
    """Metrics of both departments against values computed by hand."""
    # hand-a: ranking c1 c2 c3 c4 c5, grades c1=2 c3=1 (2 relevant)
    #     DCG  = (2^2-1)/log2(2) + (2^1-1)/log2(4) = 3 + 0.5 = 3.5
    #     IDCG = (2^2-1)/log2(2) + (2^1-1)/log2(3) = 3 + 0.63093 = 3.63093
    #     nDCG@10 = 3.5 / 3.63093 = 0.96394; P@5 = 2/5 = 0.4; R@20 = 2/2 = 1
    #     digest [c1]: precision 1/1 = 1, recall 1/2 = 0.5
    # hand-b: ranking c4 c1 c2 c3 c5, grades c4=1 c5=2 c3=0 (2 relevant)
    #     DCG  = (2^1-1)/log2(2) + (2^2-1)/log2(6) = 1 + 3/2.58496 = 1 + 1.16056 = 2.16056
    #     IDCG = (2^2-1)/log2(2) + (2^1-1)/log2(3) = 3 + 0.63093 = 3.63093
    #     nDCG@10 = 2.16056 / 3.63093 = 0.59504; P@5 = 2/5 = 0.4; R@20 = 2/2 = 1
    #     digest [c4]: precision 1/1 = 1, recall 1/2 = 0.5
    quality = {q.department_id: q for q in tiny_evaluation.departments}
    expected_ndcg = {"hand-a": 0.96394, "hand-b": 0.59504}
    for department_id, q in quality.items():
        assert q.relevant == 2
        assert q.ndcg10 == pytest.approx(expected_ndcg[department_id], abs=1e-5)
        assert q.p5 == pytest.approx(0.4)
        assert q.r20 == pytest.approx(1.0)
        assert q.digest_size == 1
        assert q.digest_precision == pytest.approx(1.0)
        assert q.digest_recall == pytest.approx(0.5)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, tiny_labels):
    """`eufunds evaluate` on the tiny file with the real configuration."""
    out = tmp_path_factory.mktemp("evaluate") / "out.json"
    result = CliRunner().invoke(
        main, ["evaluate", "--labels", str(tiny_labels), "--rankings-out", str(out)]
    )
    return result, out


def _eval_department_ids() -> set[str]:
    """The department ids the labelled sets in shared/eval refer to."""
    with (SHARED / "eval" / "departments.toml").open("rb") as handle:
        return {d["id"] for d in tomllib.load(handle)["department"]}


def test_evaluate_command_prints_the_metrics(evaluated, config):
    """The table has nDCG@10, P@5 and R@20, a row per department and a mean row."""
    result, _ = evaluated
    assert result.exit_code == 0, result.output
    assert "5 calls" in result.output
    for column in ("nDCG@10", "P@5", "R@20"):
        assert column in result.output
    for department in config.departments:
        assert re.search(rf"^\W*{re.escape(department.id)}\s", result.output, re.MULTILINE)
    assert re.search(r"^\W*mean\s", result.output, re.MULTILINE)


def test_evaluate_command_writes_rankings_and_digests(evaluated):
    """The JSON holds a full ranking and a digest for each of the 13 labelled departments."""
    result, out = evaluated
    assert f"rankings written to {out}" in result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert set(document) == {"rankings", "digest"}
    departments = _eval_department_ids()
    assert len(departments) == 13
    assert set(document["rankings"]) == departments
    assert set(document["digest"]) == departments
    for ranking in document["rankings"].values():
        assert sorted(ranking) == sorted(TINY.values())
    for digest in document["digest"].values():
        assert set(digest) <= set(TINY.values())


def test_evaluate_command_malformed_file_is_one_clear_line(tmp_path):
    """A malformed labelled file exits 1 with one line naming the line."""
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x", "title": "t"}\n{oops\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", "--labels", str(path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {path}:2: not a labelled call")
