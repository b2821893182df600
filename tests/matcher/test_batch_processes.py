"""Batch analysis shared out over forked processes: same results, in order, errors surface."""

from __future__ import annotations

import os
import threading

import pytest

from matcher import batch_analysis, batch_processes
from matcher.batch_analysis import forget_vocabulary
from matcher.batch_processes import PROCESSES_FROM, default_processes, in_processes
from matcher.rank import analyse_call, analyse_calls, analyser_for


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    """The ids of the children forked while a test runs."""
    forked: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(batch_processes.os, "fork", fork)
    return forked


def squares(items) -> list[int]:
    """The work of the tests below: each item squared, in order."""
    return [item * item for item in items]


def test_results_come_back_in_order(forks):
    """Three processes, the results of all the items in their order, each finished."""
    assert in_processes(squares, list(range(10)), 3, str) == [str(n * n) for n in range(10)]
    assert len(forks) == 2


def test_no_fork_for_one_process_or_one_item(forks):
    """One process, or one item to share, is done here."""
    assert in_processes(squares, [3, 4], 1, str) == ["9", "16"]
    assert in_processes(squares, [3], 2, str) == ["9"]
    assert forks == []


def test_no_fork_beside_other_threads(forks):
    """A process with other threads never forks (a child could inherit a held lock)."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert in_processes(squares, list(range(6)), 2, int) == [n * n for n in range(6)]
    finally:
        stop.set()
        thread.join()
    assert forks == []


def test_an_error_in_a_child_is_raised_with_its_traceback():
    """A child's exception is raised here, with the child's traceback."""

    def failing(items):
        if 5 in items:
            raise ValueError("no fives")
        return squares(items)

    with pytest.raises(RuntimeError, match="no fives"):
        in_processes(failing, list(range(6)), 2, int)


def test_a_child_that_dies_has_its_share_done_here():
    """A child that ends without an answer (killed, out of memory) leaves its share to us."""
    parent = os.getpid()

    def dying(items):
        if os.getpid() != parent:
            os._exit(3)
        return squares(items)

    assert in_processes(dying, list(range(6)), 2, int) == [n * n for n in range(6)]


def test_large_batches_only(monkeypatch):
    """Small batches stay in one process; large ones use the CPUs there are, up to two."""
    monkeypatch.setattr(batch_processes.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert default_processes(PROCESSES_FROM - 1) == 1
    cpus = len(os.sched_getaffinity(0))
    assert default_processes(PROCESSES_FROM) == min(2, cpus)


def test_one_process_on_a_busy_machine(monkeypatch):
    """With no CPU to spare, a second process would only share the one there is."""
    cpus = len(os.sched_getaffinity(0))
    monkeypatch.setattr(batch_processes.os, "getloadavg", lambda: (cpus - 0.4, 0.0, 0.0))
    assert default_processes(PROCESSES_FROM) == 1


def test_analyses_over_two_processes_are_the_reference(calls, config, forks, monkeypatch):
    """The research calls in slices of 100 over two processes: the per-call analyses."""
    monkeypatch.setattr(batch_analysis, "SLICE", 100)
    forget_vocabulary()
    analyser = analyser_for(config.matching)
    analyses = analyse_calls(calls, analyser, processes=2)
    assert len(forks) == 1
    reference = [analyse_call(call, analyser) for call in calls]
    assert [a.to_fields() for a in analyses] == [a.to_fields() for a in reference]
