"""The job lock that keeps crawl, match and digest runs from overlapping, and survives crashes.

A holder is named by host, process id and the process's start time. A lock whose holder on
this host is gone (no such process, or the id now belongs to a later process) is taken over
at once, and crawl runs it left "running" are marked failed. A holder on another host cannot
be checked from here: its lock is taken over only when it expires.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from db import Busy, Store
from db.records import JobLock

LOCK = "pipeline"
LOCK_TTL = timedelta(hours=3)


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: host, process id and the process's start time (when known)."""

    host: str
    pid: int
    started: str = ""

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.started}" if self.started else self.describe()

    def describe(self) -> str:
        """host:pid, as people read it."""
        return f"{self.host}:{self.pid}"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """Read a stored holder ('host:pid:start', or 'host:pid' as earlier versions wrote)."""
        parts = text.split(":")
        if len(parts) not in (2, 3) or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2] if len(parts) == 3 else "")

    def is_gone(self) -> bool:
        """The holder is a process of this host that no longer runs (or whose id was reused)."""
        if self.host != socket.gethostname():
            return False
        started = process_start(self.pid)
        if started is None:
            return not _process_exists(self.pid)
        return bool(self.started) and started != self.started


def this_process() -> Holder:
    """This process as a lock holder."""
    pid = os.getpid()
    return Holder(socket.gethostname(), pid, process_start(pid) or "")


def process_start(pid: int) -> str | None:
    """When a process started (clock ticks since boot, from /proc); None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: count after it.
    return stat.rsplit(")", 1)[1].split()[19]


def _process_exists(pid: int) -> bool:
    """A process with this id exists (a signal-0 probe, where /proc is not available)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe(lock: JobLock) -> str:
    """The holder of a lock as people read it (host:pid)."""
    holder = Holder.parse(lock.holder)
    return holder.describe() if holder else lock.holder


def pipeline_running(store: Store, now: datetime) -> bool:
    """A run holds the job lock now: taken, not expired, and its holder still alive."""
    held = store.lock(LOCK)
    if held is None or held.expires_at < now:
        return False
    holder = Holder.parse(held.holder)
    return holder is None or not holder.is_gone()


class PipelineLock:
    """Hold the job lock for a block; taken over from a holder that is gone."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self.holder = str(this_process())

    def __enter__(self) -> PipelineLock:
        now = datetime.now(UTC)
        with Store(self.db_path) as store:
            if not store.acquire_lock(LOCK, self.holder, now, LOCK_TTL):
                held = store.lock(LOCK)
                if held is None or not _take_over(store, held, self.holder, now):
                    who = describe(held) if held else "unknown"
                    raise Busy(f"another run is in progress ({who})")
            # Crawls run only under this lock: any still "running" lost their process.
            store.fail_running_crawl_runs("the process running this crawl stopped", now)
        return self

    def __exit__(self, *exc_info: object) -> None:
        with Store(self.db_path) as store:
            store.release_lock(LOCK, self.holder)


def _take_over(store: Store, held: JobLock, holder: str, now: datetime) -> bool:
    """Take a lock whose holder is gone; False when it is alive or another run took it first."""
    previous = Holder.parse(held.holder)
    if previous is None or not previous.is_gone():
        return False
    return store.take_over_lock(LOCK, held.holder, holder, now, LOCK_TTL)


def lock_state(db_path: Path) -> tuple[JobLock | None, bool]:
    """The job lock as held now (or None) and whether its holder is known to be gone."""
    with Store(db_path, create=False) as store:
        held = store.lock(LOCK)
    if held is None:
        return None, False
    holder = Holder.parse(held.holder)
    return held, bool(holder and holder.is_gone())


def clear_lock(db_path: Path, held: JobLock) -> bool:
    """Remove this holding of the job lock (and nobody else's); False if it had changed."""
    with Store(db_path) as store:
        return store.release_lock(LOCK, held.holder)
