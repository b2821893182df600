"""One bad field costs at most its item, or the field itself: never a page, never a stored value.

A writable copy of the saved answers gets one fault per result on page 2 (hand-made from the
real rows: a result that is not an object, deadlines that are no dates, a 10 MB description,
a 1 MB title, an opening date that is no date), and is crawled, replayed through the real
crawler, onto a copy of the session's crawl of the clean snapshot.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.pipelines import MAX_LINE, MAX_SUMMARY
from db import Call, CrawlRun, Store
from eufunds.crawling import CrawlOptions, crawl
from tests.conftest import SNAPSHOT_CALLS, SNAPSHOT_NOW
from tests.support.databases import copy_database

PAGE = 2
# Faults by position on page 2; each result keeps its identifier unless the fault removes it.
NOT_AN_OBJECT, INTEGER_DEADLINE, MONTH_13, DAY_FIRST, EMPTY_DEADLINE = 0, 1, 2, 3, 4
HUGE_DESCRIPTION, HUGE_TITLE, BAD_OPENING = 5, 6, 7
YEAR_ONE, YEAR_9999, DEADLINE_NOT_A_LIST = 8, 9, 10
NULL_IDENTIFIER, NULL_TITLE, INFINITE_BUDGET, HUGE_BUDGET = 11, 12, 13, 14
NUMBER_URL, BIDI_URL, BIDI_REFERENCE = 15, 16, 92
BAD_DEADLINES = {
    INTEGER_DEADLINE: 20271201,
    MONTH_13: "2027-13-45",
    DAY_FIRST: "01/12/2027",
    YEAR_ONE: "0001-01-01T00:00:00.000+0100",
    YEAR_9999: "9999-12-31T23:30:00Z",
}
KEPT_DEADLINES = [*BAD_DEADLINES, EMPTY_DEADLINE, DEADLINE_NOT_A_LIST]
UNNAMED_DIVISION = 73  # in the facet list: a division only one call of the snapshot has


@dataclass(frozen=True)
class FaultyCrawl:
    """The crawl of the faulty answers: its run, the calls before and after, and their ids."""

    run: CrawlRun
    before: dict[str, Call]
    after: dict[str, Call]
    ids: dict[int, str]


def _call_id(row: dict) -> str:
    metadata = row["metadata"]
    stable_id = f"ft_portal/{metadata['identifier'][0]}"
    return stable_id + (f"#{row['reference']}" if metadata["type"][0] == "8" else "")


@pytest.fixture(scope="module")
def faulty(tmp_path_factory, snapshot_dir: Path, crawled_snapshot: Path, config) -> FaultyCrawl:
    """Page 2 with one fault per result, crawled onto the clean crawl of the snapshot."""
    folder = tmp_path_factory.mktemp("faulty")
    shutil.copytree(snapshot_dir / "ft_portal", folder / "replay" / "ft_portal")
    page_path = folder / "replay" / "ft_portal" / f"search-page-{PAGE}.json"
    page_path.chmod(0o644)
    (folder / "replay" / "ft_portal").chmod(0o755)
    page = json.loads(page_path.read_text("utf-8"))
    rows = page["results"]
    ids = {position: _call_id(rows[position]) for position in [*range(17), BIDI_REFERENCE]}
    rows[NOT_AN_OBJECT]["metadata"] = "not an object"
    rows[DEADLINE_NOT_A_LIST]["metadata"]["deadlineDate"] = ""
    rows[NULL_IDENTIFIER]["metadata"]["identifier"] = [None]
    rows[NULL_TITLE]["metadata"]["title"] = [None]
    rows[NUMBER_URL]["url"] = 12345
    rows[BIDI_URL]["url"] = "https://example.org/\u202eexe.png"
    rows[BIDI_REFERENCE]["reference"] = "\u202e" + rows[BIDI_REFERENCE]["reference"]
    for position, amount in ((INFINITE_BUDGET, "1e400"), (HUGE_BUDGET, 1e30)):
        metadata = rows[position]["metadata"]
        overview = json.loads(metadata["budgetOverview"][0])
        for group in overview["budgetTopicActionMap"].values():
            for action in group:
                action["budgetYearMap"] = {"2027": amount}
        metadata["budgetOverview"] = [json.dumps(overview)]
    for position, value in BAD_DEADLINES.items():
        rows[position]["metadata"]["deadlineDate"] = [value]
    rows[EMPTY_DEADLINE]["metadata"]["deadlineDate"] = [""]
    words = "Municipalities and regions cooperate on climate adaptation. " * 170_000
    rows[HUGE_DESCRIPTION]["metadata"]["descriptionByte"] = [f"<p>{words}</p>"]
    rows[HUGE_TITLE]["metadata"]["title"] = ["Grants for towns " * 60_000]
    rows[BAD_OPENING]["metadata"]["startDate"] = ["the first of June"]
    page_path.write_text(json.dumps(page), "utf-8")
    facets_path = folder / "replay" / "ft_portal" / "facet.json"
    facets_path.chmod(0o644)
    facets = json.loads(facets_path.read_text("utf-8"))
    divisions = next(f for f in facets["facets"] if f["name"] == "programmeDivision")
    # A division (of one call) named by a number: that call keeps the names it has.
    divisions["values"][UNNAMED_DIVISION]["value"] = 17
    facets_path.write_text(json.dumps(facets), "utf-8")
    db_path = copy_database(crawled_snapshot, folder / "faulty.db")
    with Store(db_path) as store:
        before = {call.id: store.get_call(call.id) for call in store.list_calls()}
    [run] = crawl(config, ["ft_portal"], CrawlOptions(db_path, folder / "replay", SNAPSHOT_NOW))
    with Store(db_path) as store:
        after = {call.id: store.get_call(call.id) for call in store.list_calls()}
    return FaultyCrawl(run, before, after, ids)


def test_the_page_survives_its_bad_results(faulty):
    """Every other result of the page is read; the run is ok; nothing is lost or closed."""
    run = faulty.run
    assert (run.status, run.pages, run.error_count) == ("ok", 8, 0)
    assert (run.items_seen, run.items_invalid) == (SNAPSHOT_CALLS, 2)
    assert set(faulty.after) == set(faulty.before)
    assert all(call.status != "closed" for call in faulty.after.values())


def test_a_result_that_is_not_an_object_costs_only_itself(faulty):
    """Its stored call stays as it was; the run names the result."""
    call_id = faulty.ids[NOT_AN_OBJECT]
    assert faulty.after[call_id] == faulty.before[call_id]
    assert f"search page {PAGE}, result 1: unreadable" in " ".join(faulty.run.notes)


@pytest.mark.parametrize("position", KEPT_DEADLINES)
def test_a_deadline_that_is_no_date_keeps_the_stored_deadlines(faulty, position):
    """A deadline given as a number, an impossible, foreign or implausible date (year 1 or
    9999), empty text, or no list at all: the call's stored deadlines (and next deadline)
    stay, and the run counts the field it could not read."""
    call_id = faulty.ids[position]
    before, after = faulty.before[call_id], faulty.after[call_id]
    assert before.deadlines
    assert (after.deadlines, after.next_deadline) == (before.deadlines, before.next_deadline)
    assert f"{call_id}: deadlines could not be read" in " ".join(faulty.run.notes)


def test_every_unreadable_field_is_counted(faulty):
    """Seven unreadable deadline lists, one opening date, two budgets (each budget, its
    expected grants and the smallest and largest grant) and one call's programme names:
    eighteen fields, all noted."""
    assert faulty.run.fields_dropped == 18
    call_id = faulty.ids[BAD_OPENING]
    assert faulty.after[call_id].opening_date == faulty.before[call_id].opening_date
    assert f"{call_id}: opening_date could not be read" in " ".join(faulty.run.notes)


def test_a_huge_description_is_read_and_cut_with_a_note(faulty):
    """A 10 MB description still gives a summary (cut to a readable length), noted."""
    call_id = faulty.ids[HUGE_DESCRIPTION]
    summary = faulty.after[call_id].summary
    assert summary.startswith("Municipalities and regions cooperate on climate adaptation.")
    assert len(summary) <= MAX_SUMMARY + 1
    assert f"{call_id}: description of 10" in " ".join(faulty.run.notes)


def test_a_huge_title_is_cut_with_a_note(faulty):
    """A 1 MB title is stored (and so mailed) cut to a one-line length, noted."""
    call_id = faulty.ids[HUGE_TITLE]
    title = faulty.after[call_id].title
    assert title.startswith("Grants for towns Grants for towns")
    assert len(title) <= MAX_LINE + 1
    assert f"{call_id}: title of 1,019,999 characters cut to {MAX_LINE}" in faulty.run.notes


@pytest.mark.parametrize("position", [NULL_IDENTIFIER, NULL_TITLE])
def test_a_null_identifier_or_title_changes_no_stored_call(faulty, position):
    """A null identifier makes the result invalid (no call 'None' is stored); a null title
    is taken from the result's summary, as for any result without a title (only the raw
    answer kept with the call, and the hash of the item read from it, change)."""
    call_id = faulty.ids[position]
    after = replace(faulty.after[call_id], raw="", item_hash="")
    assert after == replace(faulty.before[call_id], raw="", item_hash="")
    assert "ft_portal/None" not in faulty.after


@pytest.mark.parametrize("position", [INFINITE_BUDGET, HUGE_BUDGET])
def test_a_budget_that_is_no_sum_keeps_the_stored_budget(faulty, position):
    """An infinite or absurd amount (1e400, 1e30 euros) is no budget: the stored one stays."""
    call_id = faulty.ids[position]
    before = faulty.before[call_id]
    assert before.budget_eur
    after = faulty.after[call_id]
    assert (after.budget_eur, after.expected_grants) == (before.budget_eur, before.expected_grants)


def test_odd_links_and_references_are_stored_as_text_without_bidi_controls(faulty):
    """A link given as a number is stored as text (and never linked); a right-to-left
    override in a link or a cascade reference is dropped, so it reaches no call id."""
    assert faulty.after[faulty.ids[NUMBER_URL]].url == "12345"
    assert faulty.after[faulty.ids[BIDI_URL]].url == "https://example.org/exe.png"
    assert not [call_id for call_id in faulty.after if "\u202e" in call_id]


def test_a_division_name_that_is_no_text_changes_no_stored_name(faulty):
    """A programme division named by a number in the facet list costs neither the crawl nor
    any stored name: its calls keep the names they have (counted as unreadable)."""
    assert faulty.run.pages == 8
    changed = [i for i, call in faulty.after.items() if call != faulty.before[i]]
    assert all(
        faulty.after[i].programme_divisions == faulty.before[i].programme_divisions for i in changed
    )
    assert "17" not in {d for call in faulty.after.values() for d in call.programme_divisions}


TOTALS = {
    "far too many": 10**12,
    "none": 0,
    "negative": -5,
    "no number": "abc",
    "missing": None,
}


@pytest.mark.parametrize("given", TOTALS.values(), ids=TOTALS.keys())
def test_a_total_that_is_no_count_keeps_page_one_and_closes_nothing(
    given, tmp_path, snapshot_dir, crawled_snapshot, config
):
    """totalResults that cannot be the number of results: page 1 is stored, no other page is
    asked for, the listing counts as incomplete, and no call is closed as gone."""
    replay = tmp_path / "replay" / "ft_portal"
    shutil.copytree(snapshot_dir / "ft_portal", replay)
    replay.chmod(0o755)
    first_page = replay / "search-page-1.json"
    first_page.chmod(0o644)
    page = json.loads(first_page.read_text("utf-8"))
    page["totalResults"] = given
    first_page.write_text(json.dumps(page), "utf-8")
    db_path = copy_database(crawled_snapshot, tmp_path / "totals.db")
    far_future = datetime(2030, 1, 1, tzinfo=UTC)
    [run] = crawl(config, ["ft_portal"], CrawlOptions(db_path, replay.parent, far_future))
    assert (run.status, run.pages, run.items_seen, run.closed_marked) == ("partial", 1, 100, 0)
    assert run.errors[0].startswith("search page 1: totalResults")
    with Store(db_path) as store:
        assert store.count_calls() == SNAPSHOT_CALLS
        assert store.list_calls(status=["closed"]) == []


def test_a_call_the_database_refuses_costs_only_itself(tmp_path, snapshot_dir, config):
    """When the database refuses one call of a batch (here a trigger refuses it), the rest
    of the batch is stored one by one and the refused call is counted invalid with why."""
    db_path = tmp_path / "refusing.db"
    refused = "ft_portal/HORIZON-CL5-2027-07-D3-16"
    with Store(db_path) as store, store.conn:
        store.conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON calls "
            f"WHEN NEW.id = '{refused}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
    [run] = crawl(config, ["ft_portal"], CrawlOptions(db_path, snapshot_dir, SNAPSHOT_NOW))
    assert (run.status, run.items_new, run.items_invalid) == ("ok", SNAPSHOT_CALLS - 1, 1)
    assert any(refused in note and "refused by the test" in note for note in run.notes)
    with Store(db_path) as store:
        assert store.count_calls() == SNAPSHOT_CALLS - 1
