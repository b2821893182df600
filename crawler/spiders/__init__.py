"""Spiders, one per source kind."""

import scrapy

from crawler.spiders.ft_portal import FtPortalSpider
from db.records import SourceKind

SPIDERS: dict[SourceKind, type[scrapy.Spider]] = {SourceKind.FT_PORTAL: FtPortalSpider}

__all__ = ["SPIDERS", "FtPortalSpider"]
