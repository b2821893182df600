"""Text from sources is untrusted: what every output does to it before showing it."""

from __future__ import annotations

import re

# Bidirectional formatting characters (Unicode's bidi controls): in a title they can make a
# mail, a web page or a spreadsheet show text in another order than it was written.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def without_bidi_controls(text: str) -> str:
    """The text with every bidirectional formatting character removed."""
    return BIDI_CONTROLS.sub("", text)
