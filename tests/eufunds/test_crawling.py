"""Crawl orchestration: the parent records every run, also when the crawl child dies."""

from __future__ import annotations

import multiprocessing
import os
import signal

from db import CrawlCounts, Store
from eufunds.config import load_config
from eufunds.crawling import CrawlOptions, crawl, user_agent
from tests.conftest import SNAPSHOT_NOW as NOW
from tests.support.databases import copy_database


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
    runs = crawl(load_config(), [], CrawlOptions(db_path, snapshot_dir, NOW))
    assert runs[0].status == "failed"
    assert runs[0].error_count >= 1
    assert "without reading any page" in " ".join(runs[0].errors)


def test_crawl_process_that_cannot_be_started_fails_its_run(db_path, snapshot_dir, monkeypatch):
    """If no crawl process can start, the run is recorded failed with why; none stays running."""

    def refuse(self) -> None:
        # Fault injection: the machine cannot create another process.
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.context.ForkServerProcess, "start", refuse)
    [run] = crawl(load_config(), [], CrawlOptions(db_path, snapshot_dir, NOW))
    assert run.status == "failed"
    assert run.errors == [
        "crawl process of ft_portal could not start: [Errno 11] Resource temporarily unavailable"
    ]
    with Store(db_path) as store:
        assert [r.status for r in store.crawl_runs()] == ["failed"]
        assert store.count_calls() == 0
