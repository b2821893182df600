"""What the spiders of configured sources share: their arguments from sources.toml."""

from __future__ import annotations

from typing import Any

import scrapy

from crawler.report import CrawlReport


class ConfiguredSpider(scrapy.Spider):
    """A spider whose source is all configuration: an address, the options of its kind, its
    language and programme (json_api, feed and html_listing sources)."""

    def __init__(
        self,
        source_id: str = "",
        url: str = "",
        options: dict | None = None,
        language: str = "en",
        programme: str = "",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.source_id = source_id
        self.url = url
        self.options = options or {}
        self.language = language
        self.programme = programme
        self.report = CrawlReport()

    @classmethod
    def arguments(cls, source: Any, page_size: int) -> dict[str, Any]:
        """The spider's arguments for a configured source."""
        return {
            "source_id": source.id,
            "url": source.url,
            "options": source.options,
            "language": source.language,
            "programme": source.programme,
        }
