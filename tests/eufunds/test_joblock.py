"""The job lock: runs never overlap, and a crash never blocks the next run.

The holders here are real processes: one that holds the lock and is killed, one that holds
it and lives on. Only a holder on another host, which cannot be checked from here, is
written into the database by hand.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from db import Busy, Store
from eufunds.cli import main
from eufunds.joblock import LOCK, LOCK_TTL, PipelineLock, this_process
from tests.conftest import REPO, SNAPSHOT_NOW

# A run that takes the lock, starts a crawl run and waits (until it is killed).
HOLDER = """
import sys, time
from datetime import UTC, datetime
from db import Store
from eufunds.joblock import PipelineLock
with PipelineLock(sys.argv[1]):
    with Store(sys.argv[1]) as store:
        store.start_crawl_run("ft_portal", datetime.now(UTC))
    print("holding", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def holder(db_path: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the job lock in the middle of a crawl; killed afterwards."""
    Store(db_path).close()
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout.readline().strip() == "holding"
        yield process
    finally:
        process.kill()
        process.wait()


def _dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return int(ended.stdout)


def test_store_lock_refuses_a_second_holder_until_it_expires(store):
    """A held lock refuses others; only its holder releases it; once expired anyone takes it."""
    taken = SNAPSHOT_NOW
    assert store.acquire_lock(LOCK, "host-a:1", taken, LOCK_TTL)
    assert not store.acquire_lock(LOCK, "host-b:2", taken + timedelta(hours=1), LOCK_TTL)
    assert not store.acquire_lock(LOCK, "host-b:2", taken + LOCK_TTL, LOCK_TTL)
    assert not store.release_lock(LOCK, "host-b:2")
    assert store.lock_holder(LOCK) == "host-a:1"
    stale = taken + LOCK_TTL + timedelta(seconds=1)
    assert store.acquire_lock(LOCK, "host-b:2", stale, LOCK_TTL)
    assert store.lock_holder(LOCK) == "host-b:2"
    assert store.release_lock(LOCK, "host-b:2")
    assert store.lock_holder(LOCK) is None


def test_pipeline_lock_refuses_a_concurrent_run(db_path):
    """While one run holds the lock a second is Busy, told who holds it; after it, free."""
    with PipelineLock(db_path) as held:
        busy = re.escape(f"another run is in progress ({this_process().describe()})")
        with pytest.raises(Busy, match=busy), PipelineLock(db_path):
            pass
        with Store(db_path) as store:
            assert store.lock_holder(LOCK) == held.holder
    with Store(db_path) as store:
        assert store.lock_holder(LOCK) is None


def test_pipeline_lock_is_released_when_the_run_fails(db_path):
    """An error inside the run still releases the lock."""
    with pytest.raises(RuntimeError, match="crawl broke"), PipelineLock(db_path):
        raise RuntimeError("crawl broke")
    with Store(db_path) as store:
        assert store.lock_holder(LOCK) is None


def test_expired_lock_of_another_host_is_taken_over(db_path):
    """A lock of another host (which cannot be checked) is taken once it has expired."""
    with Store(db_path) as store:
        died = datetime.now(UTC) - LOCK_TTL - timedelta(minutes=5)
        assert store.acquire_lock(LOCK, "crashed-host:99:123", died, LOCK_TTL)
    with PipelineLock(db_path) as held, Store(db_path) as store:
        assert store.lock_holder(LOCK) == held.holder


def test_live_holder_in_another_process_keeps_the_lock(holder, db_path):
    """A run still alive in another process keeps the lock; the refusal names it."""
    expected = f"another run is in progress ({socket.gethostname()}:{holder.pid})"
    with pytest.raises(Busy, match=re.escape(expected)), PipelineLock(db_path):
        pass
    with Store(db_path) as store:
        assert [run.status for run in store.crawl_runs()] == ["running"]


def test_lock_of_a_killed_run_is_taken_over_at_once(holder, db_path):
    """Killed mid-crawl, a run's lock goes to the next run at once, and its crawl run, left
    'running', is marked failed."""
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with PipelineLock(db_path) as taken, Store(db_path) as store:
        assert store.lock_holder(LOCK) == taken.holder
        [run] = store.crawl_runs()
    assert run.status == "failed"
    assert run.errors == ["the process running this crawl stopped"]


def test_lock_of_a_reused_process_id_is_taken_over(db_path):
    """A holder whose process id now belongs to another process (here: this one, started
    at another time) is gone."""
    with Store(db_path) as store:
        stale = f"{socket.gethostname()}:{os.getpid()}:1"
        assert store.acquire_lock(LOCK, stale, datetime.now(UTC), LOCK_TTL)
    with PipelineLock(db_path) as taken, Store(db_path) as store:
        assert store.lock_holder(LOCK) == taken.holder


def test_lock_written_by_an_earlier_version_is_taken_over_when_its_process_ended(db_path):
    """A holder written as host:pid (no start time) is gone once no such process runs."""
    with Store(db_path) as store:
        old = f"{socket.gethostname()}:{_dead_pid()}"
        assert store.acquire_lock(LOCK, old, datetime.now(UTC), LOCK_TTL)
    with PipelineLock(db_path) as taken, Store(db_path) as store:
        assert store.lock_holder(LOCK) == taken.holder


def test_lock_command_shows_and_clears_a_dead_holder(db_path):
    """`eufunds lock` names the holder and says it is gone; --clear removes it."""
    dead = _dead_pid()
    with Store(db_path) as store:
        assert store.acquire_lock(LOCK, f"{socket.gethostname()}:{dead}:5", SNAPSHOT_NOW, LOCK_TTL)
    shown = CliRunner().invoke(main, ["lock", "--db", str(db_path)])
    assert shown.exit_code == 0, shown.output
    assert f"held by {socket.gethostname()}:{dead} since 2026-08-22 14:00" in shown.output
    assert "the holder is gone" in shown.output
    cleared = CliRunner().invoke(main, ["lock", "--clear", "--db", str(db_path)])
    assert cleared.exit_code == 0, cleared.output
    assert cleared.output.strip().endswith("lock cleared")
    free = CliRunner().invoke(main, ["lock", "--db", str(db_path)])
    assert free.output.strip() == "the job lock is free"


def test_lock_command_keeps_a_live_holder_unless_forced(holder, db_path):
    """--clear refuses while the holder may run, in one line; --clear --force removes it."""
    refused = CliRunner().invoke(main, ["lock", "--clear", "--db", str(db_path)])
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines()[-1] == (
        "Error: not cleared: the holder may still be running; stop it, or use --clear --force"
    )
    forced = CliRunner().invoke(main, ["lock", "--clear", "--force", "--db", str(db_path)])
    assert forced.exit_code == 0, forced.output
    with Store(db_path) as store:
        assert store.lock_holder(LOCK) is None
