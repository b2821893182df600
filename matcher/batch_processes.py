"""Work shared out over forked processes: this one does the first share, children the rest.

Only where it pays and is safe: a batch of at least PROCESSES_FROM calls (a fork and sending
results back cost some tens of milliseconds), when the machine has a CPU to spare (its load
over the last minute leaves more than half a CPU idle: on a busy machine two processes share
one CPU and only add their overhead), on a POSIX system, from a process with no other thread
(a child forked beside other threads may inherit a lock one of them held). Each child
sends its results back pickled through a pipe and ends; one that dies without a result has its
share done here instead, one that fails raises its error here. Results come back in order, so
the work's outcome does not depend on how many processes did it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
Final = TypeVar("Final")

MAX_PROCESSES = 2
PROCESSES_FROM = 5_000
SPARE_CPU = 0.5


def default_processes(call_count: int) -> int:
    """How many processes a batch of ``call_count`` calls is worth: one per CPU this process
    may use (up to MAX_PROCESSES) from PROCESSES_FROM calls on, while more than half a CPU
    is idle; else one."""
    if call_count < PROCESSES_FROM or not hasattr(os, "fork"):
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 1
    if hasattr(os, "getloadavg") and os.getloadavg()[0] > cpus - SPARE_CPU:
        return 1
    return max(1, min(MAX_PROCESSES, cpus))


def in_processes(
    work: Callable[[Sequence[Item]], list[Result]],
    items: Sequence[Item],
    processes: int,
    finish: Callable[[Result], Final],
) -> list[Final]:
    """``finish`` of each result of ``work(items)``, with the items shared out over up to
    ``processes`` processes (``finish`` runs here: on this share's results while the children
    still work)."""
    processes = min(processes, len(items))
    if processes <= 1 or not hasattr(os, "fork") or threading.active_count() > 1:
        return [finish(result) for result in work(items)]
    bounds = [len(items) * share // processes for share in range(processes + 1)]
    shares = [items[start:end] for start, end in zip(bounds[:-1], bounds[1:], strict=True)]
    children = [_Child.start(work, share) for share in shares[1:]]
    try:
        results = [finish(result) for result in work(shares[0])]
        for child, share in zip(children, shares[1:], strict=True):
            results += [finish(result) for result in child.result(work, share)]
    finally:
        for child in children:
            child.stop()
    return results


class _Child:
    """A forked child doing ``work`` on a share, and the pipe its result comes back on."""

    def __init__(self, pid: int, reader: int) -> None:
        self.pid, self.reader = pid, reader
        self.done = False

    @classmethod
    def start(cls, work: Callable[[Sequence[Item]], list[Result]], share: Sequence[Item]):
        """Fork a child that does ``work(share)`` and sends back what it returned."""
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(reader)
            status = 0
            try:
                try:
                    answer = ("ok", work(share))
                except BaseException:
                    answer = ("error", traceback.format_exc())
                with os.fdopen(writer, "wb") as pipe:
                    pickle.dump(answer, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:
                status = 1
            finally:
                os._exit(status)
        os.close(writer)
        return cls(pid, reader)

    def result(
        self, work: Callable[[Sequence[Item]], list[Result]], share: Sequence[Item]
    ) -> list[Result]:
        """What the child's work returned; done here if the child ended without an answer."""
        with os.fdopen(self.reader, "rb") as pipe:
            self.reader = -1
            try:
                status, value = pickle.load(pipe)
            except EOFError:
                status, value = "died", None
        self._reap()
        if status == "error":
            raise RuntimeError(f"analysis in a child process failed:\n{value}")
        return value if status == "ok" else work(share)

    def stop(self) -> None:
        """End the child if it still runs (the parent failed first), and reap it."""
        if self.reader >= 0:
            os.close(self.reader)
            self.reader = -1
        if not self.done:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._reap()

    def _reap(self) -> None:
        """Wait for the child's end, so it leaves no zombie."""
        if not self.done:
            os.waitpid(self.pid, 0)
            self.done = True
