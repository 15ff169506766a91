"""Property tests: the period parser and the loader never fail with anything but their errors."""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast import DataError, load_dataset, parse_period
from forecast.data import COLUMNS
from tests.helpers.datasets import write_dataset

years = st.integers(1900, 2100)
labels = st.one_of(
    years.map(str),
    st.tuples(years, st.integers(1, 4)).map(lambda t: f"{t[0]}-Q{t[1]}"),
    st.tuples(years, st.integers(1, 2)).map(lambda t: f"{t[0]}-H{t[1]}"),
)


@given(labels)
def test_valid_periods_round_trip(label: str) -> None:
    period = parse_period(label)
    assert period.label == label
    assert period.year <= period.decimal_year < period.year + 1
    assert 1 <= period.end_month <= 12


@given(st.text(max_size=12))
def test_any_text_parses_or_raises_value_error(text: str) -> None:
    try:
        period = parse_period(text)
    except ValueError:
        return
    assert period.label == text.strip()


@given(years, st.integers(1, 4), st.integers(1, 4))
def test_quarters_are_ordered(year: int, a: int, b: int) -> None:
    pa, pb = parse_period(f"{year}-Q{a}"), parse_period(f"{year}-Q{b}")
    assert (pa.decimal_year < pb.decimal_year) == (a < b)


cell = st.one_of(
    st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "2024", "2024-Q3", "test_share", "test_source", "reported", "-1", "1e9"]),
)
rows = st.lists(st.lists(cell, min_size=0, max_size=10), min_size=0, max_size=6)


def _fresh_dir() -> Path:
    base = Path(tempfile.mkdtemp(prefix="fuzz-"))
    return write_dataset(
        base / "data", {"test_share": {"2020": 0.5}}, units={"test_share": "share"}
    )


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(COLUMNS)), rows)
def test_loader_with_random_rows_raises_only_data_error(name: str, extra_rows) -> None:
    directory = _fresh_dir()
    try:
        with (directory / f"{name}.csv").open("a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(extra_rows)
        try:
            dataset = load_dataset(directory)
        except DataError as err:
            assert err.problems
            assert all(p.file and p.message for p in err.problems)
        else:
            assert not dataset.observations.empty
    finally:
        shutil.rmtree(directory.parent)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(COLUMNS)), st.binary(max_size=200))
def test_loader_with_random_bytes_raises_only_data_error(name: str, junk: bytes) -> None:
    directory = _fresh_dir()
    try:
        (directory / f"{name}.csv").write_bytes(junk)
        try:
            load_dataset(directory)
        except DataError as err:
            assert err.problems
    finally:
        shutil.rmtree(directory.parent)
