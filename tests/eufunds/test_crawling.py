"""Crawl orchestration: the parent records every run, also when the crawl child dies."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from db import CrawlCounts, Store
from eufunds.config import load_config
from eufunds.crawling import CrawlOptions, crawl, user_agent
from tests.conftest import REPO
from tests.conftest import SNAPSHOT_NOW as NOW
from tests.support.databases import copy_database
from tests.support.portal import portal_running


def test_user_agent_names_eufunds_and_contact():
    """The User-Agent names the software and the configured contact address."""
    agent = user_agent(load_config())
    assert agent.startswith("eufunds/")
    assert "mailto:eu-samordning@example.org" in agent


def test_killed_child_is_recorded_as_failed_and_loses_nothing(
    db_path, snapshot_dir, crawled_snapshot, config
):
    """A crawl child killed mid-crawl leaves a failed run naming its exit; calls stay."""
    copy_database(crawled_snapshot, db_path)

    def kill_child(source_id: str, counts: CrawlCounts) -> None:
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGKILL)

    runs = crawl(config, [], CrawlOptions(db_path, snapshot_dir, NOW), progress=kill_child)
    assert runs[0].status == "failed"
    assert runs[0].finished is not None
    assert runs[0].errors[-1] == "crawl process of ft_portal exited with code -9"
    with Store(db_path) as store:
        assert store.count_calls() == 723
        assert store.list_calls(status=["closed"]) == []


def test_child_that_cannot_start_records_why(db_path, snapshot_dir, monkeypatch):
    """A crawl whose Scrapy cannot start reads no page and says so in the run."""
    # An unknown reactor makes Scrapy fail while the crawl starts, before any request.
    monkeypatch.setenv("EUFUNDS_SCRAPY_TWISTED_REACTOR", "no.such.Reactor")
    runs = crawl(load_config(), ["ft_portal"], CrawlOptions(db_path, snapshot_dir, NOW))
    assert runs[0].status == "failed"
    assert runs[0].error_count >= 1
    assert "without reading any page" in " ".join(runs[0].errors)


def test_crawl_process_that_cannot_be_started_fails_its_run(db_path, snapshot_dir, monkeypatch):
    """If no crawl process can start, the run is recorded failed with why; none stays running."""

    def refuse(self) -> None:
        # Fault injection: the machine cannot create another process.
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.context.ForkServerProcess, "start", refuse)
    [run] = crawl(load_config(), ["ft_portal"], CrawlOptions(db_path, snapshot_dir, NOW))
    assert run.status == "failed"
    assert run.errors == [
        "crawl process of ft_portal could not start: [Errno 11] Resource temporarily unavailable"
    ]
    with Store(db_path) as store:
        assert [r.status for r in store.crawl_runs()] == ["failed"]
        assert store.count_calls() == 0


# A command that crawls the local portal and prints its crawl child's id as progress comes.
CRAWLING_PARENT = """
import dataclasses, multiprocessing, sys
from eufunds.config import load_config
from eufunds.crawling import CrawlOptions, crawl

def show(source_id, counts):
    for child in multiprocessing.active_children():
        print(child.pid, flush=True)

if __name__ == "__main__":
    config = load_config()
    url = sys.argv[2]
    source = dataclasses.replace(
        config.source("ft_portal"), url=url + "/search", facet_url=url + "/facet"
    )
    polite = dataclasses.replace(config.crawl, download_delay=0)
    config = dataclasses.replace(config, sources=(source,), crawl=polite)
    crawl(config, [], CrawlOptions(sys.argv[1]), show)
"""


def test_crawl_child_stops_when_its_parent_is_killed(db_path, snapshot_dir, monkeypatch):
    """A parent killed mid-crawl leaves no crawl child writing on: the child ends at once."""
    monkeypatch.setenv("EUFUNDS_SCRAPY_AUTOTHROTTLE_ENABLED", "0")
    with portal_running(snapshot_dir / "ft_portal") as portal:
        portal.answer_delay = 0.5  # a slow portal: the crawl is still going when the parent dies
        parent = subprocess.Popen(
            [sys.executable, "-c", CRAWLING_PARENT, str(db_path), portal.url],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            child = int(parent.stdout.readline())
            parent.kill()
            parent.wait()
            deadline = time.monotonic() + 10
            while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not Path(f"/proc/{child}").exists()
            requests_when_gone = len(portal.requests)
            time.sleep(1)
            assert len(portal.requests) == requests_when_gone
        finally:
            parent.kill()
            parent.wait()
    with Store(db_path) as store:
        [run] = store.crawl_runs()
    assert run.status == "running"  # until the next run takes the lock (tests/eufunds/test_joblock)
