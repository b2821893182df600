"""Staff feedback as labels, and `eufunds train --feedback`, on a copy of week 34's real
database: feedback is recorded on the calls of its real digests by the departments' real
recipients; the verdicts themselves are hand-written (no real staff feedback exists yet).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from db import Store
from db.records import Feedback, Verdict
from eufunds.cli import main
from eufunds.config import Config
from eufunds.config_matching import parse_model
from eufunds.feedback_labels import combined_grade, feedback_labels, stored_feedback_labels
from tests.conftest import SHARED, SNAPSHOT_NOW
from tests.support.databases import copy_database, digests

RELEVANT, NOT_RELEVANT, APPLY = Verdict.RELEVANT, Verdict.NOT_RELEVANT, Verdict.APPLY


@pytest.fixture
def week(written_week, tmp_path) -> Iterator[Store]:
    """A writable copy of week 34's database, its digests sent."""
    with Store(copy_database(written_week.db_path, tmp_path / "week.db")) as store:
        yield store


def _digest(store: Store, department_id: str) -> tuple[int, list[str]]:
    """A department's week-34 digest id and the ids of the calls it held."""
    [digest] = [d for d in digests(store) if d.department_id == department_id]
    return digest.id, [call_id for call_id, _ in store.digest_call_ids(digest.id)]


def _say(store: Store, digest_id: int, department: str, call_id: str, who: str, verdict: str):
    """Record one recipient's verdict on one call of a digest, an hour after the snapshot."""
    at = SNAPSHOT_NOW + timedelta(hours=1)
    assert store.record_feedback(Feedback(digest_id, department, call_id, who, verdict, at))


@pytest.mark.parametrize(
    ("verdicts", "grade"),
    [
        ([RELEVANT], 1),
        ([NOT_RELEVANT], 0),
        ([APPLY], 2),
        ([RELEVANT, APPLY], 2),
        ([NOT_RELEVANT, NOT_RELEVANT, APPLY], 2),
        ([RELEVANT, RELEVANT, NOT_RELEVANT], 1),
        ([NOT_RELEVANT, NOT_RELEVANT, RELEVANT], 0),
        ([RELEVANT, NOT_RELEVANT], None),
    ],
)
def test_verdicts_combine_into_one_grade(verdicts, grade):
    """Apply from anyone wins; else the majority; a tie is no label."""
    assert combined_grade(verdicts) == grade


def test_stored_feedback_becomes_labels(week: Store, config: Config):
    """Three recipients of stadskontoret and one of social judge calls of their real
    digests: each pair gets the combined grade, a tie is left out, the calls are the
    stored ones, and a department the configuration lacks is skipped and counted."""
    office, office_calls = _digest(week, "stadskontoret")
    social, social_calls = _digest(week, "social")
    first, second, third = next(d for d in config.departments if d.id == "stadskontoret").recipients
    [social_recipient] = next(d for d in config.departments if d.id == "social").recipients
    a, b, c, d = office_calls[:4]
    for who, verdict in ((first, RELEVANT), (second, APPLY), (third, NOT_RELEVANT)):
        _say(week, office, "stadskontoret", a, who, verdict)
    for who, verdict in ((first, RELEVANT), (second, NOT_RELEVANT)):
        _say(week, office, "stadskontoret", b, who, verdict)
    for who, verdict in ((first, NOT_RELEVANT), (second, NOT_RELEVANT), (third, RELEVANT)):
        _say(week, office, "stadskontoret", c, who, verdict)
    _say(week, office, "stadskontoret", d, first, RELEVANT)
    _say(week, social, "social", social_calls[0], social_recipient, RELEVANT)

    departments = [d.id for d in config.departments]
    labels = stored_feedback_labels(week, departments)
    assert labels.labels == {
        a: {"stadskontoret": 2},
        c: {"stadskontoret": 0},
        d: {"stadskontoret": 1},
        social_calls[0]: {"social": 1},
    }
    assert (labels.verdicts, labels.ties, labels.unknown_departments) == (10, 1, 0)
    assert labels.pairs == 4
    stored = week.calls_by_id([a, c, d, social_calls[0]])
    assert {call.id: call for call in labels.calls} == stored
    assert dict(labels.grades) == {2: 1, 1: 2, 0: 1}

    without_social = stored_feedback_labels(week, [i for i in departments if i != "social"])
    assert without_social.unknown_departments == 1
    assert social_calls[0] not in without_social.labels
    assert without_social.pairs == 3


def test_a_recipients_newest_verdict_counts(week: Store, config: Config):
    """A call judged again in a later digest counts once per recipient, newest verdict
    first; verdicts on a call no longer stored are skipped and counted."""
    office, office_calls = _digest(week, "stadskontoret")
    call = week.calls_by_id(office_calls[:1])
    [call_id] = call
    who = "stadskontoret.eu@example.org"
    # A second digest (of a later week, hand-made here) held the same call again.
    older = Feedback(office, "stadskontoret", call_id, who, RELEVANT, SNAPSHOT_NOW)
    later = SNAPSHOT_NOW + timedelta(days=7)
    newer = Feedback(office + 100, "stadskontoret", call_id, who, NOT_RELEVANT, later)
    gone = Feedback(office, "stadskontoret", "ft_portal/NO-SUCH-CALL", who, APPLY, SNAPSHOT_NOW)
    labels = feedback_labels([older, newer, gone], call, [d.id for d in config.departments])
    assert labels.labels == {call_id: {"stadskontoret": 0}}
    assert labels.missing_calls == 1
    assert "1 labels (0 apply, 0 relevant, 1 not relevant) on 1 calls from 3 verdicts" in (
        labels.describe()
    )


def _judge_every_digest(store: Store, config: Config) -> int:
    """A recipient of each department judges every call of its week-34 digest: the first
    half relevant (the first of all "Vi vill söka"), the rest not (hand-written verdicts);
    how many pairs were judged."""
    recipients = {d.id: d.recipients[0] for d in config.departments}
    judged = 0
    for digest in digests(store):
        calls = [call_id for call_id, _ in store.digest_call_ids(digest.id)]
        judged += len(calls)
        for position, call_id in enumerate(calls):
            verdict = RELEVANT if position < len(calls) / 2 else NOT_RELEVANT
            verdict = APPLY if position == 0 else verdict
            who = recipients[digest.department_id]
            _say(store, digest.id, digest.department_id, call_id, who, verdict)
    return judged


def test_train_with_feedback_alone(week: Store, tmp_path: Path, config: Config):
    """`eufunds train --feedback` learns from the stored feedback only, writes model.json
    and says how many feedback labels it used."""
    judged = _judge_every_digest(week, config)
    expected = stored_feedback_labels(week, [d.id for d in config.departments])
    out = tmp_path / "model.json"
    result = CliRunner().invoke(
        main, ["train", "--feedback", "--db", str(week.path), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert expected.pairs == judged
    assert f"{judged} feedback labels used" in result.output
    assert f"feedback: {judged} labels" in result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["trained_on"]["feedback pairs"] == str(judged)
    assert document["trained_on"]["feedback"] == week.path.name
    assert "labels" not in document["trained_on"]
    assert document["trained_on"]["pairs"] == str(judged)


def test_feedback_alone_never_replaces_the_shipped_model(week: Store, config: Config):
    """Learnt from feedback alone the model ranks worse than none: without --out it is not
    written over config/model.json."""
    _judge_every_digest(week, config)
    shipped = (config.directory / "model.json").read_bytes()
    result = CliRunner().invoke(main, ["train", "--feedback", "--db", str(week.path)])
    assert result.exit_code == 2 and "needs --out FILE" in result.output
    assert (config.directory / "model.json").read_bytes() == shipped


def test_train_with_labels_and_feedback(week: Store, tmp_path: Path, config: Config):
    """--labels and --feedback together learn from the file's calls and the feedback's."""
    judged = _judge_every_digest(week, config)
    calls = len({f.call_id for f in week.feedback()})
    out = tmp_path / "model.json"
    dev = SHARED / "eval" / "dev.jsonl"
    result = CliRunner().invoke(
        main,
        ["train", "--labels", str(dev), "--feedback", "--db", str(week.path), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert f"{judged} feedback labels used" in result.output
    trained_on = json.loads(out.read_text(encoding="utf-8"))["trained_on"]
    assert trained_on["labels"] == "dev.jsonl"
    assert trained_on["calls"] == str(502 + calls)
    assert trained_on["pairs"] == str(502 * len(config.departments) + judged)
    assert parse_model(out, config.matching, config.departments).version in result.output


def test_too_little_feedback_is_one_clear_error(week: Store, tmp_path: Path):
    """--feedback alone with a few verdicts exits 1 with one line saying what is lacking,
    and writes no model."""
    office, office_calls = _digest(week, "stadskontoret")
    for call_id in office_calls[:3]:
        _say(week, office, "stadskontoret", call_id, "stadskontoret.eu@example.org", RELEVANT)
    out = tmp_path / "model.json"
    result = CliRunner().invoke(
        main, ["train", "--feedback", "--db", str(week.path), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "Error: cannot learn the model: 3 relevant and 0 not relevant labelled pairs on 3 "
        "calls; at least 5 of each on 5 calls are needed"
    )
    assert not out.exists()


def test_train_needs_labels_or_feedback(tmp_path: Path):
    """Neither --labels nor --feedback is a usage error."""
    result = CliRunner().invoke(main, ["train", "--out", str(tmp_path / "model.json")])
    assert result.exit_code == 2
    assert "give --labels FILE, --feedback, or both" in result.output


def test_no_feedback_at_all_is_one_clear_error(week: Store, tmp_path: Path):
    """--feedback alone on a database without feedback says there is nothing to learn from."""
    result = CliRunner().invoke(
        main, ["train", "--feedback", "--db", str(week.path), "--out", str(tmp_path / "m.json")]
    )
    assert result.exit_code == 1
    assert "feedback: 0 labels (0 apply, 0 relevant, 0 not relevant) on 0 calls" in result.output
    assert result.output.splitlines()[-1] == "Error: cannot learn the model: no labelled pairs"
