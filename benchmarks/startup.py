"""Whole-process timings of the commands people wait for: start-up and `make demo`.

Run: make bench   (or: EUFUNDS_SHARED=../shared .venv/bin/python benchmarks/startup.py)

Each command runs as a fresh process, as a user starts it (`eufunds` of this checkout), RUNS
times; the median is reported, next to the floor measured in the same run: a Python
interpreter that imports nothing (`python -c pass`). `make demo` is timed as its two
commands: `eufunds config check`, then `eufunds run-once` over the real snapshot into a
fresh database (a temporary folder for the database and outbox).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness

RUNS = 7
DEMO_RUNS = 5
TARGETS = {"help": 0.5, "check": 0.5, "demo": 4.0}
# The console script `make demo` runs (this checkout's code first on PYTHONPATH).
EUFUNDS = [str(Path(sys.executable).parent / "eufunds")]


def environment(folder: Path | None = None) -> dict[str, str]:
    """This checkout's code first; the database and outbox in ``folder`` when given."""
    env = {**os.environ, "PYTHONPATH": str(harness.REPO)}
    if folder is not None:
        env |= {"EUFUNDS_DB": str(folder / "demo.db"), "EUFUNDS_OUTBOX": str(folder / "out")}
    return env


def timed(command: list[str], env: dict[str, str]) -> float:
    """Seconds one process takes from start to exit; it must succeed."""
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=harness.REPO, check=True, capture_output=True)
    return time.perf_counter() - started


def demo_seconds() -> float:
    """`make demo`: config check, then run-once over the snapshot into a fresh database."""
    folder = Path(tempfile.mkdtemp(prefix="eufunds-demo-"))
    try:
        env = environment(folder)
        run_once = ["run-once", "--replay", str(harness.SHARED / "snapshot")]
        return timed([*EUFUNDS, "config", "check"], env) + timed(
            [*EUFUNDS, *run_once, "--as-of", "2026-08-22"], env
        )
    finally:
        shutil.rmtree(folder)


def main() -> None:
    harness.snapshot_pages()
    env = environment()
    measures = {
        "floor": lambda: timed([sys.executable, "-c", "pass"], env),
        "help": lambda: timed([*EUFUNDS, "--help"], env),
        "check": lambda: timed([*EUFUNDS, "config", "check"], env),
    }
    runs: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(RUNS):  # interleaved, so that a busy moment touches every measure
        for name, measure in measures.items():
            runs[name].append(measure())
    runs["demo"] = [demo_seconds() for _ in range(DEMO_RUNS)]
    median = {name: statistics.median(values) for name, values in runs.items()}
    names = {
        "help": "`eufunds --help`",
        "check": "`eufunds config check`",
        "demo": "`make demo` (config check + run-once over the snapshot, fresh database)",
    }
    rows = [
        [
            names[name],
            f"< {TARGETS[name]} s",
            f"{median[name]:.2f} s",
            f"{median[name] / median['floor']:.1f}x",
            " / ".join(f"{value:.2f}" for value in runs[name]),
        ]
        for name in names
    ]
    print(f"{os.cpu_count()} cores; Python floor (`python -c pass`): {median['floor']:.3f} s")
    print()
    print(
        harness.markdown_table(
            ["command", "target", "median", "x floor", "runs (s)"],
            rows,
        )
    )
    missed = [names[name] for name in names if median[name] >= TARGETS[name]]
    if missed:
        print(f"\nnot met: {', '.join(missed)}")


if __name__ == "__main__":
    main()
