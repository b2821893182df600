"""Selectors a coordinator writes in sources.toml: CSS (with Scrapy's ::text and ::attr()),
or XPath when the selector starts like one ("/", "./" or "(")."""

from __future__ import annotations

import re

import cssselect
from lxml import etree
from parsel import Selector, SelectorList

XPATH_STARTS = ("/", "./", "(")


def is_xpath(selector: str) -> bool:
    """Whether a configured selector is XPath rather than CSS."""
    return selector.lstrip().startswith(XPATH_STARTS)


def select(where: Selector | SelectorList, selector: str) -> SelectorList:
    """What a configured selector finds in a page or an element."""
    return where.xpath(selector) if is_xpath(selector) else where.css(selector)


def selector_problem(selector: object) -> str:
    """Why a configured selector cannot be used; empty when it can."""
    if not isinstance(selector, str) or not selector.strip():
        return "a selector must be text"
    try:
        if is_xpath(selector):
            etree.XPath(selector)
        else:
            plain = re.sub(r"::(text|attr\([^)]*\))$", "", selector)
            cssselect.GenericTranslator().css_to_xpath(plain)
    except (cssselect.SelectorError, etree.XPathSyntaxError) as exc:
        kind = "XPath" if is_xpath(selector) else "CSS selector"
        return f"bad {kind} {selector!r} ({exc})"
    return ""
