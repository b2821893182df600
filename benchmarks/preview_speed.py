"""Profile preview speed: one department's preview over 20,000 stored calls.

Run: make bench   (or: EUFUNDS_SHARED=../shared .venv/bin/python benchmarks/preview_speed.py)

The work: the matcher benchmark's 20,000 calls (the snapshot's real calls repeated with
distinct ids, ``matcher_work``) stored in a fresh SQLite file in a temporary folder, matched
once with the configured departments (so their analyses are stored, as after any crawl), and
the social department's profile with one keyword added. One thread (BLAS/OpenMP 1).

Measured, medians (time.perf_counter, each in a fresh forked child):
1. cold: the first preview after a crawl changed the calls (or a new day): the open calls and
   their analyses read from the database and a matcher fitted, then the preview;
2. warm: a preview while the calls are as they were (the web app keeps the corpus between
   previews): the edited profile built over the fitted corpus, scored, digests compared.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import harness  # noqa: E402
from matcher_work import CALLS, load_work  # noqa: E402

from db import Store  # noqa: E402
from eufunds.config import load_config  # noqa: E402
from eufunds.matching import run_match  # noqa: E402
from eufunds.preview import forget_corpora, preview_profile  # noqa: E402
from eufunds.profiles import effective_config  # noqa: E402

NOW = harness.SNAPSHOT_DAY
RUNS = 5
TARGET = 0.5
DEPARTMENT = "social"


def edited_profile(config):
    """The social department with one keyword more, as a coordinator would try it."""
    social = next(d for d in config.written_departments if d.id == DEPARTMENT)
    return replace(social, keywords_en={**social.keywords_en, "hydrogen": 3.0})


def cold(db_path: Path, _run: int) -> harness.Run:
    """A preview with nothing kept: the corpus read and fitted first."""
    forget_corpora()
    with Store(db_path) as store:
        config = effective_config(load_config(), store, NOW)
        started = time.perf_counter()
        preview = preview_profile(store, config, edited_profile(config), NOW)
        total = time.perf_counter() - started
    assert preview.open_calls == CALLS
    return {"total": total}


def warm(db_path: Path, _run: int) -> harness.Run:
    """A preview with the corpus kept from an earlier one (made untimed first)."""
    with Store(db_path) as store:
        config = effective_config(load_config(), store, NOW)
        preview_profile(store, config, edited_profile(config), NOW)
        started = time.perf_counter()
        preview = preview_profile(store, config, edited_profile(config), NOW)
        total = time.perf_counter() - started
    assert preview.open_calls == CALLS
    return {"total": total}


def main() -> None:
    config = load_config()
    work = load_work(config, batches=1)
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "preview.db"
        started = time.perf_counter()
        with Store(db_path) as store:
            store.upsert_calls(work.corpus, NOW)
            run_match(store, config, NOW)
        print(f"work: {CALLS:,} calls stored and matched in {time.perf_counter() - started:.1f} s")
        runs = {
            "cold": harness.repeat("cold preview", lambda run: cold(db_path, run), runs=RUNS),
            "warm": harness.repeat("warm preview", lambda run: warm(db_path, run), runs=RUNS),
        }
    rows = []
    for name, label in (
        ("cold", "first preview after a crawl (corpus read and fitted)"),
        ("warm", "preview with the corpus kept (the web app's case)"),
    ):
        median = harness.medians(runs[name], ["total"])["total"]
        met = "met" if median < TARGET else "NOT met"
        rows.append(
            [
                label,
                f"< {TARGET} s {met}",
                f"{median:.3f} s ({harness.runs_text(runs[name], spec='.3f')})",
            ]
        )
    print()
    print(harness.markdown_table(["measure", "target", "measured (median)"], rows))


if __name__ == "__main__":
    main()
