"""Scrapy settings for eufunds crawls: polite by default, overridable from the environment."""

from __future__ import annotations

import os
from pathlib import Path

ENV_PREFIX = "EUFUNDS_SCRAPY_"
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
# Our middlewares and pipelines, in Scrapy's {path: order} form (None switches one off).
COMPONENTS = {
    "DOWNLOADER_MIDDLEWARES": {
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "crawler.middlewares.BackoffRetryMiddleware": 550,
        "crawler.middlewares.ReplayMiddleware": 950,
    },
    "ITEM_PIPELINES": {
        "crawler.pipelines.NormalisePipeline": 100,
        "crawler.pipelines.ValidatePipeline": 200,
        "crawler.pipelines.DedupePipeline": 300,
        "crawler.pipelines.StorePipeline": 400,
    },
}


def scrapy_settings(
    *,
    source_id: str,
    db_path: str | Path,
    run_id: int | None,
    user_agent: str,
    download_timeout: int = 30,
    download_delay: float = 1.0,
    retry_times: int = 4,
    retry_backoff: float = 2.0,
    retry_backoff_max: float = 120.0,
    target_concurrency: float = 1.0,
    replay: str | Path | None = None,
    now: str | None = None,
    environ: dict[str, str] | None = None,
) -> dict:
    """Build the settings of one crawl; EUFUNDS_SCRAPY_<NAME> variables override any of them.

    Replayed crawls send nothing over the network, so they skip the download delay,
    AutoThrottle and the one-request limit. A crawl reads one source, so
    CONCURRENT_REQUESTS = 1 keeps it to one request at a time: Scrapy 2.19 starts every
    queued request of a slot at once when there is no download delay, whatever
    CONCURRENT_REQUESTS_PER_DOMAIN says.
    """
    settings = {
        "BOT_NAME": "eufunds",
        "USER_AGENT": user_agent,
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": 8 if replay else 1,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 0 if replay else download_delay,
        "AUTOTHROTTLE_ENABLED": not replay,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": target_concurrency,
        "DOWNLOAD_TIMEOUT": download_timeout,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": retry_times,
        "RETRY_HTTP_CODES": RETRY_HTTP_CODES,
        "EUFUNDS_RETRY_BACKOFF": retry_backoff,
        "EUFUNDS_RETRY_BACKOFF_MAX": retry_backoff_max,
        **{name: dict(table) for name, table in COMPONENTS.items()},
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "ERROR",
        "HTTPERROR_ALLOW_ALL": False,
        "EUFUNDS_SOURCE_ID": source_id,
        "EUFUNDS_DB": str(db_path),
        "EUFUNDS_CRAWL_RUN_ID": run_id or 0,
        "EUFUNDS_REPLAY": str(replay) if replay else "",
        "EUFUNDS_NOW": now or "",
    }
    for name, value in (os.environ if environ is None else environ).items():
        if name.startswith(ENV_PREFIX):
            settings[name.removeprefix(ENV_PREFIX)] = value
    return settings
