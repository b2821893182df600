"""Department profiles with the database as the source of truth once seeded.

The configuration (config/departments.toml) seeds version 1 of each department's profile the
first time a database meets it; after that, the newest stored version is the profile (the
web app saves new versions). Every command and the scheduler read profiles through
``effective_config``; ``export_config`` writes them back as TOML.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import tomli_w

from db import Store
from db.records import Department, FocusArea
from eufunds.config import Config, with_cutoffs

DEPARTMENTS_FILE = "departments.toml"
FOCUS_AREAS_FILE = "focus_areas.toml"


def effective_config(config: Config, store: Store, now: datetime, seed: bool = True) -> Config:
    """The configuration with each department's stored profile (seeding those not stored
    yet from the configuration, unless a command only reads), cut-offs applied as the
    configuration does."""
    written = config.written_departments or config.departments
    if seed:
        store.seed_profiles([*written, *config.focus_areas], now)
    stored = store.current_profiles()
    profiles = tuple(stored.get(d.id, d) for d in written)
    areas = store.current_profiles(FocusArea)
    return replace(
        config,
        departments=with_cutoffs(profiles, config.matching),
        written_departments=profiles,
        focus_areas=tuple(areas.get(a.id, a) for a in config.focus_areas),
    )


def department_document(department: Department) -> dict:
    """A department as departments.toml writes it."""
    return {
        "id": department.id,
        "name": department.name,
        "description_sv": department.description_sv,
        "description_en": department.description_en,
        "recipients": list(department.recipients),
        "digest_weekday": department.digest_weekday,
        "send_empty_digest": department.send_empty_digest,
        "min_score": department.min_score,
        "lead_time_days": department.lead_time_days,
        "preferred_programmes": list(department.preferred_programmes),
        "negative_keywords": list(department.negative_keywords),
        "keywords": {"sv": dict(department.keywords_sv), "en": dict(department.keywords_en)},
    }


def export_config(config: Config, directory: Path) -> list[Path]:
    """Write the configuration, with the profiles as they are now, as a configuration
    folder: every file of the one it was loaded from, departments.toml from the profiles.
    The folder must not hold a configuration already (nothing is overwritten)."""
    directory = Path(directory)
    if (directory / DEPARTMENTS_FILE).exists():
        raise FileExistsError(f"{directory} already holds a configuration; choose an empty folder")
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(config.directory.glob("*")):
        if source.is_file() and source.name not in (DEPARTMENTS_FILE, FOCUS_AREAS_FILE):
            written.append(Path(shutil.copy2(source, directory / source.name)))
    departments = config.written_departments or config.departments
    document = {"department": [department_document(d) for d in departments]}
    target = directory / DEPARTMENTS_FILE
    header = (
        "# Department profiles, exported by `eufunds config export` from the database (the\n"
        "# profiles as the EU coordinator last saved them).\n"
    )
    target.write_text(header + tomli_w.dumps(document), encoding="utf-8")
    written.append(target)
    areas = directory / FOCUS_AREAS_FILE
    document = {"focus_area": [focus_area_document(a) for a in config.focus_areas]}
    areas.write_text(
        header.replace("Department profiles", "Focus areas") + tomli_w.dumps(document),
        encoding="utf-8",
    )
    written.append(areas)
    return written


def focus_area_document(area: FocusArea) -> dict:
    """A focus area as focus_areas.toml writes it."""
    return {
        "id": area.id,
        "name": area.name,
        "kind": area.kind,
        "strategy_section": area.strategy_section,
        "strategy_quote": area.strategy_quote,
        "weight": area.weight,
        "description_sv": area.description_sv,
        "description_en": area.description_en,
        "keywords": {"sv": dict(area.keywords_sv), "en": dict(area.keywords_en)},
    }


def profile_changes(old: Department | FocusArea, new: Department | FocusArea) -> list[str]:
    """What changed between two versions of a profile, in Swedish, field by field:
    keywords added and removed (or reweighed), and each other field before and after."""
    changes = []
    for language, before, after in (
        ("sv", old.keywords_sv, new.keywords_sv),
        ("en", old.keywords_en, new.keywords_en),
    ):
        added = [f"+{t}" for t in after if t not in before]
        removed = [f"−{t}" for t in before if t not in after]
        weighed = [
            f"{t} {before[t]:g}→{after[t]:g}"
            for t in after
            if t in before and before[t] != after[t]
        ]
        if added or removed or weighed:
            changes.append(f"nyckelord ({language}): {', '.join(added + removed + weighed)}")
    labels = {
        "description_sv": "beskrivning (sv)",
        "description_en": "beskrivning (en)",
        "negative_keywords": "negativa nyckelord",
        "preferred_programmes": "program",
        "min_score": "minsta poäng",
        "lead_time_days": "framförhållning",
        "recipients": "mottagare",
        "digest_weekday": "utskicksdag",
        "send_empty_digest": "tomma utskick",
    }
    labels["weight"] = "vikt"
    for field, label in labels.items():
        if not hasattr(old, field):
            continue
        before, after = getattr(old, field), getattr(new, field)
        if before == after:
            continue
        if field.startswith("description"):
            changes.append(f"{label} ändrad")
        elif isinstance(before, tuple):
            plus = [f"+{x}" for x in after if x not in before]
            minus = [f"−{x}" for x in before if x not in after]
            changes.append(f"{label}: {', '.join(plus + minus) or 'ny ordning'}")
        else:
            changes.append(f"{label}: {before} → {after}")
    return changes
