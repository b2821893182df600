"""Checks shared by every configuration file: TOML reading, tables, entries, ids, addresses.

Each problem is a ConfigError described in one line: file, entry, what is wrong.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Any

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
EMAIL_PATTERN = re.compile(r"^[^@\s<>,;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# The default of a key that must be given.
REQUIRED = object()
# Keyword weights: relative, so a range this wide leaves every sensible profile possible.
MIN_KEYWORD_WEIGHT, MAX_KEYWORD_WEIGHT = 0.01, 100


class ConfigError(Exception):
    """A configuration problem, described in one line: file, entry, what is wrong."""

    def __init__(self, path: Path | str, entry: str, message: str):
        self.path, self.entry, self.message = Path(path), entry, message
        where = f"{self.path}: {entry}: " if entry else f"{self.path}: "
        super().__init__(where + message)


def read_toml(path: Path) -> dict:
    """Parse one TOML file, turning every read or syntax problem into a ConfigError."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"invalid TOML: {exc}") from None


def check_table(path: Path, entry: str, table: Any, spec: dict[str, tuple]) -> dict:
    """Check keys and types of one table against spec {key: (types, default[, (low, high)])};
    fill defaults. Every number must be finite, and within its range where one is given."""
    if not isinstance(table, dict):
        raise ConfigError(path, entry, f"expected a table, got {type(table).__name__}")
    for key in table:
        if key not in spec:
            raise ConfigError(path, entry, f"unknown key '{key}' (allowed: {', '.join(spec)})")
    checked = {}
    for key, (types, default, *limits) in spec.items():
        if key not in table:
            if default is REQUIRED:
                raise ConfigError(path, entry, f"missing required key '{key}'")
            checked[key] = default
            continue
        value = table[key]
        if isinstance(value, bool) and bool not in types:
            raise ConfigError(path, entry, f"'{key}' must be {type_names(types)}, got boolean")
        if not isinstance(value, types):
            raise ConfigError(
                path, entry, f"'{key}' must be {type_names(types)}, got {type(value).__name__}"
            )
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, high = limits[0] if limits else (-math.inf, math.inf)
            check_number(path, entry, f"'{key}'", value, low, high)
        checked[key] = value
    return checked


def check_number(path: Path, entry: str, what: str, value: float, low: float, high: float) -> None:
    """A finite number from low to high, else a ConfigError naming it and the range."""
    try:
        number = float(value)
    except OverflowError:  # an integer too large to be any setting
        number = math.inf
    if math.isfinite(number) and low <= number <= high:
        return
    shown = repr(value) if len(repr(value)) <= 24 else f"{repr(value)[:20]}…"
    if math.isinf(low) and math.isinf(high):
        raise ConfigError(path, entry, f"{what} must be a finite number, got {shown}")
    raise ConfigError(path, entry, f"{what} must be a number from {low:g} to {high:g}, got {shown}")


def type_names(types: tuple[type, ...]) -> str:
    """The types as words for an error message: 'a string or a number'."""
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }
    return " or ".join(dict.fromkeys(names[t] for t in types))


def entries(path: Path, document: dict, name: str) -> list[tuple[str, dict]]:
    """The [[name]] entries of a document, each with a label for error messages."""
    extra = [key for key in document if key != name]
    if extra:
        raise ConfigError(path, "", f"unknown top-level key '{extra[0]}' (expected [[{name}]])")
    entries = document.get(name, [])
    if not isinstance(entries, list) or not entries:
        raise ConfigError(path, "", f"expected at least one [[{name}]] entry")
    labelled = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        label = f"{name} '{entry_id}'" if isinstance(entry_id, str) else f"{name} #{position}"
        if isinstance(entry_id, str):
            if not ID_PATTERN.match(entry_id):
                raise ConfigError(path, label, "id must be lower-case letters, digits, '-' or '_'")
            if entry_id in seen:
                raise ConfigError(path, label, "duplicate id")
            seen.add(entry_id)
        labelled.append((label, entry))
    return labelled


def check_email(path: Path, entry: str, key: str, address: str) -> str:
    """The address, when it looks like one; else a ConfigError naming the key."""
    if not EMAIL_PATTERN.match(address):
        raise ConfigError(path, entry, f"'{key}' is not a valid e-mail address: {address!r}")
    return address


def check_keywords(path: Path, entry: str, keywords: Any) -> tuple[dict, dict]:
    """Validate a keywords table {sv: {term: weight}, en: {term: weight}}: at least one
    keyword (a profile without any matches nothing), each weighed from above 0 to 100."""
    if not keywords:
        raise ConfigError(path, entry, "needs at least one keyword (keywords.sv or keywords.en)")
    table = check_table(
        path,
        entry + " keywords",
        keywords,
        {
            "sv": ((dict,), {}),
            "en": ((dict,), {}),
        },
    )
    result = []
    for language in ("sv", "en"):
        terms = {}
        for term, weight in table[language].items():
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise ConfigError(
                    path, entry, f"keyword '{term}' ({language}): weight must be a number"
                )
            what = f"keyword '{term}' ({language}): weight"
            check_number(path, entry, what, weight, MIN_KEYWORD_WEIGHT, MAX_KEYWORD_WEIGHT)
            if not term.strip():
                raise ConfigError(path, entry, f"an empty keyword ({language})")
            terms[term.strip().lower()] = float(weight)
        result.append(terms)
    if not any(result):
        raise ConfigError(path, entry, "needs at least one keyword (keywords.sv or keywords.en)")
    return result[0], result[1]
