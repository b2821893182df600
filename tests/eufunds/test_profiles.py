"""Profiles stored in the database: seeded from config/ once, then the source of truth that
every command reads, versioned, and exported back as TOML that loads again."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from db import Store
from eufunds.cli import main
from eufunds.config import load_config
from eufunds.joblock import LOCK, LOCK_TTL, PipelineLock
from eufunds.matching import run_match
from eufunds.preview import forget_corpora, open_corpus, preview_profile
from eufunds.profiles import effective_config, export_config, profile_changes
from eufunds.webcli import warm_previews
from tests.conftest import SNAPSHOT_NOW
from tests.support.databases import copy_database


def test_configuration_seeds_version_one_once(matched_snapshot, config, tmp_path):
    """The first read stores version 1 of each department from config/; later reads find
    them and store nothing more."""
    with Store(copy_database(matched_snapshot, tmp_path / "p.db")) as store:
        effective = effective_config(config, store, SNAPSHOT_NOW)
        assert effective.departments == config.departments
        versions = store.profile_versions("social")
        assert [(v.version, v.saved_by) for v in versions] == [(1, "configuration")]
        effective_config(config, store, SNAPSHOT_NOW)
        assert len(store.profile_versions("social")) == 1


def test_a_saved_profile_is_what_matching_uses(matched_snapshot, config, tmp_path):
    """A new version (a keyword no call of the department had) is what the next match reads:
    the department is re-scored and the new keyword lifts calls that contain it."""
    with Store(copy_database(matched_snapshot, tmp_path / "p.db")) as store:
        effective = effective_config(config, store, SNAPSHOT_NOW)
        social = next(d for d in effective.written_departments if d.id == "social")
        edited = replace(social, keywords_en={**social.keywords_en, "hydrogen": 3.0})
        assert store.save_profile(edited, "anna", SNAPSHOT_NOW, "vätgas") == 2
        again = effective_config(config, store, SNAPSHOT_NOW)
        assert next(d for d in again.departments if d.id == "social").keywords_en["hydrogen"]
        outcome = run_match(store, again, SNAPSHOT_NOW)
        assert "social" in outcome.run.departments_rescored
        matched = {m.call_id: m for m in store.matches("social")}
        hydrogen = [m for m in matched.values() if any(t == "hydrogen" for t, _ in m.terms)]
        assert hydrogen


def test_export_round_trip(matched_snapshot, config, tmp_path):
    """Export writes a configuration folder whose departments load back as the stored
    profiles, a saved change included; an existing configuration is never overwritten."""
    with Store(copy_database(matched_snapshot, tmp_path / "p.db")) as store:
        effective = effective_config(config, store, SNAPSHOT_NOW)
        social = next(d for d in effective.written_departments if d.id == "social")
        store.save_profile(replace(social, lead_time_days=30), "anna", SNAPSHOT_NOW, "")
        current = effective_config(config, store, SNAPSHOT_NOW)
    export_config(current, tmp_path / "exported")
    loaded = load_config(tmp_path / "exported")
    assert loaded.written_departments == current.written_departments
    assert loaded.departments == current.departments
    assert loaded.focus_areas == current.focus_areas
    assert next(d for d in loaded.departments if d.id == "social").lead_time_days == 30
    again = CliRunner().invoke(
        main, ["config", "export", str(tmp_path / "exported"), "--db", str(tmp_path / "p.db")]
    )
    assert again.exit_code == 1 and "already holds a configuration" in again.output


def test_export_command(matched_snapshot, tmp_path):
    """`eufunds config export DIR` writes a folder `config check` accepts."""
    db = copy_database(matched_snapshot, tmp_path / "p.db")
    result = CliRunner().invoke(main, ["config", "export", str(tmp_path / "out"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    checked = CliRunner().invoke(main, ["config", "check", "--config", str(tmp_path / "out")])
    assert checked.exit_code == 0, checked.output


def test_what_changed_between_versions(config):
    """Keywords added, removed and reweighed, and other fields before and after."""
    social = next(d for d in config.written_departments if d.id == "social")
    first_term = next(iter(social.keywords_en))
    keywords = {k: v for k, v in social.keywords_en.items() if k != first_term}
    edited = replace(
        social,
        keywords_en={**keywords, "hydrogen": 3.0},
        keywords_sv={**social.keywords_sv, "barnskydd": 9.0},
        lead_time_days=30,
        preferred_programmes=(*social.preferred_programmes, "LIFE"),
    )
    changes = profile_changes(social, edited)
    assert f"nyckelord (en): +hydrogen, −{first_term}" in changes
    assert any(c.startswith("nyckelord (sv): barnskydd ") and c.endswith("→9") for c in changes)
    assert f"framförhållning: {social.lead_time_days} → 30" in changes
    assert "program: +LIFE" in changes
    assert profile_changes(social, social) == []


def test_a_preview_scores_as_matching_does(matched_snapshot, config, tmp_path):
    """A preview's matcher (profiles built over the kept corpus) gives an unchanged
    department the scores the stored matches have; a second preview reuses the corpus."""
    with Store(copy_database(matched_snapshot, tmp_path / "p.db")) as store:
        current = effective_config(config, store, SNAPSHOT_NOW)
        forget_corpora()
        corpus = open_corpus(store, current, SNAPSHOT_NOW)
        assert open_corpus(store, current, SNAPSHOT_NOW) is corpus
        social = next(d for d in current.departments if d.id == "social")
        table = corpus.matcher.with_profiles([social]).score(corpus.calls, corpus.known)
        stored = {m.call_id: m.score for m in store.matches("social")}
        column = dict(zip((c.id for c in table.calls), table.final[:, 0], strict=True))
        assert stored and all(abs(column[c] - s) < 1e-3 for c, s in stored.items())
        preview = preview_profile(
            store,
            current,
            next(d for d in current.written_departments if d.id == "social"),
            SNAPSHOT_NOW,
        )
        assert preview.added == [] and preview.removed == []


def test_the_web_app_refits_the_previews_corpus_after_a_crawl(matched_snapshot, config, tmp_path):
    """What the web app's warm-up fits is the corpus the next preview uses; once a crawl has
    changed a call, the next warm-up fits again, with the call as it now is."""
    db_path = copy_database(matched_snapshot, tmp_path / "p.db")
    forget_corpora()
    warmed = warm_previews(config, db_path, SNAPSHOT_NOW)
    assert warm_previews(config, db_path, SNAPSHOT_NOW) is warmed
    with Store(db_path) as store:
        assert open_corpus(store, effective_config(config, store, SNAPSHOT_NOW), SNAPSHOT_NOW) is (
            warmed
        )
        changed = replace(warmed.calls[0], title="Ny titel efter genomsökningen")
        store.upsert_calls([changed], SNAPSHOT_NOW + timedelta(hours=1))
    rewarmed = warm_previews(config, db_path, SNAPSHOT_NOW)
    assert rewarmed is not warmed
    assert next(c for c in rewarmed.calls if c.id == changed.id).title == changed.title
    with Store(db_path) as store:
        current = effective_config(config, store, SNAPSHOT_NOW)
        assert open_corpus(store, current, SNAPSHOT_NOW) is rewarmed


def test_the_warm_up_waits_while_a_run_holds_the_job_lock(matched_snapshot, config, tmp_path):
    """A crawl changes the calls all the time it runs: the warm-up fits nothing under the
    job lock (a lock whose process is gone does not hold it back), and fits after."""
    db_path = copy_database(matched_snapshot, tmp_path / "p.db")
    forget_corpora()
    with PipelineLock(db_path):
        assert warm_previews(config, db_path, SNAPSHOT_NOW) is None
    with Store(db_path) as store:
        # A holder on this host whose process does not exist (pid beyond the kernel's limit).
        gone = f"{socket.gethostname()}:99999999"
        assert store.acquire_lock(LOCK, gone, datetime.now(UTC), LOCK_TTL)
    corpus = warm_previews(config, db_path, SNAPSHOT_NOW)
    assert corpus is not None and corpus.calls
