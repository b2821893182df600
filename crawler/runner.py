"""Run one crawl in this process (meant to be a child process: Scrapy's reactor cannot restart)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from datetime import UTC, datetime
from multiprocessing.connection import wait
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess

from crawler.report import CrawlReport
from crawler.spiders import SPIDERS
from db import Store

PROGRESS_EVERY_ITEMS = 50
# Exit code of a crawl child that stopped because its parent was gone.
PARENT_GONE_EXIT = 75


def run_crawl(
    kind: str, spider_args: dict[str, Any], settings: dict, progress: Any = None
) -> CrawlReport:
    """Crawl one source with the spider of its kind; record the run; return its report.

    ``progress`` is an optional queue that receives the report's counts as they move.
    """
    process = CrawlerProcess({**settings, "LOG_INSTALL_ROOT_HANDLER": False})
    logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL", "ERROR"))
    crawler = process.create_crawler(SPIDERS[kind])
    reporter = _Reporter(progress)
    crawler.signals.connect(reporter.spider_opened, signal=signals.spider_opened)
    crawler.signals.connect(reporter.spider_error, signal=signals.spider_error)
    crawler.signals.connect(reporter.item_error, signal=signals.item_error)
    process.crawl(crawler, **spider_args)
    process.start()
    report = crawler.spider.report
    _record(settings, report, crawler.stats.get_value("finish_reason"))
    if progress is not None:
        progress.put(report.counts())
    return report


class _Reporter:
    """Feeds spider and pipeline errors into the report and progress to the parent."""

    def __init__(self, progress: Any):
        self.progress = progress
        self.last_sent = -1
        self.last_pages = -1

    def spider_opened(self, spider) -> None:
        if self.progress is not None:
            spider.report.listener = self.send

    def send(self, report: CrawlReport) -> None:
        moved = report.items_seen + report.items_invalid + report.error_count + report.pages
        if moved - self.last_sent >= PROGRESS_EVERY_ITEMS or report.pages != self.last_pages:
            self.last_sent, self.last_pages = moved, report.pages
            self.progress.put(report.counts())

    def spider_error(self, failure, response, spider) -> None:
        spider.report.error(f"error parsing {response.url}: {failure.getErrorMessage()}")

    def item_error(self, item, response, spider, failure) -> None:
        spider.report.error(
            f"error storing {getattr(item, 'id', item)!s:.80}: {failure.getErrorMessage()}"
        )


def _record(settings: dict, report: CrawlReport, finish_reason: str | None) -> None:
    """Write the finished run's counts, status and error sample to crawl_runs."""
    run_id = int(settings.get("EUFUNDS_CRAWL_RUN_ID") or 0)
    if not run_id:
        return
    if finish_reason not in (None, "finished"):
        report.error(f"crawl stopped early: {finish_reason}")
    elif report.pages == 0 and report.error_count == 0:
        report.error(f"crawl ended without reading any page (finish reason: {finish_reason})")
    with Store(settings["EUFUNDS_DB"]) as store:
        store.finish_crawl_run(
            run_id, report.status, report, report.errors, report.notes, datetime.now(UTC)
        )


def child_main(kind: str, spider_args: dict, settings: dict, progress: Any = None) -> None:
    """Entry point of the crawl child process: crawl, and stop if the parent stops first."""
    _exit_with_parent()
    run_crawl(kind, spider_args, settings, progress)


def _exit_with_parent() -> None:
    """End this process as soon as the process that started the crawl is gone.

    A crawl whose parent was killed would otherwise write on unsupervised; stopping it
    mid-transaction loses at most the batch being written (SQLite rolls it back), and the
    next run marks the crawl run failed.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(PARENT_GONE_EXIT)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
