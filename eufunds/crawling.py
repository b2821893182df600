"""Run crawls in child processes and record each run, also when the child dies."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from crawler.settings import scrapy_settings
from db import CrawlCounts, CrawlRun, Source, Store
from eufunds import __version__
from eufunds.config import Config

ProgressCallback = Callable[[str, CrawlCounts], None]
# Crawl children are forked from a server process that imported the crawler and Scrapy's
# components once, so a crawl starts at once instead of importing them (and the command) again.
CHILD_PRELOAD = ["__main__", "crawler.runner", "crawler.preload"]
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class CrawlOptions:
    """Where a crawl stores its calls and what it reads instead of the network."""

    db_path: Path
    replay: Path | None = None
    now: datetime | None = None


def user_agent(config: Config) -> str:
    """A User-Agent that names eufunds and how to reach whoever runs it."""
    org = config.organisation
    # HTTP headers are read as ISO-8859-1; keep the header ASCII so it reads the same.
    name = unicodedata.normalize("NFKD", org.name).encode("ascii", "ignore").decode()
    return f"eufunds/{__version__} (+mailto:{org.contact_email}; {name})"


def crawl_source(
    config: Config, source: Source, options: CrawlOptions, progress: ProgressCallback | None = None
) -> CrawlRun:
    """Crawl one source in a child process and return its recorded run.

    Replaying, a source with no folder of saved answers is recorded as skipped ("not in
    replay"), not failed: a replay holds the sources it was made for.
    """
    with Store(options.db_path) as store:
        run_id = store.start_crawl_run(source.id, datetime.now(UTC))
        if options.replay and not (Path(options.replay) / source.id).is_dir():
            store.skip_crawl_run(
                run_id, f"not in replay: no folder {source.id}/", datetime.now(UTC)
            )
            return store.crawl_run(run_id)
    # Scrapy is imported when a crawl starts, not with the command.
    from crawler.runner import child_main
    from crawler.spiders import SPIDERS

    # Absolute: the child's working directory is the fork server's, not necessarily ours.
    settings = scrapy_settings(
        source_id=source.id,
        db_path=Path(options.db_path).resolve(),
        run_id=run_id,
        user_agent=user_agent(config),
        download_timeout=config.crawl.download_timeout,
        download_delay=config.crawl.download_delay,
        retry_times=config.crawl.retry_times,
        retry_backoff=config.crawl.retry_backoff_seconds,
        retry_backoff_max=config.crawl.retry_backoff_max_seconds,
        target_concurrency=config.crawl.autothrottle_target_concurrency,
        replay=Path(options.replay).resolve() if options.replay else None,
        now=options.now.isoformat() if options.now else None,
    )
    spider_args = SPIDERS[source.kind].arguments(source, config.crawl.page_size)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(CHILD_PRELOAD)
    updates = context.Queue()
    child = context.Process(
        target=child_main, args=(source.kind, spider_args, settings, updates), daemon=True
    )
    try:
        with _single_threaded_libraries():
            child.start()
    except Exception as exc:  # noqa: BLE001 - whatever stops the start, the run records it
        with Store(options.db_path) as store:
            message = f"crawl process of {source.id} could not start: {exc}"
            store.fail_crawl_run(run_id, message, datetime.now(UTC))
            return store.crawl_run(run_id)
    while child.is_alive() or not updates.empty():
        try:
            counts = updates.get(timeout=0.2)
        except queue.Empty:
            continue
        if progress is not None:
            progress(source.id, counts)
    child.join()
    with Store(options.db_path) as store:
        if child.exitcode != 0:
            store.fail_crawl_run(
                run_id,
                f"crawl process of {source.id} exited with code {child.exitcode}",
                datetime.now(UTC),
            )
        return store.crawl_run(run_id)


def start_crawl_server() -> None:
    """Start the process crawl children are forked from, if it is not running, without
    waiting for it: its imports (Scrapy) then overlap with what the command does before its
    first crawl. A server that cannot start is left to the crawl to record."""
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(CHILD_PRELOAD)
    with _single_threaded_libraries(), contextlib.suppress(OSError):
        forkserver.ensure_running()


@contextmanager
def _single_threaded_libraries() -> Iterator[None]:
    """Start the fork server (if this starts it) with one-thread numerical libraries.

    The server imports numpy on the way (through sqlite-utils and pandas); with its thread
    pools idle at one thread, the server stays a single-threaded process that is safe to fork.
    The server keeps the environment of the moment it started, for every later crawl.
    """
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: "1" for name in THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def crawl(
    config: Config,
    source_ids: list[str],
    options: CrawlOptions,
    progress: ProgressCallback | None = None,
) -> list[CrawlRun]:
    """Crawl the named sources (all enabled ones when none are named), one after another."""
    start_crawl_server()
    if source_ids:
        sources = [config.source(source_id) for source_id in source_ids]
    else:
        sources = [source for source in config.sources if source.enabled]
    with Store(options.db_path) as store:
        store.sync_config(config.sources, config.departments, config.focus_areas, datetime.now(UTC))
    return [crawl_source(config, source, options, progress) for source in sources]
