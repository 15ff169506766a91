"""The limits of ``forecast/bounds.py``: messages, and the README table that states them."""

from __future__ import annotations

import numpy as np
import pytest

from forecast import InputError, bounds
from forecast.errors import DataError, Problem
from tests.helpers.paths import ROOT

README = ROOT / "README.md"


def shown(bound: bounds.Bound) -> set[str]:
    """How the README may write a bound's upper end (years without a thousands separator)."""
    if bound.high >= 1 << 20 and bound.high % (1 << 20) == 0 and "bytes" in bound.what:
        return {f"{bound.high >> 20} MiB"}
    return {f"{bound.high:,}", str(bound.high)}


@pytest.mark.parametrize("bound", bounds.BOUNDS, ids=[b.name for b in bounds.BOUNDS])
def test_every_bound_is_in_the_readme(bound) -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Output directories and limits") :]
    section = section[: section.index("\n## ", 3)]
    assert any(text in section for text in shown(bound))


@pytest.mark.parametrize("value", [0, 51, -1, 1.5, True, "3", None, 10**30])
def test_out_of_bounds_names_the_argument_range_and_value(value) -> None:
    with pytest.raises(InputError, match=r"horizon must be a whole number from 1 to 50 \("):
        bounds.FORECAST_HORIZON.check(value)


def test_numpy_integers_and_the_ends_are_allowed() -> None:
    assert bounds.SEED.check(np.int64(0)) == 0
    assert bounds.SEED.check(2**32 - 1) == 2**32 - 1
    assert bounds.DRAWS.check_optional(None) is None


def test_a_product_too_large_names_every_factor() -> None:
    with pytest.raises(InputError, match="scenarios 10 x draws 20,000 x years 90 = 18,000,000"):
        bounds.PROJECTION_CELLS.check_total("projection", scenarios=10, draws=20_000, years=90)


def test_problem_lists_are_capped_per_file_in_linear_time() -> None:
    problems = [Problem("a.csv", i, "bad") for i in range(100_000)] + [Problem("b.csv", 1, "x")]
    err = DataError(problems)
    assert len(err.problems) == bounds.MAX_PROBLEMS_PER_FILE + 2
    assert str(err.problems[-1]) == "a.csv: and 99950 more problem(s) in this file"
