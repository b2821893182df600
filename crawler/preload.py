"""Load the components a crawl uses, once, in the process crawl children are forked from.

Scrapy imports its download handlers, middlewares and extensions by name when a crawl
starts (most of a small crawl's start-up). Imported here, in the fork server, every crawl
child has them already. Importing them installs no Twisted reactor: each child installs
the one its settings ask for.
"""

from __future__ import annotations

import contextlib

from scrapy.settings import default_settings
from scrapy.utils.misc import load_object

from crawler.settings import COMPONENTS


def component_paths() -> list[str]:
    """Import paths of Scrapy's default components and of ours."""
    paths = [*default_settings.DOWNLOAD_HANDLERS_BASE.values()]
    for table in ("DOWNLOADER_MIDDLEWARES_BASE", "SPIDER_MIDDLEWARES_BASE", "EXTENSIONS_BASE"):
        paths += getattr(default_settings, table)
    paths += [
        value
        for name, value in vars(default_settings).items()
        if name.isupper() and isinstance(value, str) and value.startswith("scrapy.")
    ]
    for table in COMPONENTS.values():
        paths += [path for path in table if path]
    return [path for path in paths if path]


def preload() -> None:
    """Import every component a crawl may load; one that cannot load is left to the crawl."""
    for path in component_paths():
        with contextlib.suppress(Exception):
            load_object(path)


preload()
