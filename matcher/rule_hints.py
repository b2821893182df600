"""Cheap pre-checks for the who-may-apply patterns: texts every match of a pattern contains.

A substring test on such a text spares most regular-expression searches; a call without it
cannot match. ``required_text`` is the one test every analysis makes; ``required_choices``
finds more (the words of a group's alternatives), for analyses of many calls at once.
"""

from __future__ import annotations

import re

# Escapes that stand for a class of characters or a position, never for one character.
_CLASS_ESCAPES = frozenset("bBsSwWdDAZ")
# "*", "+", "?", "{m}", "{m,}", "{,n}", "{m,n}" (a bare "{}" is two literal characters).
_QUANTIFIER = re.compile(r"[*+?]|\{(?:\d+(?:,\d*)?|,\d*)\}")
# Groups whose insides are patterns ("(?:", "(?=", "(?!", "(?<=", "(?<!", "(?P<name>");
# any other "(?" is a flag (verbose mode changes what spaces mean) or a comment.
_FLAG_OR_COMMENT = re.compile(r"\(\?[^:=!<P]")
# Characters a case-insensitive pattern letter a-z matches although their lower case is not
# that letter ("ſ" is an "s", "ı" an "i", "İ" lower-cases to "i" and a combining dot). In a text
# holding none of them, an ASCII text a match contains is in the lower-cased text too.
CASE_TWINS = "İıſ"
_CASE_TWIN = re.compile(f"[{CASE_TWINS}]")


def required_text(pattern: str) -> str:
    """The longest run of plain characters every match of a pattern contains, lower-cased.

    A cheap substring test on it spares most regular-expression searches. A shorter run
    is always safe, so the scan is conservative: groups, classes, escapes, "." and anchors
    end a run, a quantifier takes back the character it repeats, and a pattern it cannot
    read with certainty (a top-level "|", inline flags, unknown escapes) gives "".
    """
    try:
        re.compile(pattern)
    except re.error:
        return ""
    if _FLAG_OR_COMMENT.search(pattern):
        return ""
    # One entry per pattern element: its character when it is a literal, else None.
    literals: list[str | None] = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        quantifier = _QUANTIFIER.match(pattern, position)
        if quantifier:
            # The repeated character may occur any number of times, or not at all.
            if literals:
                literals[-1] = None
            literals.append(None)
            position = quantifier.end()
        elif char == "|":
            return ""
        elif char == "(":
            literals.append(None)
            position = _group_end(pattern, position)
        elif char == "[":
            literals.append(None)
            position = _class_end(pattern, position)
        elif char == "\\":
            escaped = pattern[position + 1]
            if escaped.isascii() and escaped.isalnum():
                if escaped not in _CLASS_ESCAPES:
                    return ""
                literals.append(None)
            else:
                literals.append(escaped)
            position += 2
        else:
            # "." and anchors stand for no fixed character; a "{" that is no quantifier is
            # a literal, but ending the run there is safe and spares reading it.
            literals.append(None if char in ".^${" else char)
            position += 1
    longest = current = ""
    for char in literals:
        current = current + char if char is not None else ""
        longest = max(longest, current, key=len)
    return longest.lower()


def _group_end(pattern: str, start: int) -> int:
    """The position just after the group that opens at ``start``."""
    depth = 0
    position = start
    while True:
        char = pattern[position]
        if char == "\\":
            position += 2
            continue
        if char == "[":
            position = _class_end(pattern, position)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return position + 1
        position += 1


def _class_end(pattern: str, start: int) -> int:
    """The position just after the character class that opens at ``start``."""
    position = start + 1
    if pattern.startswith("^", position):
        position += 1
    # A "]" first in a class is one of its characters, not its end.
    if pattern.startswith("]", position):
        position += 1
    while pattern[position] != "]":
        position += 2 if pattern[position] == "\\" else 1
    return position + 1


class _Unsure(Exception):
    """The scan met something it cannot read with certainty."""


Choices = tuple[tuple[str, ...], ...]
MIN_CHOICE = 3


def required_choices(pattern: str) -> Choices:
    """Choices of lower-cased ASCII texts: every match of a pattern contains one text of each.

    Each run of plain characters is a choice of one text, as in ``required_text``; a group
    that must occur once adds its own choices, and a group of alternatives the longest run of
    each ("(pilot|lighthouse) cities" gives ("cities",), ("lighthouse", "pilot")). What the
    scan cannot read with certainty gives no choice. A text's choices hold in its lower-cased
    form when it has none of the CASE_TWINS (``may_skip``).
    """
    try:
        re.compile(pattern)
    except re.error:
        return ()
    if _FLAG_OR_COMMENT.search(pattern):
        return ()
    try:
        choices = _choices(pattern, 0, len(pattern))
    except _Unsure:
        return ()
    # Texts of one or two characters are in nearly every call: testing them spares nothing.
    kept = {
        choice
        for choice in choices
        if all(text.isascii() and len(text) >= MIN_CHOICE for text in choice)
    }
    return tuple(sorted(kept))


def may_skip(text: str) -> bool:
    """Whether ``required_choices`` hold for a text: it has none of the CASE_TWINS."""
    return _CASE_TWIN.search(text) is None


def _choices(pattern: str, start: int, end: int) -> list[tuple[str, ...]]:
    """The choices of ``pattern[start:end]``, a whole pattern or a group's inside."""
    alternatives = _alternatives(pattern, start, end)
    if len(alternatives) == 1:
        return _sequence_choices(pattern, start, end)
    runs = [_longest_run(_sequence_choices(pattern, a, b)) for a, b in alternatives]
    return [tuple(sorted(set(runs)))] if all(runs) else []


def _alternatives(pattern: str, start: int, end: int) -> list[tuple[int, int]]:
    """The spans of the alternatives of ``pattern[start:end]`` (split at its own "|")."""
    spans, first, position = [], start, start
    while position < end:
        char = pattern[position]
        if char == "\\":
            position += 2
        elif char == "[":
            position = _class_end(pattern, position)
        elif char == "(":
            position = _group_end(pattern, position)
        else:
            if char == "|":
                spans.append((first, position))
                first = position + 1
            position += 1
    spans.append((first, end))
    return spans


def _longest_run(choices: list[tuple[str, ...]]) -> str:
    """The longest text that is a choice of its own, or ""."""
    return max((choice[0] for choice in choices if len(choice) == 1), key=len, default="")


def _sequence_choices(pattern: str, start: int, end: int) -> list[tuple[str, ...]]:
    """The choices of a span without alternatives: its plain runs and its groups' choices."""
    # One entry per element: its character when it is a literal, a group's choices, or None.
    elements: list[str | list[tuple[str, ...]] | None] = []
    position = start
    while position < end:
        char = pattern[position]
        quantifier = _QUANTIFIER.match(pattern, position, end)
        if quantifier:
            # The repeated element may occur any number of times, or not at all.
            if elements:
                elements[-1] = None
            elements.append(None)
            position = quantifier.end()
        elif char == "(":
            close = _group_end(pattern, position)
            inside = _group_inside(pattern, position)
            elements.append(None if inside is None else _choices(pattern, inside, close - 1))
            position = close
        elif char == "[":
            elements.append(None)
            position = _class_end(pattern, position)
        elif char == "\\":
            escaped = pattern[position + 1]
            if escaped.isascii() and escaped.isalnum():
                if escaped not in _CLASS_ESCAPES:
                    raise _Unsure(pattern)
                elements.append(None)
            else:
                elements.append(escaped)
            position += 2
        else:
            elements.append(None if char in ".^${" else char)
            position += 1
    choices: list[tuple[str, ...]] = []
    run = ""
    for element in [*elements, None]:
        if isinstance(element, str):
            run += element
            continue
        if run:
            choices.append((run.lower(),))
        run = ""
        if element:
            choices.extend(element)
    return choices


def _group_inside(pattern: str, start: int) -> int | None:
    """Where the inside of a plain group ("(" or "(?:") that opens at ``start`` begins; None
    for any other group (look-arounds, named groups, back-references)."""
    if not pattern.startswith("?", start + 1):
        return start + 1
    return start + 3 if pattern.startswith("?:", start + 1) else None
