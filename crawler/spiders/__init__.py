"""Spiders, one per source kind."""

import scrapy

from crawler.spiders.feed import FeedSpider
from crawler.spiders.ft_portal import FtPortalSpider
from crawler.spiders.html_listing import HtmlListingSpider
from crawler.spiders.json_api import JsonApiSpider
from db.records import SourceKind

SPIDERS: dict[SourceKind, type[scrapy.Spider]] = {
    SourceKind.FT_PORTAL: FtPortalSpider,
    SourceKind.JSON_API: JsonApiSpider,
    SourceKind.FEED: FeedSpider,
    SourceKind.HTML_LISTING: HtmlListingSpider,
}

__all__ = ["SPIDERS", "FeedSpider", "FtPortalSpider", "HtmlListingSpider", "JsonApiSpider"]
