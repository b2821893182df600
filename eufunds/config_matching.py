"""matching.toml: how calls are scored, and the programmes departments may prefer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from db.records import Department, EligibilityRule, MatchingSettings
from eufunds.config_checks import REQUIRED, ConfigError, check_table, entries


def parse_matching(path: Path, document: dict) -> MatchingSettings:
    """matching.toml: weights, area, who-may-apply rules, programmes and the term list."""
    defaults = MatchingSettings()
    top = check_table(
        path,
        "",
        document,
        {
            "weights": ((dict,), {}),
            "rule": ((list,), []),
            "terms": ((dict,), {}),
            "area": ((dict,), {}),
            "programmes": ((dict,), {}),
        },
    )
    number = (int, float)
    area = check_table(
        path,
        "area",
        top["area"],
        {
            "home": ((str,), defaults.home_region),
            "factor": (number, defaults.out_of_area_factor, (0, 1)),
            "own_factor": (number, defaults.own_area_factor, (1, 10)),
        },
    )
    if not re.fullmatch(r"[A-Z]{2}[0-9A-Z]{0,3}", area["home"]):
        raise ConfigError(
            path, "area", f"'home' must be a NUTS code like SE211, got {area['home']!r}"
        )
    weights = check_table(
        path,
        "weights",
        top["weights"],
        {
            "focus_weight": (number, defaults.focus_weight, (0, 10)),
            "title_weight": (number, defaults.title_weight, (0, 10)),
            "description_weight": (number, defaults.description_weight, (0, 1)),
            "preferred_programme_boost": (number, defaults.preferred_programme_boost, (0, 10)),
            # A factor below 1: a negative keyword lowers a score, never raises it.
            "negative_keyword_penalty": (number, defaults.negative_keyword_penalty, (0, 1)),
            "focus_threshold": (number, defaults.focus_threshold, (0, 1)),
        },
    )
    rules = []
    for label, entry in entries(path, {"rule": top["rule"]}, "rule") if top["rule"] else []:
        table = check_table(
            path,
            label,
            entry,
            {
                "id": ((str,), REQUIRED),
                "label": ((str,), REQUIRED),
                "factor": (number, REQUIRED, (0.01, 10)),
                "patterns": ((list,), REQUIRED),
            },
        )
        for pattern in table["patterns"]:
            if not isinstance(pattern, str):
                raise ConfigError(path, label, "'patterns' must be a list of strings")
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ConfigError(path, label, f"bad pattern {pattern!r}: {exc}") from None
            if compiled.search("") is not None:
                raise ConfigError(
                    path, label, f"pattern {pattern!r} matches any text (even none at all)"
                )
        rules.append(
            EligibilityRule(
                id=table["id"],
                label=table["label"],
                patterns=tuple(table["patterns"]),
                factor=float(table["factor"]),
            )
        )
    terms = []
    for swedish, english in top["terms"].items():
        if not isinstance(english, str) or not english.strip():
            raise ConfigError(path, f"terms '{swedish}'", "the English term must be a string")
        terms.append((swedish.strip().lower(), english.strip().lower()))
    return MatchingSettings(
        **{key: float(value) for key, value in weights.items()},
        terms=tuple(terms),
        eligibility_rules=tuple(rules),
        programmes=_parse_programmes(path, top["programmes"]),
        home_region=area["home"],
        out_of_area_factor=float(area["factor"]),
        own_area_factor=float(area["own_factor"]),
    )


def _parse_programmes(path: Path, table: dict) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """[programmes]: code = the names calls of the programme carry ("Name*": the name, or
    the name followed by more words)."""
    programmes = []
    for code, names in table.items():
        if not re.fullmatch(r"[A-Z][A-Z0-9+-]*", code):
            raise ConfigError(path, f"programmes '{code}'", "a code is upper-case, like LIFE")
        if isinstance(names, str):
            names = [names]
        if not names or not all(isinstance(n, str) and n.strip("* ") for n in names):
            raise ConfigError(path, f"programmes '{code}'", "needs a list of programme names")
        programmes.append((code, tuple(names)))
    return tuple(programmes)


def check_preferred_programmes(
    path: Path, departments: Sequence[Department], matching: MatchingSettings
) -> None:
    """Every preferred programme of a department is a code of matching.toml's [programmes]."""
    known = [code for code, _ in matching.programmes]
    for department in departments:
        for code in department.preferred_programmes:
            if code not in known:
                raise ConfigError(
                    path,
                    f"department '{department.id}'",
                    f"preferred programme {code!r} is no programme of matching.toml "
                    f"(known: {', '.join(known)})",
                )
