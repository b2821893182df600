"""Evaluating matching on labelled calls: reading the labels, the metrics, the command.

Five real calls of ../shared/research/calls.jsonl (read at test time) carry hand-written
labels for two hand-written departments, so every metric can be checked by hand.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from db.records import Department
from eufunds.cli import main
from eufunds.learning import cross_validate, evaluate, read_labelled_calls
from tests.conftest import SHARED

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
    """Each line becomes a call (language left to detect, regions read from Swedish text)
    and its grades per department."""
    calls, labels = read_labelled_calls(tiny_labels)
    assert [c.id for c in calls] == list(TINY.values())
    assert calls[0].title == tiny_rows["c1"]["title"]
    assert calls[0].summary == tiny_rows["c1"]["description"]
    assert {c.language for c in calls} == {""}
    # Regions as the crawl reads them from a Swedish call's text; English calls get none.
    assert [c.regions for c in calls] == [[], [], [], [], ["SE21"]]
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
    # Scores as configured, without the shipped model (its programme priors would reorder
    # the calls at zero).
    plain = replace(config, departments=departments, matching=replace(config.matching, model=None))
    return evaluate(plain, calls, labels)


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


def test_evaluate_learns_nothing_from_the_labels(tiny_labels, config):
    """Without --cv the rankings and digests are the configuration's (and its shipped
    model's): other labels for the same calls change the metrics, never the rankings."""
    calls, labels = read_labelled_calls(tiny_labels)
    flipped = {call_id: {"stadskontoret": 2} for call_id in labels}
    first, second = evaluate(config, calls, labels), evaluate(config, calls, flipped)
    assert first.rankings == second.rankings
    assert first.digests == second.digests


def test_cross_validation_reports_reliability(config):
    """evaluate --cv on the dev set: every pair is in a reliability band, and the digest is
    measured over all department-call pairs."""
    calls, labels = read_labelled_calls(SHARED / "eval" / "dev.jsonl")
    result = cross_validate(config, calls, labels, folds=3)
    assert sum(band.pairs for band in result.bands) == len(calls) * len(config.departments)
    precision, recall = result.micro
    assert 0 < precision <= 1 and 0 < recall <= 1


def test_cross_validation_folds_follow_the_seed(config):
    """The same seed gives the same folds and numbers; another seed shuffles calls into other
    folds, so models learnt on other labels rank some department otherwise."""
    calls, labels = read_labelled_calls(SHARED / "eval" / "dev.jsonl")
    first = cross_validate(config, calls, labels, folds=3, seed=1)
    again = cross_validate(config, calls, labels, folds=3, seed=1)
    other = cross_validate(config, calls, labels, folds=3, seed=2)
    assert first.rankings == again.rankings and first.micro == again.micro
    assert first.rankings != other.rankings
