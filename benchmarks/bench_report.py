"""The report: rendering alone, and the whole report cold (no fit cache) and warm (cached fit).

``make test`` (``--benchmark-disable``) only renders a report from a synthetic projection once;
the cold and warm runs fit the PyMC model and run under ``make bench``. They time
``compute-gap report`` in a fresh process, as a user runs it (imports included; a process that
has sampled keeps JAX's threads busy, which would slow a warm run in the same process).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import forecast
from forecast.report import write_report
from tests.helpers.reports import report_inputs, synthetic_projection


def _report(out: Path, cache: Path) -> Path:
    """``compute-gap report`` in a fresh process; returns the report directory."""
    command = [sys.executable, "-m", "forecast", "report", "--out", str(out), "--cache-dir",
               str(cache), "--quiet"]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return out


def _skip_when_quick(benchmark) -> None:
    if benchmark.disabled:
        pytest.skip("fits the PyMC model: runs under `make bench` only")


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """A fit cache shared by the cold run (which fills it) and the warm run."""
    return tmp_path_factory.mktemp("fit-cache")


def test_render_report(benchmark, tmp_path) -> None:
    inputs = report_inputs(synthetic_projection(), forecast.load_dataset())
    rounds = 1 if benchmark.disabled else 3
    out = benchmark.pedantic(write_report, args=(inputs, tmp_path / "r"), rounds=rounds)
    assert (out / "report.html").is_file()


def test_report_cold(benchmark, tmp_path, cache) -> None:
    _skip_when_quick(benchmark)
    out = benchmark.pedantic(_report, args=(tmp_path / "r", cache), rounds=1, iterations=1)
    assert (out / "report.html").is_file()
    print(f"\nreport, cold (fit sampled): {benchmark.stats.stats.min:.1f} s")


def test_report_warm(benchmark, tmp_path, cache) -> None:
    _skip_when_quick(benchmark)
    start = time.perf_counter()
    _report(tmp_path / "r", cache)  # fills the cache unless the cold run did
    filled = time.perf_counter() - start
    out = benchmark.pedantic(_report, args=(tmp_path / "r", cache), rounds=3, iterations=1)
    assert (out / "report.html").is_file()
    benchmark.extra_info["first_run_seconds"] = filled
    print(f"\nreport, warm (cached fit): {benchmark.stats.stats.min:.1f} s")
