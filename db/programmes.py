"""Programme names compared as text, and the codes of matching.toml's [programmes]."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote_plus


def plain_programme(name: str) -> str:
    """A programme name compared as text: decoded ("%26" is "&", "+" a space), lower case,
    spaces collapsed, none just inside brackets ("Erasmus+ (ERASMUS+)" is "erasmus (erasmus)")."""
    text = " ".join(unquote_plus(name).lower().split())
    return text.replace("( ", "(").replace(" )", ")")


def programme_is(programme: str, names: Sequence[str]) -> bool:
    """Whether a plain programme name is one of the names ("Name*": or starts with it, then
    a space)."""
    for name in names:
        wanted = plain_programme(name.rstrip("*"))
        if programme == wanted or (name.endswith("*") and programme.startswith(wanted + " ")):
            return True
    return False


def programme_code(programme: str, programmes: Sequence[tuple[str, Sequence[str]]]) -> str:
    """The code of [programmes] a programme name is one of ("" when none)."""
    plain = plain_programme(programme)
    return next((code for code, names in programmes if programme_is(plain, names)), "")
