"""Listing pages of calls read with CSS selectors, by the real crawler against a local server.

No saved listing page of these sites exists offline: the pages are written by hand in the
form of a Swedish agency's calls listing (ESF-rådet's selectors in config/sources.toml).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db import CrawlRun, Store
from db.records import LOCAL_TZ
from eufunds.config import Config
from eufunds.crawling import CrawlOptions, crawl
from tests.support.portal import Answer
from tests.support.site import site_running

NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)
HTML = {"Content-Type": "text/html; charset=utf-8"}
# Hand-written listing pages, Swedish, two pages.
FIRST_PAGE = """<html><body><h1>Utlysningar</h1>
<article class="call"><h2><a href="/utlysningar/inkludering-2026">Social inkludering 2026</a></h2>
  <p>Projekt som motverkar utanförskap.</p>
  <span class="status">Öppen</span><span class="deadline">Sista ansökningsdag 15 oktober 2026</span>
</article>
<article class="call"><h2><a href="/utlysningar/kompetens-2027">Kompetensförsörjning 2027</a></h2>
  <p>Utlysningen öppnar i januari.</p><span class="status">Kommande</span>
</article>
<article class="call"><h2><a href="/utlysningar/gammal">Arbetsmarknad 2025</a></h2>
  <span class="status">Stängd</span><span class="deadline">2025-11-30</span>
</article>
<article class="call"><h2><a href="/utlysningar/oklar">Unga utanför arbetsmarknaden</a></h2>
  <span class="status">Öppen</span><span class="deadline">någon gång i höst</span>
</article>
<a rel="next" href="/utlysningar?sida=2">Nästa</a>
</body></html>"""
SECOND_PAGE = """<html><body>
<article class="call"><h2><a href="/utlysningar/fa-2026">Fattigdom och social utestängning</a></h2>
  <span class="status">Öppen</span><span class="deadline">2026-09-01 kl. 23.59</span>
</article></body></html>"""


@pytest.fixture(autouse=True)
def _no_throttle(monkeypatch):
    monkeypatch.setenv("EUFUNDS_SCRAPY_AUTOTHROTTLE_ENABLED", "0")


def _config(config: Config, url: str) -> Config:
    source = dataclasses.replace(config.source("esf"), url=url, enabled=True)
    quick = dataclasses.replace(config.crawl, retry_times=0, download_delay=0)
    return dataclasses.replace(config, sources=(source,), crawl=quick)


def _calls(db_path: Path) -> dict:
    with Store(db_path) as store:
        return {call.id.rsplit("/", 1)[-1]: store.get_call(call.id) for call in store.list_calls()}


@pytest.fixture
def listed(config, db_path) -> tuple[CrawlRun, dict, str]:
    """Both listing pages crawled."""
    pages = [Answer(200, HTML, FIRST_PAGE.encode()), Answer(200, HTML, SECOND_PAGE.encode())]
    with site_running({"/utlysningar/": [pages[0]], "/utlysningar": [pages[1]]}) as site:
        [run] = crawl(
            _config(config, f"{site.url}/utlysningar/"), [], CrawlOptions(db_path, None, NOW)
        )
    return run, _calls(db_path), site.url


def test_every_call_of_every_listing_page_is_stored(listed):
    """Five calls over two pages (the next page found by its link); the run is ok."""
    run, calls, _ = listed
    assert (run.status, run.pages, run.items_new) == ("ok", 2, 5)
    assert sorted(calls) == ["fa-2026", "gammal", "inkludering-2026", "kompetens-2027", "oklar"]


def test_swedish_statuses_and_dates_are_read(listed):
    """Öppen, Kommande and Stängd; '15 oktober 2026' and '2026-09-01 kl. 23.59'."""
    _, calls, site = listed
    open_call = calls["inkludering-2026"]
    assert (open_call.status, open_call.deadlines) == ("open", [datetime(2026, 10, 15, tzinfo=UTC)])
    assert open_call.url == f"{site}/utlysningar/inkludering-2026"
    assert open_call.summary == "Projekt som motverkar utanförskap."
    assert calls["kompetens-2027"].status == "forthcoming"
    assert calls["gammal"].status == "closed"
    assert calls["fa-2026"].deadlines == [datetime(2026, 9, 1, 23, 59, tzinfo=LOCAL_TZ)]


def test_a_deadline_that_is_no_date_keeps_the_call_and_is_counted(listed):
    """'någon gång i höst' is no date: the call is kept without a deadline, and counted."""
    run, calls, _ = listed
    assert calls["oklar"].deadlines == []
    assert run.fields_dropped == 1


def test_changed_markup_finds_nothing_fails_and_keeps_the_calls(listed, config, db_path):
    """A listing whose markup changed (no item found): the run fails naming the selector;
    the calls stored before stay, none closed."""
    changed = Answer(
        200, HTML, b"<html><body><div class='new-design'>Utlysningar</div></body></html>"
    )
    with site_running({"/utlysningar/": [changed]}) as site:
        [run] = crawl(
            _config(config, f"{site.url}/utlysningar/"), [], CrawlOptions(db_path, None, NOW)
        )
    assert run.status == "failed"
    assert run.errors[0].startswith("listing page 1: no calls at")
    assert {call.status for call in _calls(db_path).values()} == {"open", "forthcoming", "closed"}
    assert len(_calls(db_path)) == 5


def test_calls_missing_from_the_next_listing_are_not_closed(listed, config, db_path):
    """The listing again without the open call (deadline ahead) and the one with no readable
    deadline: the run is ok and neither is closed for vanishing."""
    _, before, _ = listed
    shorter = FIRST_PAGE.replace('<a rel="next" href="/utlysningar?sida=2">Nästa</a>', "")
    for gone in ("inkludering-2026", "oklar"):
        start = shorter.index(f'<article class="call"><h2><a href="/utlysningar/{gone}">')
        shorter = shorter[:start] + shorter[shorter.index("</article>", start) + 10 :]
    with site_running({"/utlysningar/": [Answer(200, HTML, shorter.encode())]}) as site:
        [run] = crawl(
            _config(config, f"{site.url}/utlysningar/"), [], CrawlOptions(db_path, None, NOW)
        )
    after = _calls(db_path)
    assert (run.status, run.items_seen, run.closed_marked) == ("ok", 2, 0)
    assert (after["inkludering-2026"].status, after["oklar"].status) == ("open", "open")
    assert after["inkludering-2026"] == before["inkludering-2026"]
    assert after["oklar"] == before["oklar"]


# Hand-written: a listing that writes its deadlines in a form of its own (day/month/year).
XPATH_PAGE = """<html><body><table id="calls">
<tr><td class="name"><a href="/calls/cities-2026">Cities for climate 2026</a></td>
    <td class="closes">15/10/2026</td></tr>
<tr><td class="name"><a href="/calls/youth-2026">Youth exchanges 2026</a></td>
    <td class="closes">31/02/2026</td></tr>
</table></body></html>"""


def test_xpath_selectors_and_a_date_format_of_the_sites_own(config, db_path):
    """Selectors written as XPath, and deadlines as 15/10/2026 read with date_format; a date
    in that form that is no date (31/02) is left out and counted."""
    source = dataclasses.replace(
        config.source("esf"),
        enabled=True,
        options={
            "item": "//table[@id='calls']//tr",
            "title": "./td[@class='name']",
            "link": "./td[@class='name']/a",
            "deadline": "./td[@class='closes']",
            "date_format": "%d/%m/%Y",
        },
    )
    quick = dataclasses.replace(config.crawl, retry_times=0, download_delay=0)
    with site_running({"/calls": [Answer(200, HTML, XPATH_PAGE.encode())]}) as site:
        configured = dataclasses.replace(
            config, sources=(dataclasses.replace(source, url=f"{site.url}/calls"),), crawl=quick
        )
        [run] = crawl(configured, [], CrawlOptions(db_path, None, NOW))
    calls = _calls(db_path)
    assert (run.status, run.items_new, run.fields_dropped) == ("ok", 2, 1)
    assert calls["cities-2026"].title == "Cities for climate 2026"
    assert calls["cities-2026"].deadlines == [datetime(2026, 10, 15, tzinfo=UTC)]
    assert calls["youth-2026"].deadlines == []
