"""matching.toml: how calls are scored, and the programmes departments may prefer."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

from db.records import Department, EligibilityRule, MatchingSettings, ScoreModel
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
                "who_may_apply": ((bool,), True),
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
                who_may_apply=table["who_may_apply"],
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


MODEL_FILE = "model.json"
# The digest precision the cut-offs are chosen for (the project's target).
TARGET_PRECISION = 0.65


def parse_model(
    path: Path, matching: MatchingSettings, departments: Sequence[Department]
) -> ScoreModel:
    """config/model.json, as `eufunds train` writes it: its features must be ones this
    configuration has (log-score, programme:CODE of [programmes]), every number finite and
    every threshold a probability of a configured department."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(path, "", f"cannot read the model: {exc}") from None
    table = check_table(
        path,
        "",
        document,
        {
            "version": ((str,), REQUIRED),
            "features": ((list,), REQUIRED),
            "coefficients": ((list,), REQUIRED),
            "intercept": ((int, float), REQUIRED, (-1000, 1000)),
            "threshold": ((int, float), REQUIRED, (0, 1)),
            "thresholds": ((dict,), {}),
            "trained_on": ((dict,), {}),
        },
    )
    known = {"log-score"} | {f"programme:{code}" for code, _ in matching.programmes}
    for name in table["features"]:
        if name not in known:
            raise ConfigError(
                path, "features", f"{name!r} is no feature of this configuration: retrain"
            )
    numbers = table["coefficients"]
    if len(numbers) != len(table["features"]) or not all(
        isinstance(n, int | float) and math.isfinite(n) and abs(n) <= 1000 for n in numbers
    ):
        raise ConfigError(path, "coefficients", "one finite number per feature is needed")
    ids = {department.id for department in departments}
    for department_id, value in table["thresholds"].items():
        if department_id not in ids:
            raise ConfigError(
                path, "thresholds", f"no department {department_id!r}: retrain the model"
            )
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ConfigError(path, "thresholds", f"{department_id}: not a probability")
    return ScoreModel(
        version=table["version"],
        features=tuple(table["features"]),
        coefficients=tuple(float(n) for n in numbers),
        intercept=float(table["intercept"]),
        threshold=float(table["threshold"]),
        thresholds=tuple(sorted((k, float(v)) for k, v in table["thresholds"].items())),
        trained_on=tuple(sorted((str(k), str(v)) for k, v in table["trained_on"].items())),
    )


def model_document(model: ScoreModel) -> dict:
    """The JSON document of a model, as parse_model reads it."""
    return {
        "version": model.version,
        "features": list(model.features),
        "coefficients": list(model.coefficients),
        "intercept": model.intercept,
        "threshold": model.threshold,
        "thresholds": dict(model.thresholds),
        "trained_on": dict(model.trained_on),
    }


PROGRAMME_NOTES_FILE = "programmes.toml"


def parse_programme_notes(
    path: Path, document: dict, matching: MatchingSettings
) -> tuple[tuple[str, str], ...]:
    """programmes.toml: one Swedish line per programme code of matching.toml's [programmes]
    (a code that is not there is refused, naming the known ones)."""
    top = check_table(path, "", document, {"programmes": ((dict,), {})})
    known = [code for code, _ in matching.programmes]
    notes = []
    for code, line in top["programmes"].items():
        if code not in known:
            raise ConfigError(
                path,
                f"programmes.{code}",
                f"unknown programme code '{code}' (known: {', '.join(known)})",
            )
        if not isinstance(line, str) or not line.strip():
            raise ConfigError(path, f"programmes.{code}", "expected a line of text")
        notes.append((code, " ".join(line.split())))
    return tuple(notes)
