"""Spiders, one per source kind."""

from crawler.spiders.ft_portal import FtPortalSpider

SPIDERS = {FtPortalSpider.name: FtPortalSpider}

__all__ = ["SPIDERS", "FtPortalSpider"]
