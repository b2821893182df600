"""Explaining a match: why a stored call scored as it did for a department (library, CLI).

The database is the session's replayed crawl of the real snapshot in ../shared; every test
that writes works on its own copy. Scores depend on the profiles in
config/, which are being tuned, so the tests check counts, relations and what is stored,
never score values.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from db import Store
from eufunds.cli import main
from eufunds.matching import explain

# `--as-of 2026-08-22` means noon in Stockholm.
AS_OF = datetime(2026, 8, 22, 12, tzinfo=ZoneInfo("Europe/Stockholm"))
LIFE_CALL = "ft_portal/LIFE-2026-SAP-CLIMA-CCA"


@pytest.fixture(scope="module")
def crawled_db(crawled_snapshot: Path) -> Path:
    """The session's replayed crawl of the real snapshot (never written: tests copy it)."""
    return crawled_snapshot


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


def test_explain_prints_what_the_learnt_model_adds(explained, config):
    """With the shipped model, the score is its probability: the log-odds are the sum of the
    intercept, the log of the configured score and the call's programme, each printed."""
    details, _, _, result = explained
    model = config.matching.model
    assert model is not None
    names = [name for name, _ in details.learnt]
    assert names[0] == "intercept"
    assert set(names[1:]) == {"log-score", "programme:LIFE"}
    log_odds = sum(value for _, value in details.learnt)
    assert details.match.score == pytest.approx(1 / (1 + math.exp(-log_odds)), abs=1e-4)
    assert f"configured score {details.configured_score:.4f} =" in result.output
    assert "probability from the learnt model (config/model.json)" in result.output
