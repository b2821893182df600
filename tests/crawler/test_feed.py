"""Feed sources (RSS 2.0, Atom) read by the real crawler against a real local HTTP server.

No real saved feed of these sites exists offline: the feeds and the page below are written
by hand in RSS 2.0 and Atom as the sites publish them (Tillväxtverket's items in Swedish,
the deadline in the item's text).
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
RSS_HEADERS = {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": '"v1"'}
# Hand-written RSS 2.0 in the form of Tillväxtverket's calls feed.
TILLVAXTVERKET_RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Utlysningar</title><link>https://tillvaxtverket.se/</link>
<item>
  <title>Utlysning: Hållbar regional utveckling i Småland och öarna</title>
  <link>{site}/utlysningar/smaland-2026</link>
  <guid>https://tillvaxtverket.se/utlysningar/smaland-2026</guid>
  <description>&lt;p&gt;Regionala fonden stöder projekt för hållbar tillväxt i Jönköpings,
  Kronobergs och Kalmar län samt Gotland. Sista ansökningsdag: 30 september 2026
  kl. 23.59.&lt;/p&gt;</description>
  <pubDate>Mon, 01 Jun 2026 10:00:00 +0200</pubDate>
</item>
<item>
  <title>Utlysning: Kompetensförsörjning i Övre Norrland</title>
  <link>{site}/utlysningar/norrland-2026</link>
  <guid>https://tillvaxtverket.se/utlysningar/norrland-2026</guid>
  <description>Ansök senast 15 mars 2026.</description>
</item>
<item>
  <title>Utlysning: Innovation i företag</title>
  <link>{site}/utlysningar/innovation</link>
  <guid>https://tillvaxtverket.se/utlysningar/innovation</guid>
  <description>Sista ansökningsdag: 31 februari 2026.</description>
</item>
<item>
  <title>Nyhet: Ny generaldirektör</title>
  <link>{site}/nyheter/gd</link>
  <guid>https://tillvaxtverket.se/nyheter/gd</guid>
  <description>Regeringen har utsett en ny generaldirektör.</description>
</item>
</channel></rss>
"""
# Hand-written: the page of the first call, as a listing site shows its facts.
DETAIL_PAGE = """<html><body><h1>Hållbar regional utveckling</h1>
<dl><dt>Vem kan söka</dt><dd class="who">Kommuner, regioner och ideella organisationer</dd>
<dt>Sista ansökningsdag</dt><dd class="deadline">2026-10-15 kl. 14.00</dd>
<dt>Medfinansiering</dt><dd class="cofinancing">Minst 50 procent</dd></dl></body></html>
"""
# Hand-written Atom in the form of the EIC's news feed.
EIC_ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>EIC news</title>
<id>https://eic.ec.europa.eu/news</id><updated>2026-08-01T00:00:00Z</updated>
<entry><title>EIC Pathfinder Challenges 2026: call open</title>
<id>https://eic.ec.europa.eu/news/pathfinder-2026</id>
<link href="https://eic.ec.europa.eu/news/pathfinder-2026"/>
<updated>2026-08-01T00:00:00Z</updated>
<summary>The call is open. Deadline: 29 October 2026 at 17:00.</summary></entry>
<entry><title>EIC community meets in Brussels</title>
<id>https://eic.ec.europa.eu/news/community</id>
<link href="https://eic.ec.europa.eu/news/community"/>
<updated>2026-07-01T00:00:00Z</updated><summary>A day of talks.</summary></entry>
</feed>
"""


@pytest.fixture(autouse=True)
def _no_throttle(monkeypatch):
    monkeypatch.setenv("EUFUNDS_SCRAPY_AUTOTHROTTLE_ENABLED", "0")


def _config(config: Config, source_id: str, url: str, **options) -> Config:
    source = config.source(source_id)
    source = dataclasses.replace(source, url=url, options=source.options | options)
    fast = dataclasses.replace(config.crawl, retry_times=1, retry_backoff_seconds=0.05)
    return dataclasses.replace(
        config, sources=(source,), crawl=dataclasses.replace(fast, download_delay=0)
    )


def _crawl(config: Config, db_path: Path, now: datetime = NOW) -> CrawlRun:
    [run] = crawl(config, [], CrawlOptions(db_path, None, now))
    return run


def _calls(db_path: Path) -> dict:
    with Store(db_path) as store:
        return {call.id: store.get_call(call.id) for call in store.list_calls()}


@pytest.fixture
def tillvaxtverket(config, db_path):
    """Tillväxtverket's feed crawled twice: the second time the server says 304."""
    with site_running({}) as site:
        rss = TILLVAXTVERKET_RSS.format(site=site.url).encode()
        site.answers["/rss"] = [
            Answer(200, RSS_HEADERS, rss),
            Answer(304, {"ETag": '"v1"'}, b""),
        ]
        source_config = _config(config, "tillvaxtverket", f"{site.url}/rss", exclude=["nyhet"])
        first = _crawl(source_config, db_path)
        second = _crawl(source_config, db_path)
    return site, first, second, _calls(db_path)


def test_feed_items_are_calls_and_news_is_left_out(tillvaxtverket):
    """Three calls are stored; the news item is left out by the exclude word."""
    _, first, _, calls = tillvaxtverket
    assert (first.status, first.items_new, first.items_skipped) == ("ok", 3, 1)
    assert sorted(calls) == [
        "tillvaxtverket/https://tillvaxtverket.se/utlysningar/innovation",
        "tillvaxtverket/https://tillvaxtverket.se/utlysningar/norrland-2026",
        "tillvaxtverket/https://tillvaxtverket.se/utlysningar/smaland-2026",
    ]


def test_swedish_deadline_in_the_text_is_read(tillvaxtverket):
    """'Sista ansökningsdag: 30 september 2026 kl. 23.59' is the deadline, in Swedish time;
    'Ansök senast 15 mars 2026' is one that has passed: that call is closed."""
    calls = tillvaxtverket[3]
    smaland = calls["tillvaxtverket/https://tillvaxtverket.se/utlysningar/smaland-2026"]
    assert smaland.deadlines == [datetime(2026, 9, 30, 23, 59, tzinfo=LOCAL_TZ)]
    assert (smaland.status, smaland.language, smaland.programme) == ("open", "sv", "Tillväxtverket")
    norrland = calls["tillvaxtverket/https://tillvaxtverket.se/utlysningar/norrland-2026"]
    assert (norrland.status, norrland.deadlines) == ("closed", [datetime(2026, 3, 15, tzinfo=UTC)])


def test_a_deadline_that_is_no_date_leaves_the_call_without_one(tillvaxtverket):
    """'31 februari 2026' is no date: the call is kept, with no deadline, and the field that
    could not be read is counted and named in the run's notes."""
    _, first, _, calls = tillvaxtverket
    innovation = calls["tillvaxtverket/https://tillvaxtverket.se/utlysningar/innovation"]
    assert (innovation.status, innovation.deadlines) == ("open", [])
    assert first.fields_dropped == 1
    assert f"{innovation.id}: deadlines could not be read; the stored value stays" in first.notes


def test_unchanged_feed_costs_one_304(tillvaxtverket):
    """The second crawl asks with the ETag of the first answer; the 304 is an ok run that
    changes nothing."""
    site, _, second, calls = tillvaxtverket
    feeds = [r for r in site.requests if r.path == "/rss"]
    assert len(feeds) == 2
    assert "If-None-Match" not in feeds[0].headers
    assert feeds[1].headers["If-None-Match"] == '"v1"'
    assert (second.status, second.pages, second.items_seen, second.items_changed) == ("ok", 1, 0, 0)
    assert len(calls) == 3


def test_atom_feed_keeps_the_items_with_its_words(config, db_path):
    """An Atom feed: only the entry announcing a call is kept (include words)."""
    headers = {"Content-Type": "application/atom+xml"}
    with site_running({"/atom": [Answer(200, headers, EIC_ATOM.encode())]}) as site:
        run = _crawl(_config(config, "eic", f"{site.url}/atom"), db_path)
    [call] = _calls(db_path).values()
    assert (run.status, run.items_new, run.items_skipped) == ("ok", 1, 1)
    assert call.title == "EIC Pathfinder Challenges 2026: call open"
    assert call.deadlines == [datetime(2026, 10, 29, 17, tzinfo=LOCAL_TZ)]


def test_followed_page_gives_deadline_who_may_apply_and_cofinancing(config, db_path):
    """With follow and detail selectors, each item's page completes the call."""
    with site_running({}) as site:
        rss = TILLVAXTVERKET_RSS.format(site=site.url).encode()
        site.answers["/rss"] = [Answer(200, RSS_HEADERS, rss)]
        page = Answer(200, {"Content-Type": "text/html; charset=utf-8"}, DETAIL_PAGE.encode())
        site.answers["/utlysningar/smaland-2026"] = [page]
        detail = {"deadline": ".deadline", "audience": ".who", "cofinancing": ".cofinancing"}
        source_config = _config(
            config, "tillvaxtverket", f"{site.url}/rss", follow=True, detail=detail
        )
        run = _crawl(source_config, db_path)
    calls = _calls(db_path)
    smaland = calls["tillvaxtverket/https://tillvaxtverket.se/utlysningar/smaland-2026"]
    assert smaland.deadlines == [datetime(2026, 10, 15, 14, tzinfo=LOCAL_TZ)]
    assert smaland.audience == "Kommuner, regioner och ideella organisationer"
    assert smaland.cofinancing == "Minst 50 procent"
    # The pages the site does not have: their calls are kept as the feed gave them, noted.
    assert run.items_new == 4
    assert any("page not read" in note for note in run.notes)


def test_an_answer_that_is_no_feed_fails_and_keeps_the_calls(tillvaxtverket, config, db_path):
    """HTML where the feed should be: the run fails naming it; stored calls stay."""
    page = Answer(200, {"Content-Type": "text/html"}, b"<html><body>Underhall</body></html>")
    with site_running({"/rss": [page]}) as site:
        run = _crawl(_config(config, "tillvaxtverket", f"{site.url}/rss"), db_path)
    assert run.status == "failed"
    assert run.errors[0].startswith("feed: not an RSS or Atom feed")
    assert len(_calls(db_path)) == 3


def test_swedish_calls_keep_the_regions_they_are_for(tillvaxtverket):
    """The län a Swedish call states it is for are kept as NUTS codes."""
    calls = tillvaxtverket[3]
    smaland = calls["tillvaxtverket/https://tillvaxtverket.se/utlysningar/smaland-2026"]
    norrland = calls["tillvaxtverket/https://tillvaxtverket.se/utlysningar/norrland-2026"]
    assert smaland.regions == ["SE211", "SE212", "SE213", "SE21"]
    assert norrland.regions == ["SE33"]


def test_calls_missing_from_the_next_feed_are_not_closed(tillvaxtverket, config, db_path):
    """The feed changes and leaves out the call with a deadline ahead and the one with no
    readable deadline: the run is ok and neither is closed for vanishing."""
    before = tillvaxtverket[3]
    with site_running({}) as site:
        rss = TILLVAXTVERKET_RSS.format(site=site.url)
        head, *items = rss.split("<item>")
        kept = [item for item in items if "smaland-2026" not in item and "innovation" not in item]
        changed = "<item>".join([head, *kept]).encode()
        site.answers["/rss"] = [Answer(200, RSS_HEADERS | {"ETag": '"v2"'}, changed)]
        run = _crawl(
            _config(config, "tillvaxtverket", f"{site.url}/rss", exclude=["nyhet"]), db_path
        )
    after = _calls(db_path)
    assert (len(kept), run.status, run.items_seen, run.closed_marked) == (2, "ok", 1, 0)
    for gone in ("smaland-2026", "innovation"):
        call_id = f"tillvaxtverket/https://tillvaxtverket.se/utlysningar/{gone}"
        assert after[call_id].status == "open"
        assert after[call_id] == before[call_id]


def test_server_error_then_the_feed(config, db_path):
    """An HTTP 500 is retried; the feed that follows is read and the run is ok."""
    failure = Answer(500, {"Content-Type": "text/plain"}, b"busy")
    with site_running({}) as site:
        rss = TILLVAXTVERKET_RSS.format(site=site.url).encode()
        site.answers["/rss"] = [failure, Answer(200, RSS_HEADERS, rss)]
        run = _crawl(_config(config, "tillvaxtverket", f"{site.url}/rss"), db_path)
    assert [r.path for r in site.requests] == ["/robots.txt", "/rss", "/rss"]
    assert (run.status, run.error_count, run.items_new) == ("ok", 0, 4)
