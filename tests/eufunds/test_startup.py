"""Start-up stays light: the command and `config check` load none of the heavy libraries; each
is imported by the command that uses it (a behaviour, not a timing: benchmarks/startup.py
times it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

# Libraries no command needs before it does its work: the crawler's, the matcher's, the
# spreadsheet export's, the web app's, and sqlite-utils (with pandas) for migrating.
HEAVY = ("scrapy", "twisted", "sklearn", "pandas", "openpyxl", "flask", "numpy", "scipy")
PROBE = """
import json, sys
sys.argv = ["eufunds", *json.loads(sys.argv[1])]
from eufunds.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def loaded_after(*arguments: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after running `eufunds ARGUMENTS`."""
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(arguments)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        check=True,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("arguments", [(), ("--help",), ("config", "check")])
def test_no_heavy_library_at_start_up(arguments: tuple[str, ...]):
    assert loaded_after(*arguments) & set(HEAVY) == set()


def test_an_up_to_date_database_opens_without_sqlite_utils(crawled_snapshot, tmp_path):
    listed = loaded_after("runs", "--db", str(crawled_snapshot))
    assert "sqlite_utils" not in listed
    assert listed & set(HEAVY) == set()


def test_the_probe_sees_a_library_a_command_loads():
    # A check that cannot fail is no check: importing the matcher shows numpy and scipy.
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    script = "import sys, matcher.rank; print('numpy' in sys.modules and 'scipy' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment
    )
    assert result.stdout.strip() == "True"
