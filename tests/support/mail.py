"""Reading digests back: their text and HTML parts, and the tags and links of the HTML."""

from __future__ import annotations

from email.message import EmailMessage
from html.parser import HTMLParser


def text_part(message: EmailMessage) -> str:
    """The plain-text body of a message."""
    return message.get_body(("plain",)).get_content()


def html_part(message: EmailMessage) -> str:
    """The HTML body of a message."""
    return message.get_body(("html",)).get_content()


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    """The text and HTML bodies of a message."""
    return text_part(message), html_part(message)


# The parts of a digest with items: text and HTML alternatives, and the deadlines as .ics.
DIGEST_PARTS = [
    "multipart/mixed",
    "multipart/alternative",
    "text/plain",
    "text/html",
    "text/calendar",
]


class Tags(HTMLParser):
    """Every start tag of an HTML document with its attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def hrefs(self) -> list[str]:
        """The href of every link."""
        return [attrs.get("href", "") for tag, attrs in self.tags if tag == "a"]
