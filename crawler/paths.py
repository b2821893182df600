"""Where a value sits in a source's JSON record: paths written in a source's configuration.

A path is keys joined by dots, each optionally followed by ``[N]`` (the N-th item of a
list) or ``[key=value]`` (the first item of a list whose key has that value):
``results[0].hits``, ``LankLista[0].URL``, ``WebTextLista[TextID=2].TextSv``. The empty path
is the record itself.
"""

from __future__ import annotations

import re
from typing import Any

_STEP = re.compile(r"([^.\[\]]+)((?:\[[^\]]*\])*)")
_SELECTOR = re.compile(r"\[([^\]]*)\]")


def check_path(path: str) -> str | None:
    """Why a path cannot be read, or None when it can."""
    if path == "":
        return None
    for part in path.split("."):
        if not _STEP.fullmatch(part):
            return f"{path!r} is not a path (keys joined by '.', with [N] or [key=value])"
    return None


def lookup(record: Any, path: str) -> Any:
    """The value at a path in a record; None where the record has no such value."""
    value = record
    if path == "":
        return value
    for part in path.split("."):
        key, selectors = _STEP.fullmatch(part).groups()
        value = value.get(key) if isinstance(value, dict) else None
        for selector in _SELECTOR.findall(selectors):
            value = _select(value, selector)
        if value is None:
            return None
    return value


def _select(value: Any, selector: str) -> Any:
    """The item of a list a selector names: ``N`` or ``key=value``."""
    if not isinstance(value, list):
        return None
    if selector.isdigit():
        index = int(selector)
        return value[index] if index < len(value) else None
    key, _, wanted = selector.partition("=")
    return next(
        (item for item in value if isinstance(item, dict) and str(item.get(key)) == wanted), None
    )
