"""Turn source HTML and messy strings into clean text."""

from __future__ import annotations

import html
import re

from lxml import etree
from lxml import html as lxml_html

from db.text import without_bidi_controls

BLOCK_TAGS = frozenset(
    ("p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "ul", "ol", "section")
)
DROPPED_TAGS = frozenset(("script", "style", "noscript", "template", "iframe", "object"))
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_inline(text: str | None) -> str:
    """Collapse all whitespace of a one-line string; drop bidirectional controls."""
    return " ".join(without_bidi_controls(text or "").split())


def html_to_text(markup: str | None) -> str:
    """Convert an HTML fragment to plain text, keeping paragraphs as blank-line breaks.

    Scripts, styles, comments and tags are dropped; entities are decoded; list items
    get a dash; bidirectional controls are dropped. Broken or truncated markup yields
    whatever text it holds.
    """
    if not markup or not markup.strip():
        return ""
    if "<" not in markup:
        return _tidy(html.unescape(markup))
    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return _tidy(html.unescape(re.sub(r"<[^>]*>?", " ", markup)))
    parts: list[str] = []
    _walk(root, parts)
    return _tidy("".join(parts))


def _walk(element: etree._Element, parts: list[str]) -> None:
    """Append the text of one element and its children, breaking around blocks."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag and tag.lower() not in DROPPED_TAGS:
        tag = tag.lower()
        if tag == "li":
            parts.append("\n- ")
        elif tag in BLOCK_TAGS:
            parts.append("\n\n" if tag != "br" else "\n")
        if element.text:
            parts.append(element.text)
        for child in element:
            _walk(child, parts)
        if tag in BLOCK_TAGS and tag != "br":
            parts.append("\n\n")
    if element.tail:
        parts.append(element.tail)


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in without_bidi_controls(text).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
