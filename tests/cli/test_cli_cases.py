"""The hostile command-line cases of issue #15 (``tests/helpers/cli_cases.py``), one test each.

All cases run once, two at a time, in children of the fork server; each test then checks
its own case: refused with the documented exit code and message, or done correctly; never a
traceback, a hang, unbounded memory, a changed user file or an escape sequence on the
terminal. The last test states the counts the issue asks for.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.helpers import cli_cases

CASES = cli_cases.all_cases()


@pytest.fixture(scope="module")
def results(forker):
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch).chmod(0o755)  # cases running as user nobody must reach their directory
        yield cli_cases.run_all(forker, Path(scratch), CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(results, case) -> None:
    kind, outcome = results[case.id]
    assert kind in ("clean", "correct"), (kind, outcome.code, outcome.err[-2000:])


def test_counts(results) -> None:
    counts = cli_cases.counts(results)
    good = counts["clean"] + counts["correct"]
    assert good / len(results) >= 0.98, counts
    for finding in ("traceback", "data-loss", "security"):
        assert counts[finding] == 0, counts
