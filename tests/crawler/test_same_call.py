"""The same call from two sources is stored once, with the other source noted.

The portal's calls are the session's crawl of the real snapshot; the feed that lists some of
them again is written by hand (RSS 2.0, as CINEA's funding feed) and crawled by the real
crawler from a local HTTP server.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from db import Store
from eufunds.crawling import CrawlOptions, crawl
from tests.conftest import SNAPSHOT_CALLS
from tests.support.databases import copy_database
from tests.support.portal import Answer
from tests.support.site import site_running

NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)
TOPIC = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities"
# Hand-written RSS 2.0: a portal topic by its link, one by its title and deadline, one new.
FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>CINEA funding opportunities</title>
<item><title>Climate-neutral buildings: call open</title>
  <link>{TOPIC}/topic-details/HORIZON-CL5-2027-07-D3-16/</link>
  <guid>cinea-1</guid><description>Deadline: 1 December 2027.</description></item>
<item><title>Environment Governance</title>
  <link>https://cinea.ec.europa.eu/news/life-governance</link>
  <guid>cinea-2</guid><description>LIFE call. Deadline: 22 September 2026.</description></item>
<item><title>Innovation Fund: small-scale projects</title>
  <link>https://cinea.ec.europa.eu/news/innovation-fund-small</link>
  <guid>cinea-3</guid><description>Deadline: 3 March 2027.</description></item>
</channel></rss>"""


@pytest.fixture
def listed_twice(crawled_snapshot, config, db_path, monkeypatch):
    """The portal's calls, then the feed crawled twice onto them."""
    monkeypatch.setenv("EUFUNDS_SCRAPY_AUTOTHROTTLE_ENABLED", "0")
    copy_database(crawled_snapshot, db_path)
    answer = Answer(200, {"Content-Type": "application/rss+xml"}, FEED.encode())
    with site_running({"/feed": [answer]}) as site:
        source = dataclasses.replace(config.source("cinea"), url=f"{site.url}/feed")
        quick = dataclasses.replace(config.crawl, download_delay=0)
        feed_config = dataclasses.replace(config, sources=(source,), crawl=quick)
        runs = [crawl(feed_config, [], CrawlOptions(db_path, None, now))[0] for now in (NOW, NOW)]
    return runs, db_path


def test_a_call_the_portal_lists_is_not_stored_again(listed_twice):
    """Of the feed's three items two are the portal's calls (same link; same title and
    deadline day): only the third is a new call."""
    runs, db_path = listed_twice
    assert [(run.status, run.items_new, run.items_skipped) for run in runs] == [
        ("ok", 1, 2),
        ("ok", 0, 2),
    ]
    with Store(db_path) as store:
        assert store.count_calls() == SNAPSHOT_CALLS + 1
        assert store.count_calls("cinea") == 1


def test_the_stored_call_names_every_source_that_lists_it(listed_twice):
    """The portal's call notes the feed as a source too, with the feed's own id for it."""
    _, db_path = listed_twice
    with Store(db_path) as store:
        by_link = store.call_sources("ft_portal/HORIZON-CL5-2027-07-D3-16")
        by_title = store.call_sources("ft_portal/LIFE-2026-SAP-ENV-GOV")
        unrelated = store.call_sources("ft_portal/HORIZON-CL4-2027-04-DIGITAL-EMERGING-10")
    assert by_link == [("cinea", "cinea/cinea-1")]
    assert by_title == [("cinea", "cinea/cinea-2")]
    assert unrelated == []
