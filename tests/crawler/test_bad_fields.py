"""One bad field costs at most its item, or the field itself: never a page, never a stored value.

A writable copy of the saved answers gets one fault per result on page 2 (hand-made from the
real rows: a result that is not an object, deadlines that are no dates, a 10 MB description,
a 1 MB title, an opening date that is no date), and is crawled, replayed through the real
crawler, onto a copy of the session's crawl of the clean snapshot.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
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
BAD_DEADLINES = {INTEGER_DEADLINE: 20271201, MONTH_13: "2027-13-45", DAY_FIRST: "01/12/2027"}


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
    ids = {position: _call_id(rows[position]) for position in range(8)}
    rows[NOT_AN_OBJECT]["metadata"] = "not an object"
    for position, value in BAD_DEADLINES.items():
        rows[position]["metadata"]["deadlineDate"] = [value]
    rows[EMPTY_DEADLINE]["metadata"]["deadlineDate"] = [""]
    words = "Municipalities and regions cooperate on climate adaptation. " * 170_000
    rows[HUGE_DESCRIPTION]["metadata"]["descriptionByte"] = [f"<p>{words}</p>"]
    rows[HUGE_TITLE]["metadata"]["title"] = ["Grants for towns " * 60_000]
    rows[BAD_OPENING]["metadata"]["startDate"] = ["the first of June"]
    page_path.write_text(json.dumps(page), "utf-8")
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
    assert (run.items_seen, run.items_invalid) == (SNAPSHOT_CALLS, 1)
    assert set(faulty.after) == set(faulty.before)
    assert all(call.status != "closed" for call in faulty.after.values())


def test_a_result_that_is_not_an_object_costs_only_itself(faulty):
    """Its stored call stays as it was; the run names the result."""
    call_id = faulty.ids[NOT_AN_OBJECT]
    assert faulty.after[call_id] == faulty.before[call_id]
    assert f"search page {PAGE}, result 1: unreadable" in " ".join(faulty.run.notes)


@pytest.mark.parametrize("position", [INTEGER_DEADLINE, MONTH_13, DAY_FIRST, EMPTY_DEADLINE])
def test_a_deadline_that_is_no_date_keeps_the_stored_deadlines(faulty, position):
    """A deadline given as a number, an impossible or foreign date, or empty text: the call's
    stored deadlines (and next deadline) stay, and the run counts the field it could not read."""
    call_id = faulty.ids[position]
    before, after = faulty.before[call_id], faulty.after[call_id]
    assert before.deadlines
    assert (after.deadlines, after.next_deadline) == (before.deadlines, before.next_deadline)
    assert f"{call_id}: deadlines could not be read" in " ".join(faulty.run.notes)


def test_every_unreadable_field_is_counted(faulty):
    """Four unreadable deadline lists and one opening date: five fields, all noted."""
    assert faulty.run.fields_dropped == 5
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
