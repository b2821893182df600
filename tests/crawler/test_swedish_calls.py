"""Swedish statuses and regions read from real calls: the 14 calls a public scraper saved from
Tillväxtverket's listing (../shared/research/sources, read at test time)."""

from __future__ import annotations

import json

import pytest

from crawler.dates import written_status
from crawler.regions import regions_named
from tests.conftest import SHARED

SCRAPED = (
    SHARED / "research" / "sources" / "tillvaxtverket_utlysningar_scraped_20260423__abeltomy.json"
)


@pytest.fixture(scope="module")
def calls() -> list[dict]:
    """The saved calls, as the scraper wrote them."""
    return json.loads(SCRAPED.read_text("utf-8"))


def test_every_status_tillvaxtverket_writes_is_read(calls):
    """'Kommande' is forthcoming and 'Pågående' (running now) is open: no call's status is
    left unread."""
    read = {call["status"]: written_status(call["status"]) for call in calls}
    assert read == {"Kommande": "forthcoming", "Pågående": "open"}


def test_regions_named_in_real_calls(calls):
    """Calls for Småland och Öarna are for SE21, those for Övre Norrland for SE33 (out of area
    for Jönköping); calls that name no region get none."""
    regions = {
        call["title"]: regions_named(f"{call['title']}\n{call['description']}") for call in calls
    }

    def of(title_start: str) -> list[str]:
        [found] = [codes for title, codes in regions.items() if title.startswith(title_start)]
        return found

    assert of("Stärk Övre Norrlands framtid") == ["SE33"]
    assert of("Utveckla hållbara transporter i Övre Norrland") == ["SE33"]
    assert of("Öka digitaliseringen i företag") == ["SE21"]
    assert of("Öka forsknings-och innovationskapaciteten") == []
    named = [regions_named(f"{call['title']}\n{call['description']}") for call in calls]
    assert sorted(map(tuple, named)) == [()] * 9 + [("SE21",)] * 2 + [("SE33",)] * 3
