"""The matcher benchmarks' work (benchmarks/matcher_work.py) reads the snapshot with the
crawler's own spider and pipelines outside a crawl: a change to them that breaks that path
fails here, not first in `make bench`."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_the_benchmarks_read_the_snapshots_calls(snapshot_dir, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.setenv("EUFUNDS_SHARED", str(snapshot_dir.parent))
    for name in ("harness", "matcher_work"):
        sys.modules.pop(name, None)
    import matcher_work

    calls = matcher_work.snapshot_calls()
    # The snapshot's 723 results, once the crawler has merged their duplicates.
    assert len(calls) == 640
    assert len({call.id for call in calls}) == 640
    assert all(call.id.startswith("ft_portal/") and call.title for call in calls)
